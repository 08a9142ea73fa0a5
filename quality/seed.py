"""Demo quality data: effective specifications for the demo materials, deviations and CAPAs in several states."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

from django.utils import timezone

from audit.context import audit_context
from equipment.models import Equipment
from materials.models import Material
from mes.demo_accounts import DEMO_PASSWORD
from mes.seed import demo_user
from quality import services
from quality.models import CAPA, Deviation, Specification
from quality.seed_evidence import lot_release_on_evidence
from quality.seed_lots import seed_inspections, seed_nonconforming, seed_release, seed_rework

SEED_ORDER = 60

N, PF, TX = "numeric", "pass_fail", "text"
# material, inspection type, title, [(name, name_zh, method, kind, unit, lo, hi, acceptance)]
SPECS = [
    (
        "RM-API-001",
        "incoming",
        "Metformin HCl API — incoming specification (Ph. Eur.)",
        [
            ("Appearance", "性状", "Visual", TX, "", None, None, "White crystalline powder"),
            ("Identification (IR)", "鉴别（红外）", "Ph. Eur. 2.2.24", PF, "", None, None, "Conforms to reference"),
            ("Assay", "含量", "HPLC QC-M-011", N, "%", D("98.5"), D("101.0"), ""),
            ("Loss on drying", "干燥失重", "Ph. Eur. 2.2.32", N, "%", None, D("0.5"), ""),
        ],
    ),
    (
        "RM-EXC-010",
        "incoming",
        "Microcrystalline cellulose — incoming",
        [
            ("Identification", "鉴别", "Ph. Eur. MCC", PF, "", None, None, ""),
            ("Loss on drying", "干燥失重", "Ph. Eur. 2.2.32", N, "%", None, D("7.0"), ""),
        ],
    ),
    (
        "RM-EXC-030",
        "incoming",
        "Magnesium stearate — incoming",
        [
            ("Identification", "鉴别", "Ph. Eur.", PF, "", None, None, ""),
            ("Magnesium content", "镁含量", "Titration QC-M-031", N, "%", D("4.0"), D("5.0"), ""),
        ],
    ),
    (
        "PK-BLS-001",
        "incoming",
        "PVC/Alu blister foil — incoming",
        [
            ("Appearance and print", "外观及印刷", "Visual vs. master", TX, "", None, None, "Matches approved artwork"),
            ("Foil thickness", "箔厚度", "Micrometer", N, "µm", D("18"), D("22"), ""),
        ],
    ),
    (
        "IM-GRN-500",
        "intermediate",
        "Metformin granules — intermediate",
        [
            ("Loss on drying", "干燥失重", "Halogen moisture analyser", N, "%", D("1.0"), D("3.0"), ""),
            ("Bulk density", "松密度", "Ph. Eur. 2.9.34", N, "g/mL", D("0.45"), D("0.65"), ""),
        ],
    ),
    (
        "IM-TAB-500",
        "intermediate",
        "Metformin 500 mg tablets (bulk) — intermediate",
        [
            ("Average weight", "平均片重", "20 tablets", N, "mg", D("570"), D("630"), ""),
            ("Hardness", "硬度", "Tablet tester", N, "N", D("80"), D("140"), ""),
            ("Friability", "脆碎度", "Ph. Eur. 2.9.7", N, "%", None, D("1.0"), ""),
            ("Disintegration", "崩解时限", "Ph. Eur. 2.9.1", N, "min", None, D("15"), ""),
        ],
    ),
    (
        "FG-MET-500",
        "finished",
        "Metformin HCl 500 mg tablets — finished product release",
        [
            ("Appearance", "性状", "Visual", TX, "", None, None, "White, round, film-coated, debossed “M500”"),
            ("Assay", "含量", "HPLC QC-M-012", N, "%", D("95.0"), D("105.0"), ""),
            ("Dissolution (30 min)", "溶出度（30 分钟）", "Ph. Eur. 2.9.3", N, "%", D("80"), None, ""),
            ("Related substances (total)", "有关物质（总）", "HPLC QC-M-013", N, "%", None, D("0.5"), ""),
            ("Microbial limits", "微生物限度", "Ph. Eur. 2.6.12", PF, "", None, None, "Complies"),
        ],
    ),
]


def _seed_specs() -> int:
    return seed_effective_specs() + _seed_spec_in_review()


def seed_effective_specs() -> int:
    """The demo's approved specifications (idempotent; written before the first demo lot is released)."""
    qc, qa = demo_user("qc"), demo_user("qa")
    made = 0
    for code, itype, title, items in SPECS:
        material = Material.objects.filter(code=code).first()
        if material is None or Specification.objects.filter(material=material, inspection_type=itype).exists():
            continue
        spec = services.spec_create(
            user=qc, material=material, inspection_type=itype, title=title, reference=f"SPEC-{code}"
        )
        for n, (name, name_zh, method, kind, unit, lo, hi, acc) in enumerate(items, start=1):
            services.spec_item_save(
                user=qc,
                spec_id=spec.pk,
                sequence=n * 10,
                name=name,
                name_zh=name_zh,
                method=method,
                kind=kind,
                unit=unit,
                lower_limit=lo,
                upper_limit=hi,
                acceptance=acc,
            )
        services.spec_submit(user=qc, spec_id=spec.pk, password=DEMO_PASSWORD)
        services.spec_approve(user=qa, spec_id=spec.pk, password=DEMO_PASSWORD, reason="approved for use")
        made += 1
    return made


