"""Demo master batch records, orders in every state, batches and training (for `seed_demo`).

Everything goes through the services, so the demo carries real signatures and audit events:
the supervisor authors recipes, QA approves them, the planner creates orders, the supervisor
approves and releases them.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

from django.utils import timezone

from equipment.models import EquipmentClass
from materials.models import Material
from mes.models import Line
from mes.seed import DEMO_PASSWORD, demo_user
from orders.models import OrderStatus, ProductionOrder, Recipe, RecipeStatus, TrainingRecord
from orders.services import (
    order_approve,
    order_create,
    order_create_batches,
    order_release,
    order_return,
    order_start,
    order_submit,
    recipe_approve,
    recipe_bom_line_save,
    recipe_check_save,
    recipe_create,
    recipe_make_effective,
    recipe_new_version,
    recipe_parameter_save,
    recipe_step_save,
    recipe_submit,
    training_record_create,
)
from orders.services.orders import default_batch_count

SEED_ORDER = 30
PW = DEMO_PASSWORD

# step: (number, title, title_zh, instruction, instruction_zh, equipment class, minutes, verifier,
#        [parameters: (name, name_zh, unit, target, min, max, critical, tag)],
#        [checks: (kind, question, question_zh, expected, unit, lo, hi)])
DISPENSE = (
    10,
    "Dispensing",
    "称量配料",
    "Dispense each material of the bill of materials on the calibrated balance. Scan each lot; the "
    "second person verifies net weight and lot against the batch.",
    "按物料清单在已校准的天平上逐一称量。扫描每个批号；第二人复核净重和批号。",
    "DISP",
    45,
    True,
    [],
    [
        (
            "question",
            "Balance daily check done and within limits?",
            "天平日常校准已完成且在限度内？",
            "Yes",
            "",
            None,
            None,
        )
    ],
)

RECIPES = {
    "IM-GRN-500": {
        "title": "Metformin 500 mg wet granulation",
        "batch_size": D("200"),
        "unit": "kg",
        "yield": (D("98"), D("95"), D("100")),
        "bom": [
            ("RM-API-001", D("170"), "kg", D("0.5"), True),
            ("RM-EXC-010", D("20"), "kg", D("1"), True),
            ("RM-EXC-020", D("8"), "kg", D("1"), True),
            ("RM-SOL-001", D("40"), "L", D("5"), False),
        ],
        "steps": [
            DISPENSE,
            (
                20,
                "Wet granulation",
                "湿法制粒",
                "Dry-mix API and MCC for 3 min at low impeller speed. Add the povidone binder solution over 4 min, "
                "then granulate to end-point.",
                "原料与微晶纤维素低速干混3分钟。4分钟内加入聚维酮粘合剂溶液，制粒至终点。",
                "GRAN",
                40,
                True,
                [
                    (
                        "Impeller speed",
                        "搅拌桨转速",
                        "rpm",
                        D("120"),
                        D("100"),
                        D("140"),
                        True,
                        "ns=2;s=GRAN-101.speed",  # the demo granulator's speed tag on the OPC UA simulator
                    ),
                    (
                        "Chopper speed",
                        "切刀转速",
                        "rpm",
                        D("1500"),
                        D("1400"),
                        D("1600"),
                        False,
                        "ns=2;s=GRAN01.Chopper.Speed",
                    ),
                    ("Wet massing time", "湿混时间", "min", D("5"), D("4"), D("6"), True, ""),
                ],
                [
                    (
                        "question",
                        "Granule end-point reached (ball test)?",
                        "制粒终点已达到（握团试验）？",
                        "Yes",
                        "",
                        None,
                        None,
                    )
                ],
            ),
            (
                30,
                "Fluid-bed drying",
                "流化床干燥",
                "Dry the wet granules until the loss on drying is within limits.",
                "干燥湿颗粒至干燥失重符合限度。",
                "FBD",
                60,
                False,
                [
                    (
                        "Inlet air temperature",
                        "进风温度",
                        "°C",
                        D("60"),
                        D("55"),
                        D("65"),
                        True,
                        "ns=2;s=FBD01.Inlet.Temp",
                    ),
                    (
                        "Product temperature",
                        "物料温度",
                        "°C",
                        D("40"),
                        D("35"),
                        D("45"),
                        False,
                        "ns=2;s=FBD01.Product.Temp",
                    ),
                ],
                [("measured", "Loss on drying", "干燥失重", "", "%", D("0.5"), D("2.0"))],
            ),
        ],
    },
    "IM-TAB-500": {
        "title": "Metformin 500 mg blending and compression",
        "batch_size": D("200"),
        "unit": "kg",
        "yield": (D("98.5"), D("96"), D("100")),
        "bom": [("IM-GRN-500", D("198"), "kg", D("0.5"), True), ("RM-EXC-030", D("2"), "kg", D("1"), True)],
        "steps": [
            DISPENSE,
            (
                20,
                "Final blending",
                "总混",
                "Add magnesium stearate to the granules in the bin and blend.",
                "将硬脂酸镁加入料斗中的颗粒并混合。",
                "BLND",
                20,
                False,
                [
                    ("Blend time", "混合时间", "min", D("10"), D("9"), D("11"), True, ""),
                    ("Bin speed", "料斗转速", "rpm", D("12"), D("10"), D("14"), False, "ns=2;s=BLND01.Speed"),
                ],
                [("question", "Blend visually uniform, no lumps?", "混合均匀，无结块？", "Yes", "", None, None)],
            ),
            (
                30,
                "Compression",
                "压片",
                "Set up the press with the 19 x 9 mm capsule tooling and compress. "
                "Check tablet weight, hardness and appearance every 30 minutes.",
                "安装19 x 9 mm胶囊形冲模并压片。每30分钟检查片重、硬度和外观。",
                "TPRS",
                240,
                True,
                [
                    (
                        "Main compression force",
                        "主压力",
                        "kN",
                        D("18"),
                        D("15"),
                        D("21"),
                        True,
                        "ns=2;s=TP01.MainForce",
                    ),
                    ("Turret speed", "转台转速", "rpm", D("40"), D("30"), D("50"), False, "ns=2;s=TP01.Turret.Speed"),
                ],
                [
                    ("measured", "Average tablet weight", "平均片重", "", "mg", D("950"), D("1050")),
                    ("measured", "Hardness", "硬度", "", "N", D("100"), D("160")),
                    ("measured", "Friability", "脆碎度", "", "%", None, D("1.0")),
                ],
            ),
        ],
    },
    "FG-MET-500": {
        "title": "Metformin 500 mg blister packaging, 30s",
        "batch_size": D("6000"),
        "unit": "pcs",
        "yield": (D("99"), D("97"), D("100")),
        "bom": [
            ("IM-TAB-500", D("180"), "kg", D("0.5"), True),
            ("PK-BLS-001", D("90"), "kg", D("2"), True),
            ("PK-CTN-001", D("6050"), "pcs", D("0"), True),
        ],
        "steps": [
            (
                10,
                "Line clearance",
                "清场",
                "Remove all material, labels and documents of the previous product. QA-trained second person verifies.",
                "清除上一产品的所有物料、标签和文件。第二人复核。",
                None,
                20,
                True,
                [],
                [
                    (
                        "question",
                        "Line clear of previous product and labels?",
                        "生产线已无上一产品及标签？",
                        "Yes",
                        "",
                        None,
                        None,
                    )
                ],
            ),
            (
                20,
                "Blister packaging",
                "泡罩包装",
                "Form, fill and seal blisters of 10 tablets; print lot and expiry.",
                "成型、充填、热封10片/板泡罩；打印批号和有效期。",
                "BLST",
                300,
                True,
                [
                    (
                        "Forming temperature",
                        "成型温度",
                        "°C",
                        D("130"),
                        D("120"),
                        D("140"),
                        True,
                        "ns=2;s=BL01.Forming.Temp",
                    ),
                    (
                        "Sealing temperature",
                        "热封温度",
                        "°C",
                        D("170"),
                        D("160"),
                        D("180"),
                        True,
                        "ns=2;s=BL01.Sealing.Temp",
                    ),
                    (
                        "Machine speed",
                        "机器速度",
                        "blisters/min",
                        D("200"),
                        D("150"),
                        D("250"),
                        False,
                        "ns=2;s=BL01.Speed",
                    ),
                ],
                [
                    ("question", "Leak test passed?", "泄漏试验通过？", "Yes", "", None, None),
                    (
                        "question",
                        "Printed lot and expiry correct and legible?",
                        "打印的批号和有效期正确清晰？",
                        "Yes",
                        "",
                        None,
                        None,
                    ),
                ],
            ),
            (
                30,
                "Cartoning and reconciliation",
                "装盒及物料平衡",
                "Pack 3 blisters per carton and reconcile the printed cartons.",
                "每盒装3板并对印刷纸盒进行物料平衡。",
                None,
                60,
                False,
                [],
                [("measured", "Printed carton reconciliation", "印刷纸盒物料平衡", "", "%", D("98"), D("100"))],
            ),
        ],
    },
}


def _build(recipe: Recipe, spec: dict, supervisor) -> None:
    # Every material is dispensed in the first step: that step is signed only once they are issued.
    first_step = min(step[0] for step in spec["steps"])
    for pos, (code, qty, unit, tol, verify) in enumerate(spec["bom"], start=1):
        recipe_bom_line_save(
            user=supervisor,
            recipe_id=recipe.pk,
            position=pos,
            material=Material.objects.get(code=code),
            quantity=qty,
            unit=unit,
            tolerance_pct=tol,
            weigh_and_verify=verify,
            step_number=first_step,
        )
    for number, title, title_zh, text, text_zh, eq, minutes, verifier, params, checks in spec["steps"]:
        step = recipe_step_save(
            user=supervisor,
            recipe_id=recipe.pk,
            number=number,
            title=title,
            title_zh=title_zh,
            instruction=text,
            instruction_zh=text_zh,
            equipment_class=EquipmentClass.objects.filter(code=eq).first() if eq else None,
            duration_minutes=minutes,
            performer_signature=True,
            verifier_signature=verifier,
            allow_parallel=False,
        )
        for name, name_zh, unit, target, lo, hi, critical, tag in params:
            recipe_parameter_save(
                user=supervisor,
                recipe_id=recipe.pk,
                step_id=step.pk,
                name=name,
                name_zh=name_zh,
                unit=unit,
                target=target,
                minimum=lo,
                maximum=hi,
                critical=critical,
                equipment_tag=tag,
            )
        for n, (kind, question, question_zh, expected, unit, lo, hi) in enumerate(checks, start=1):
            recipe_check_save(
                user=supervisor,
                recipe_id=recipe.pk,
                step_id=step.pk,
                number=n,
                kind=kind,
                question=question,
                question_zh=question_zh,
                expected_answer=expected,
                unit=unit,
                lower_limit=lo,
                upper_limit=hi,
            )


def _effective(recipe: Recipe, supervisor, qa) -> Recipe:
    recipe_submit(user=supervisor, recipe_id=recipe.pk, password=PW)
    recipe_approve(user=qa, recipe_id=recipe.pk, password=PW, reason="Reviewed against the process validation report")
    return recipe_make_effective(user=qa, recipe_id=recipe.pk, password=PW)


def seed_recipes(supervisor, qa) -> None:
    for code, spec in RECIPES.items():
        product = Material.objects.get(code=code)
        if Recipe.objects.filter(product=product).exists():
            continue
        expected, lo, hi = spec["yield"]
        v1 = recipe_create(
            user=supervisor,
            product=product,
            title=spec["title"],
            batch_size=spec["batch_size"],
            unit=spec["unit"],
            expected_yield=expected,
            yield_min=lo,
            yield_max=hi,
            description="Process validated in 3 consecutive batches.",
        )
        _build(v1, spec, supervisor)
        _effective(v1, supervisor, qa)
    _seed_versions(supervisor, qa)
    seed_rework_recipes(supervisor, qa)


# The rework master batch record of the granules (issue 16): a nonconforming lot of granules is taken
# back in, milled and sieved again, then dried to the moisture limit. Approved like any process.
REWORK = {
    "IM-GRN-500": {
        "title": "Metformin granules — rework: re-mill, re-sieve and re-dry",
        "batch_size": D("200"),
        "unit": "kg",
        "yield": (D("97"), D("90"), D("100")),
        "bom": [("IM-GRN-500", D("200"), "kg", D("1"), True)],
        "steps": [
            (
                10,
                "Re-mill and re-sieve",
                "重新整粒过筛",
                "Take the whole nonconforming lot back in (scan its label). Mill through the 1.0 mm screen and "
                "sieve; lumps larger than 2 mm are not allowed.",
                "扫描不合格批的标签，将整批物料投入。用1.0毫米筛网整粒并过筛；不得有大于2毫米的团块。",
                "",
                40,
                True,
                [],
                [("question", "Screen intact after sieving?", "过筛后筛网是否完好？", "Yes", "", None, None)],
            ),
            (
                20,
                "Re-dry",
                "重新干燥",
                "Dry in the fluid-bed dryer to a loss on drying of 1.0–3.0 %.",
                "在流化床干燥机中干燥至干燥失重1.0–3.0%。",
                "FBD",
                45,
                False,
                [("Loss on drying", "干燥失重", "%", D("2.0"), D("1.0"), D("3.0"), True, "")],
                [],
            ),
        ],
    }
}


def seed_rework_recipes(supervisor, qa) -> None:
    """The effective rework master batch records (so an approved rework disposition can be carried out)."""
    for code, spec in REWORK.items():
        product = Material.objects.get(code=code)
        if Recipe.objects.filter(product=product, purpose="rework").exists():
            continue
        expected, lo, hi = spec["yield"]
        recipe = recipe_create(
            user=supervisor, product=product, title=spec["title"], batch_size=spec["batch_size"], unit=spec["unit"],
            expected_yield=expected, yield_min=lo, yield_max=hi, purpose="rework",
            description="Rework validated on 3 nonconforming lots (report PV-RW-007).",
        )  # fmt: skip
        _build(recipe, spec, supervisor)
        _effective(recipe, supervisor, qa)


def _seed_versions(supervisor, qa) -> None:
    """Version 2 of each product in a different state: effective (v1 superseded), in review, draft."""
    fg = Recipe.objects.get(product__code="FG-MET-500", version=1)
    if not Recipe.objects.filter(product=fg.product, version=2).exists():
        v2 = recipe_new_version(user=supervisor, recipe_id=fg.pk)
        step = v2.steps.get(number=20)
        param = step.parameters.get(name="Sealing temperature")
        recipe_parameter_save(
            user=supervisor,
            recipe_id=v2.pk,
            step_id=step.pk,
            parameter_id=param.pk,
            target=D("175"),
            minimum=D("165"),
            maximum=D("185"),
        )
        _effective(v2, supervisor, qa)
    grn = Recipe.objects.get(product__code="IM-GRN-500", version=1)
    if not Recipe.objects.filter(product=grn.product, version=2).exists():
        v2 = recipe_new_version(user=supervisor, recipe_id=grn.pk)
        step = v2.steps.get(number=20)
        param = step.parameters.get(name="Wet massing time")
        recipe_parameter_save(
            user=supervisor,
            recipe_id=v2.pk,
            step_id=step.pk,
            parameter_id=param.pk,
            target=D("6"),
            minimum=D("5"),
            maximum=D("7"),
        )
        recipe_submit(user=supervisor, recipe_id=v2.pk, password=PW, reason="Longer wet massing after PQ study")
    tab = Recipe.objects.get(product__code="IM-TAB-500", version=1)
    if not Recipe.objects.filter(product=tab.product, version=2).exists():
        v2 = recipe_new_version(user=supervisor, recipe_id=tab.pk)
        step = v2.steps.get(number=30)
        param = step.parameters.get(name="Turret speed")
        recipe_parameter_save(
            user=supervisor, recipe_id=v2.pk, step_id=step.pk, parameter_id=param.pk, target=D("45"), maximum=D("55")
        )


# (product, quantity, unit, line, days from today, final state, ERP reference)
ORDERS = [
    ("FG-MET-500", D("18000"), "pcs", "P1", -1, "in_progress", "ERP-PLAN-24001"),
    ("FG-MET-500", D("12000"), "pcs", "P1", 2, "released", "ERP-PLAN-24002"),
    ("IM-TAB-500", D("400"), "kg", "L1", 1, "released", "ERP-PLAN-24003"),
    ("IM-GRN-500", D("400"), "kg", "L2", 3, "approved", "ERP-PLAN-24004"),
    ("FG-MET-500", D("6000"), "pcs", "P1", 4, "submitted", "ERP-PLAN-24005"),
    ("IM-TAB-500", D("200"), "kg", "L1", 5, "submitted", ""),
    ("IM-GRN-500", D("200"), "kg", "L2", 6, "returned", ""),
    ("FG-MET-500", D("6000"), "pcs", "P1", 8, "draft", ""),
    ("IM-GRN-500", D("600"), "kg", "L1", 9, "draft", ""),
]


def seed_orders(planner, supervisor) -> int:
    if ProductionOrder.objects.exists():
        return 0
    operators = [demo_user("operator"), demo_user("operator2")]
    today = timezone.localtime().replace(hour=6, minute=0, second=0, microsecond=0)
    for code, qty, unit, line, days, state, erp in ORDERS:
        start = today + dt.timedelta(days=days)
        order = order_create(
            user=planner,
            product=Material.objects.get(code=code),
            planned_quantity=qty,
            unit=unit,
            planned_start=start,
            planned_end=start + dt.timedelta(hours=20),
            line=Line.objects.get(code=line),
            erp_reference=erp,
            operators_required=2,
            priority=2 if days < 3 else 3,
        )
        _advance(order, state, planner, supervisor, operators)
    return len(ORDERS)


def _advance(order, state: str, planner, supervisor, operators) -> None:
    if state == "draft":
        return
    order_submit(user=planner, order_id=order.pk, password=PW)
    if state == "submitted":
        return
    if state == "returned":
        order_return(
            user=supervisor,
            order_id=order.pk,
            password=PW,
            reason="Line L2 is booked for cleaning validation that week; please move the start.",
        )
        return
    order_approve(user=supervisor, order_id=order.pk, password=PW, reason="Resources checked")
    if state == "approved":
        return
    order_release(user=supervisor, order_id=order.pk, password=PW)
    order.refresh_from_db()
    order_create_batches(user=supervisor, order_id=order.pk, count=_batch_count(order), operators=operators)
    if state == OrderStatus.IN_PROGRESS:
        order_start(user=supervisor, order_id=order.pk)


def _batch_count(order) -> int:
    return default_batch_count(order)


def seed_training(supervisor) -> None:
    if TrainingRecord.objects.exists():
        return
    today = timezone.localdate()
    for username in ("operator", "operator2"):
        trainee = demo_user(username)
        for recipe in Recipe.objects.filter(status=RecipeStatus.EFFECTIVE):
            training_record_create(
                user=supervisor,
                trainee=trainee,
                recipe=recipe,
                trained_on=today - dt.timedelta(days=20),
                valid_until=today + dt.timedelta(days=345),
                trainer="Wei Zhang",
            )
        training_record_create(
            user=supervisor,
            trainee=trainee,
            sop_code="SOP-PRD-001",
            trainer="QA training team",
            trained_on=today - dt.timedelta(days=200),
            valid_until=today + dt.timedelta(days=165),
        )
    # An expired record, so the page shows what "expired" looks like.
    training_record_create(
        user=supervisor,
        trainee=demo_user("operator2"),
        sop_code="SOP-CLN-004",
        trainer="QA training team",
        trained_on=today - dt.timedelta(days=400),
        valid_until=today - dt.timedelta(days=35),
    )


def seed(stdout) -> None:
    supervisor, qa, planner = demo_user("supervisor"), demo_user("qa"), demo_user("planner")
    seed_recipes(supervisor, qa)
    seed_training(supervisor)
    count = seed_orders(planner, supervisor)
    stdout.write(
        f"  orders: {Recipe.objects.count()} recipe versions, {count} new orders, "
        f"{TrainingRecord.objects.count()} training records"
    )
