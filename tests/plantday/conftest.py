"""The plant before the day starts (master data only), and the real peers of the day: an OPC UA
simulator, an SMTP server and the ERP's API account. Everything that happens during the day is done
by the demo users in the browser (tests/plantday/steps.py)."""

from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal

import pytest
from django.utils import timezone

from audit.context import audit_context
from mes.demo_accounts import DEMO_PASSWORD
from tests.browser_fixtures import ARTIFACTS

PLANT_DAY_ARTIFACTS = ARTIFACTS / "plant-day"
SPECS_USED = ("RM-API-001", "RM-EXC-010", "IM-GRN-500")


def pytest_terminal_summary(terminalreporter):
    """Tell CI where the screenshots of the day are (kept as a build artifact)."""
    if PLANT_DAY_ARTIFACTS.exists() and any(PLANT_DAY_ARTIFACTS.glob("*.png")):
        count = len(list(PLANT_DAY_ARTIFACTS.glob("*.png")))
        terminalreporter.write_sep("-", "plant day screenshots")
        terminalreporter.write_line(f"{count} screenshots in {PLANT_DAY_ARTIFACTS}")


# --- master data ------------------------------------------------------------------------------
def _seed_master() -> None:
    from equipment.seed import seed_classes
    from materials.seed import seed_master
    from mes.seed import seed_plant

    seed_plant()
    seed_classes()
    seed_master()


def _approve_specs(users) -> None:
    """The demo specifications of the materials of the day, approved (QC writes, QA approves)."""
    from materials.models import Material
    from quality import services
    from quality.seed import SPECS

    for code, itype, title, items in SPECS:
        if code not in SPECS_USED:
            continue
        spec = services.spec_create(
            user=users["qc"], material=Material.objects.get(code=code), inspection_type=itype, title=title
        )
        for n, (name, name_zh, method, kind, unit, lo, hi, acc) in enumerate(items, start=1):
            services.spec_item_save(
                user=users["qc"], spec_id=spec.pk, sequence=n * 10, name=name, name_zh=name_zh, method=method,
                kind=kind, unit=unit, lower_limit=lo, upper_limit=hi, acceptance=acc,
            )  # fmt: skip
        services.spec_submit(user=users["qc"], spec_id=spec.pk, password=DEMO_PASSWORD)
        services.spec_approve(user=users["qa"], spec_id=spec.pk, password=DEMO_PASSWORD)


def _recipe(users):
    """The small granulation recipe of the batch tests, plus two temperatures read from the machines."""
    from orders import services as s
    from tests.orders.conftest import build_recipe, make_effective

    sup = users["supervisor"]
    recipe = build_recipe(sup)
    granulation, drying = recipe.steps.get(number=10), recipe.steps.get(number=20)
    # The Chinese texts the shared builder leaves out, so the Chinese screens are Chinese throughout.
    s.recipe_step_save(user=sup, recipe_id=recipe.pk, step_id=drying.pk, title_zh="干燥", instruction_zh="干燥。")
    s.recipe_parameter_save(
        user=sup, recipe_id=recipe.pk, step_id=granulation.pk,
        parameter_id=granulation.parameters.get().pk, name_zh="搅拌桨转速",
    )  # fmt: skip
    s.recipe_check_save(
        user=sup, recipe_id=recipe.pk, step_id=granulation.pk, check_id=granulation.checks.get().pk,
        question_zh="是否已达到终点？",
    )  # fmt: skip
    for number, name, name_zh, target in ((10, "Product temperature", "物料温度", "45"),
                                          (20, "Inlet air temperature", "进风温度", "50")):  # fmt: skip
        s.recipe_parameter_save(
            user=sup, recipe_id=recipe.pk, step_id=recipe.steps.get(number=number).pk,
            name=name, name_zh=name_zh, unit="°C", target=Decimal(target), minimum=Decimal(target) - 10,
            maximum=Decimal(target) + 10, critical=False, equipment_tag="temperature",
        )  # fmt: skip
    return make_effective(recipe, sup, users["qa"])


def _dirty_equipment(users, endpoint: str) -> dict:
    """GRAN-01 and FBD-01 wired to the OPC UA endpoint, left dirty by yesterday's batch."""
    from batches.models import Batch
    from equipment.opcua.config import tags_configure
    from equipment.services import equipment_end_use, equipment_start_use
    from materials.models import Material
    from tests.batches.conftest import make_equipment

    with audit_context(action="test.setup"):
        yesterday = Batch.objects.create(
            number="B-YESTERDAY", product=Material.objects.get(code="IM-GRN-500"),
            planned_quantity=Decimal("200"), unit="kg",
        )  # fmt: skip
    made = {}
    for code, cls in (("GRAN-01", "GRAN"), ("FBD-01", "FBD")):
        eq = make_equipment(code, cls)
        tags_configure(eq, endpoint)
        equipment_start_use(equipment=eq, batch=yesterday, user=users["operator"])
        made[code] = equipment_end_use(equipment=eq, user=users["operator"])
    return made


def _train(users, recipe) -> None:
    from orders.services.training import training_record_create

    for name in ("operator", "operator2"):
        training_record_create(
            user=users["supervisor"], trainee=users[name], recipe=recipe,
            trained_on=timezone.localdate() - dt.timedelta(days=30),
            valid_until=timezone.localdate() + dt.timedelta(days=335),
        )  # fmt: skip


def _rework_master(users) -> None:
    """The granules' rework master batch record (trained) and their incoming specification, for the
    bought-in granules of the day's rework loop."""
    from materials.models import Material
    from quality.seed_evidence import ensure_effective_spec
    from tests.batches.rework import build_rework_recipe

    build_rework_recipe(users)
    granules = Material.objects.get(code="IM-GRN-500")
    ensure_effective_spec(granules, "incoming", qc=users["qc"], qa=users["qa"], password=DEMO_PASSWORD)


@pytest.fixture
def opcua_endpoint():
    from equipment.opcua.simulator import free_port

    return f"opc.tcp://127.0.0.1:{free_port()}/mes/plant-day"


@pytest.fixture
def plant_day(transactional_db, users, opcua_endpoint):
    """{recipe, equipment, erp_token}: the plant's master data the evening before."""
    from integrations.services import integration_account_create

    shutil.rmtree(PLANT_DAY_ARTIFACTS, ignore_errors=True)  # only this run's screens in the artifact
    _seed_master()
    _approve_specs(users)
    recipe = _recipe(users)
    _train(users, recipe)
    _rework_master(users)
    equipment = _dirty_equipment(users, opcua_endpoint)
    _account, token = integration_account_create(
        actor=users["admin"], username="erp-link", system="erp", roles=["planner"]
    )
    return {"recipe": recipe, "equipment": equipment, "erp_token": token}


# --- the real peers -----------------------------------------------------------------------------
@pytest.fixture
def opcua_simulator(plant_day, opcua_endpoint):
    """A real asyncua server serving the tags configured on the day's equipment."""
    from equipment.opcua.config import simulated_equipment
    from equipment.opcua.link import reset_links
    from equipment.opcua.simulator import Simulator, SimulatorThread
    from equipment.services.monitoring import forget_memory

    forget_memory()
    reset_links()
    sim = SimulatorThread(Simulator(simulated_equipment(opcua_endpoint), opcua_endpoint, seed=11))
    sim.start()
    yield sim
    reset_links()
    forget_memory()
    sim.close()


@pytest.fixture
def smtp_inbox(smtp):
    """The loopback SMTP server (tests/mail.py) under the plant day's name for it."""
    return smtp