def release_demo_lot(*, lot, qc, qa, password: str, reason: str = ""):
    """Release a demo lot on evidence (registered in materials.seed at ready()): the demo's own
    specifications are written first, so the lot is tested against them rather than a generic one."""
    seed_effective_specs()
    return lot_release_on_evidence(lot=lot, qc=qc, qa=qa, password=password, reason=reason)


def _seed_spec_in_review() -> int:
    """One new version waiting for the QA manager's approval (the lots stay judged by the effective one)."""
    qc, made = demo_user("qc"), 0
    povidone = Material.objects.filter(code="RM-EXC-020").first()
    if povidone and not Specification.objects.filter(material=povidone, reference="SPEC-RM-EXC-020").exists():
        spec = services.spec_create(
            user=qc,
            material=povidone,
            inspection_type="incoming",
            title="Povidone K30 — incoming",
            reference="SPEC-RM-EXC-020",
        )
        services.spec_item_save(
            user=qc,
            spec_id=spec.pk,
            sequence=10,
            name="K-value",
            name_zh="K 值",
            method="Ph. Eur.",
            kind=N,
            unit="",
            lower_limit=D("27.0"),
            upper_limit=D("32.4"),
            acceptance="",
        )
        services.spec_submit(user=qc, spec_id=spec.pk, password=DEMO_PASSWORD)
        made += 1
    return made


def _equipment_links(code: str) -> list:
    eq = Equipment.objects.filter(code=code).first()
    return [("equipment.equipment", eq.pk, f"{eq.code} {eq.name}")] if eq else []


def _investigated(*, by, investigator, reason: str = "", **fields) -> Deviation:
    """A deviation raised by `by` whose investigation `investigator` has started (signed)."""
    deviation = services.deviation_raise(user=by, **fields)
    services.deviation_investigate(user=investigator, deviation_id=deviation.pk, password=DEMO_PASSWORD, reason=reason)
    return deviation


def _concluded(*, by, investigator, root_cause: str, impact: str, **fields) -> Deviation:
    """A deviation investigated and concluded (root cause and impact signed): CAPA comes next."""
    deviation = _investigated(by=by, investigator=investigator, **fields)
    services.deviation_conclude(
        user=investigator,
        deviation_id=deviation.pk,
        root_cause=root_cause,
        impact_assessment=impact,
        password=DEMO_PASSWORD,
    )
    return deviation


def _capa(*, by, deviation, kind: str, action: str, owner, due_in_days: int, started=False, evidence="") -> CAPA:
    """An action created by `by`; its owner may have started it, and signed its evidence."""
    capa = services.capa_create(
        user=by,
        deviation_id=deviation.pk,
        kind=kind,
        action=action,
        owner=owner,
        due_date=timezone.localdate() + dt.timedelta(days=due_in_days),
    )
    if started or evidence:
        services.capa_start(user=owner, capa_id=capa.pk)
    if evidence:
        services.capa_submit(user=owner, capa_id=capa.pk, evidence=evidence, password=DEMO_PASSWORD)
    return capa


