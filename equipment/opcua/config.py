"""Wiring equipment to OPC UA: the standard tag set, and the simulator built from the same rows,
so the simulated node ids always match what the poller reads."""

from __future__ import annotations

from audit.context import audit_context
from equipment.models import Equipment, EquipmentTag
from equipment.opcua.simulator import DEFAULT_TAGS, SimEquipment, SimTag, default_equipment, node_id

LABELS = {
    "state": "Machine state",
    "alarm": "Alarm",
    "alarm_code": "Alarm code",
    "good_count": "Good count",
    "reject_count": "Reject count",
    "temperature": "Temperature",
    "pressure": "Pressure",
    "speed": "Speed",
}


def tags_configure(
    equipment: Equipment, endpoint: str, *, extra_process_tags: int = 0, user=None
) -> list[EquipmentTag]:
    """Give an equipment the standard simulator tag set on `endpoint` (idempotent)."""
    with audit_context(actor=user, action="equipment.tags.configure", reason="OPC UA tag configuration"):
        if equipment.opcua_endpoint != endpoint:
            equipment.opcua_endpoint = endpoint
            equipment.save()
        existing = {t.key: t for t in equipment.tags.all()}
        tags = []
        specs = [(k, kind, unit, low, high) for k, kind, unit, _sp, low, high, _n in DEFAULT_TAGS]
        specs += [(f"pv{i:02d}", "process", "", 10.0, 90.0) for i in range(1, extra_process_tags + 1)]
        for key, kind, unit, low, high in specs:
            tag = existing.get(key)
            if tag is None:
                deadband = {"temperature": 0.2, "pressure": 0.005, "speed": 0.5}.get(
                    key, 0.0 if kind != "process" else 0.2
                )
                tag = EquipmentTag.objects.create(
                    equipment=equipment,
                    key=key,
                    label=LABELS.get(key, key.upper()),
                    node_id=node_id(equipment.code, key),
                    kind=kind,
                    unit=unit,
                    deadband=deadband,
                    low_limit=low,
                    high_limit=high,
                )
            tags.append(tag)
    return tags


def simulated_equipment(endpoint: str) -> list[SimEquipment]:
    """The simulator's plant: every equipment configured on `endpoint`, with exactly its node ids."""
    result = []
    qs = Equipment.objects.filter(opcua_endpoint=endpoint, active=True).prefetch_related("tags").order_by("code")
    for eq in qs:
        sim = default_equipment(eq.code, rate_per_min=float(eq.ideal_rate_per_min or 100))
        sim.tags = {}
        defaults = {k: (sp, noise) for k, _kind, _u, sp, _lo, _hi, noise in DEFAULT_TAGS}
        for tag in eq.tags.all():
            if not tag.active:
                continue
            sp, noise = defaults.get(tag.key, (None, 0.0))
            if tag.kind == "process" and sp is None and tag.low_limit is not None and tag.high_limit is not None:
                sp, noise = (tag.low_limit + tag.high_limit) / 2, (tag.high_limit - tag.low_limit) / 100
            sim.tags[tag.key] = SimTag(
                tag.key,
                tag.kind,
                tag.node_id,
                sp,
                tag.low_limit,
                tag.high_limit,
                noise,
                value=sp if sp is not None else (1 if tag.kind == "state" else 0),
            )
        if sim.tags:
            result.append(sim)
    return result