def _seed_deviations() -> int:
    if Deviation.objects.exists():
        return 0
    qc, qa, sup, op, maint = (demo_user(u) for u in ("qc", "qa", "supervisor", "operator", "maintenance"))
    # 1. Freshly raised by an operator: waiting for QC/QA to start the investigation.
    services.deviation_raise(
        user=op,
        title="Torn label on drum of magnesium stearate at dispensing",
        description="Drum 2 of 3: the status label is torn; lot code still readable. Drum set aside.",
        classification="minor",
    )
    # 2. Equipment fault, under investigation (major).
    d2 = _investigated(
        by=sup,
        investigator=qc,
        reason="start",
        title="Tablet press TPRS-101 stopped twice on overload during compression",
        description="Compression stopped at 10:42 and 11:15 (main pressure overload). Tablets since 10:30 segregated.",
        source="equipment",
        classification="major",
        links=_equipment_links("TPRS-101"),
    )
    # 3. OOS at CAPA stage with an action in progress: waits for the QA manager's closure.
    d3 = _concluded(
        by=qc,
        investigator=qc,
        title="Assay out of specification on metformin granules",
        description="Assay result 94.1 % against 95.0 – 105.0 %. Laboratory investigation phase I found no lab error.",
        source="oos",
        classification="major",
        root_cause="Blend uniformity: granulation end-point reached early (impeller load sensor drift).",
        impact="One granulation sub-lot affected; compressed tablets of that sub-lot quarantined.",
    )
    _capa(
        by=qc,
        deviation=d3,
        kind="corrective",
        action="Recalibrate the impeller load sensor of granulator GRAN-01 and re-verify the end-point.",
        owner=maint,
        due_in_days=7,
        started=True,
    )
    _capa(
        by=qc,
        deviation=d3,
        kind="preventive",
        action="Add the load-sensor check to the weekly preventive maintenance of all granulators.",
        owner=sup,
        due_in_days=30,
    )
    # 4. Closed minor deviation with its action verified.
    d4 = _concluded(
        by=maint,
        investigator=qc,
        title="Balance daily check done 20 minutes late",
        description="Daily check of balance DISP-BAL-02 was recorded at 08:20 instead of before first use at 08:00.",
        classification="minor",
        root_cause="Shift hand-over: checklist not handed over.",
        impact="None: no weighing before the check.",
    )
    c4 = _capa(
        by=qc,
        deviation=d4,
        kind="corrective",
        action="Brief both shifts on the daily check before first use.",
        owner=sup,
        due_in_days=3,
        evidence="Briefing record TR-2026-118, 14 signatures.",
    )
    services.capa_close(user=qa, capa_id=c4.pk, effectiveness="No late check in 4 weeks.", password=DEMO_PASSWORD)
    services.deviation_close(  # QA approves the closure: QC investigated it (two people)
        user=qa, deviation_id=d4.pk, closure_summary="Closed: briefing effective.", password=DEMO_PASSWORD
    )
    # 5. An action waiting for QA's effectiveness check, and one overdue.
    _capa(
        by=qa,
        deviation=d2,
        kind="corrective",
        action="Replace the worn upper punch set of TPRS-101 and record the change in the logbook.",
        owner=maint,
        due_in_days=2,
        evidence="Punch set PS-0457 fitted; logbook entry made.",
    )
    c6 = _capa(
        by=qa,
        deviation=d2,
        kind="preventive",
        action="Review the overload alarm limits of all tablet presses.",
        owner=maint,
        due_in_days=1,
    )
    # Demo only: back-date one due date so the overdue list has an entry (audited with its reason).
    c6 = CAPA.objects.get(pk=c6.pk)
    c6.due_date = timezone.localdate() - dt.timedelta(days=5)
    with audit_context(actor=qa, action="quality.capa.seed_backdate", reason="demo data: overdue example"):
        c6.save()
    return Deviation.objects.count()


def seed(stdout) -> None:
    specs = _seed_specs()
    devs = _seed_deviations()
    inspections = seed_inspections()
    dispositions = seed_nonconforming() + seed_rework()
    releases = seed_release()
    stdout.write(
        f"  quality: {specs} specifications, {devs} deviations with CAPAs, {inspections} inspections, "
        f"{dispositions} dispositions, {releases} batch releases"
    )
