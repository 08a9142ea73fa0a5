"""Deviation and CAPA services: raise, investigate, conclude, close (QA for major/critical), CAPA flow."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from audit.context import audit_context
from audit.models import Signature
from mes.generated import GeneratedText
from mes.workflow import transition_apply
from quality.events import deviation_raised
from quality.models import (
    CAPA,
    CAPA_MACHINE,
    DEVIATION_MACHINE,
    CAPAKind,
    Deviation,
    DeviationClass,
    DeviationLink,
    DeviationSource,
)
from quality.models.common import next_number
from quality.models.deviations import CLASS_RANK
from quality.services.common import has_role, require

FAULT_DESCRIPTION = GeneratedText(gettext_noop("Fault %(n)s: %(text)s"))

# Stored in English, shown in the reader's language (mes.generated).
EQUIPMENT_FAULT_TITLE = GeneratedText(gettext_noop("Equipment fault during batch: %(eq)s"))


@dataclass(frozen=True)
class Link:
    """What a deviation concerns: `object_type` is "<app>.<model>" (for example "materials.lot")."""

    object_type: str
    object_id: str | int
    label: str = ""


def _as_link(value) -> Link:
    if isinstance(value, Link):
        return value
    if isinstance(value, dict):
        return Link(value["object_type"], value["object_id"], value.get("label", ""))
    if isinstance(value, (tuple, list)):
        return Link(*value)
    # a model instance
    meta = value._meta
    return Link(f"{meta.app_label}.{meta.model_name}", value.pk, str(value))


def link_for(obj) -> Link:
    """The link of a model instance (for callers that hold the record itself)."""
    return _as_link(obj)


def deviation_raise(
    *,
    user,
    title: str,
    description: str,
    source: str = DeviationSource.MANUAL,
    classification: str = DeviationClass.MINOR,
    links: Iterable = (),
) -> Deviation:
    """Open a deviation and link it to what it concerns.

    Called by hand (source "manual": the user needs the permission to raise deviations) or by another
    service that detected the problem (OOS, parameter out of range, yield, equipment fault, scans): then
    the acting user is whoever's action revealed it, and the calling service has already authorised that
    action, so no extra permission is needed to record the deviation it caused.
    """
    if source not in DeviationSource.values:
        raise ValueError(f"unknown deviation source {source!r}")
    if classification not in DeviationClass.values:
        raise ValidationError({"classification": _("Choose minor, major or critical.")})
    if source == DeviationSource.MANUAL:
        require(user, "quality.add_deviation", _("raise deviations"))
    if not (title or "").strip():
        raise ValidationError({"title": _("Give the deviation a short title.")})
    if not (description or "").strip():
        raise ValidationError({"description": _("Describe what happened.")})
    wanted = [_as_link(v) for v in links]
    with transaction.atomic():
        with audit_context(actor=user, action="quality.deviation.raise", reason=title.strip()):
            deviation = Deviation.objects.create(
                number=next_number("DEV"),
                title=title.strip()[:200],
                description=description.strip(),
                source=source,
                classification=classification,
                raised_by=user,
            )
            seen = set()
            for link in wanted:
                key = (link.object_type, str(link.object_id))
                if key in seen:
                    continue
                seen.add(key)
                DeviationLink.objects.create(
                    deviation=deviation,
                    object_type=link.object_type,
                    object_id=str(link.object_id),
                    label=(link.label or f"{link.object_type}#{link.object_id}")[:200],
                )
        deviation_raised.announce(deviation=deviation)  # e.g. reported to the QMS (outbox)
    return deviation


def deviation_link_add(*, user, deviation_id: int, link, reason: str = "") -> DeviationLink:
    """Link an open deviation to one more record (found affected during the investigation)."""
    require(user, "quality.investigate_deviation", _("investigate deviations"))
    link = _as_link(link)
    with transaction.atomic():
        deviation = Deviation.objects.select_for_update().get(pk=deviation_id)
        if not deviation.is_open:
            raise ValidationError(_("A closed deviation cannot be changed."))
        existing = deviation.links.filter(object_type=link.object_type, object_id=str(link.object_id)).first()
        if existing:
            return existing
        with audit_context(actor=user, action="quality.deviation.link", reason=reason):
            return DeviationLink.objects.create(
                deviation=deviation,
                object_type=link.object_type,
                object_id=str(link.object_id),
                label=(link.label or f"{link.object_type}#{link.object_id}")[:200],
            )


def deviation_investigate(
    *, user, deviation_id: int, password: str, reason: str = "", classification: str = ""
) -> Deviation:
    """Start the investigation (signed); the classification may change with the reason given.

    A downgrade (critical -> major -> minor) is QA's decision only; it is kept on the deviation
    (classification when raised, reason, who) so the batch review shows it.
    """
    changes: dict = {}
    if classification:
        if classification not in DeviationClass.values:
            raise ValidationError({"classification": _("Choose minor, major or critical.")})
        changes["classification"] = classification

    def guard(dev: Deviation) -> None:
        if not classification or classification == dev.classification:
            return
        if not (reason or "").strip():
            raise ValidationError(_("Give the reason for changing the classification."))
        if CLASS_RANK[classification] < CLASS_RANK[dev.classification] and not has_role(user, "qa"):
            raise ValidationError(_("Only QA may downgrade the classification of a deviation."))
        dev.original_classification = dev.original_classification or dev.classification
        dev.reclassification_reason = reason.strip()
        dev.reclassified_by = user

    return transition_apply(
        model=Deviation,
        pk=deviation_id,
        machine=DEVIATION_MACHINE,
        name="investigate",
        user=user,
        password=password,
        reason=reason,
        guard=guard,
        changes=changes,
    )


def deviation_conclude(
    *, user, deviation_id: int, root_cause: str, impact_assessment: str, password: str, reason: str = ""
) -> Deviation:
    """Record the root cause and the impact on affected batches and lots (signed); CAPA comes next."""
    if not (root_cause or "").strip():
        raise ValidationError({"root_cause": _("State the root cause found by the investigation.")})
    if not (impact_assessment or "").strip():
        raise ValidationError(
            {"impact_assessment": _("Assess the impact on the affected batches and lots (write “none” if none).")}
        )
    return transition_apply(
        model=Deviation,
        pk=deviation_id,
        machine=DEVIATION_MACHINE,
        name="conclude",
        user=user,
        password=password,
        reason=reason,
        changes={"root_cause": root_cause.strip(), "impact_assessment": impact_assessment.strip()},
    )


def deviation_investigators(deviation: Deviation) -> set[int]:
    """Who signed the start of the investigation or its root cause and impact."""
    return set(
        Signature.objects.filter(
            object_type="quality.deviation", object_id=str(deviation.pk), meaning__in=("reviewed", "authored")
        ).values_list("signer_id", flat=True)
    )


def deviation_close_problems(deviation: Deviation, user, *, justification: str = "") -> list[str]:
    """Why `user` may not close `deviation` now, in words (empty when closing is allowed)."""
    problems = []
    if user.pk in deviation_investigators(deviation):
        # Two people: whoever investigated does not approve the closure of their own investigation.
        problems.append(_("You investigated this deviation: someone else must approve its closure."))
    if deviation.needs_qa:
        # QC-11: a major or critical deviation is closed only with the QA manager's approval,
        # and never by the person who raised it.
        if not (has_role(user, "qa") and user.has_perm("quality.approve_major_deviation")):
            problems.append(
                _("A %(cls)s deviation can only be closed with the approval of the QA manager.")
                % {"cls": deviation.get_classification_display().lower()}
            )
        if deviation.raised_by_id == user.pk:
            problems.append(_("The person who raised this deviation cannot approve its closure."))
        if not deviation.capas.exists() and not (justification or "").strip():
            problems.append(
                _(
                    "A major or critical deviation needs at least one corrective or preventive action, or QA's"
                    " signed justification for closing without one."
                )
            )
    return problems


def deviation_close(
    *, user, deviation_id: int, closure_summary: str, password: str, reason: str = "", no_capa_justification: str = ""
) -> Deviation:
    """Close the deviation (signed) — never by who investigated it. Major and critical need the QA
    manager, not the raiser, and a CAPA or QA's justification for closing without one (signed here)."""
    if not (closure_summary or "").strip():
        raise ValidationError({"closure_summary": _("Summarise the outcome before closing.")})
    justification = (no_capa_justification or "").strip()

    def guard(dev: Deviation) -> None:
        problems = deviation_close_problems(dev, user, justification=justification)
        if problems:
            raise ValidationError(problems)
        if dev.needs_qa and not dev.capas.exists():
            dev.no_capa_justification = justification

    return transition_apply(
        model=Deviation,
        pk=deviation_id,
        machine=DEVIATION_MACHINE,
        name="close",
        user=user,
        password=password,
        reason=reason,
        guard=guard,
        changes={"closure_summary": closure_summary.strip(), "closed_by": user, "closed_at": timezone.now()},
    )


# --- CAPA ----------------------------------------------------------------------------------------


def capa_create(*, user, deviation_id: int | None, kind: str, action: str, owner, due_date: dt.date) -> CAPA:
    """A corrective or preventive action for a deviation (or stand-alone when deviation_id is None)."""
    require(user, "quality.add_capa", _("create corrective and preventive actions"))
    if kind not in CAPAKind.values:
        raise ValidationError({"kind": _("Choose corrective or preventive.")})
    if not (action or "").strip():
        raise ValidationError({"action": _("Describe the action to take.")})
    if owner is None or not owner.is_active:
        raise ValidationError({"owner": _("Choose an active person as owner.")})
    if due_date < timezone.localdate():
        raise ValidationError({"due_date": _("The due date cannot be in the past.")})
    with transaction.atomic():
        deviation = None
        if deviation_id:
            deviation = Deviation.objects.select_for_update().get(pk=deviation_id)
            if not deviation.is_open:
                raise ValidationError(_("The deviation is closed; raise a stand-alone CAPA instead."))
        with audit_context(actor=user, action="quality.capa.create"):
            return CAPA.objects.create(
                number=next_number("CAPA"),
                deviation=deviation,
                kind=kind,
                action=action.strip(),
                owner=owner,
                due_date=due_date,
                created_by=user,
            )


def _owner_only(user):
    def guard(capa: CAPA) -> None:
        if capa.owner_id != user.pk and not has_role(user, "qa"):
            raise ValidationError(_("Only the owner of this action (or QA) can report on it."))

    return guard


def capa_start(*, user, capa_id: int, reason: str = "") -> CAPA:
    return transition_apply(
        model=CAPA, pk=capa_id, machine=CAPA_MACHINE, name="start", user=user, reason=reason, guard=_owner_only(user)
    )


def capa_submit(*, user, capa_id: int, evidence: str, password: str, reason: str = "") -> CAPA:
    """The owner records the evidence the action was done and signs it; it goes to the effectiveness check."""
    if not (evidence or "").strip():
        raise ValidationError({"evidence": _("Record the evidence that the action was carried out.")})
    return transition_apply(
        model=CAPA,
        pk=capa_id,
        machine=CAPA_MACHINE,
        name="submit",
        user=user,
        password=password,
        reason=reason,
        guard=_owner_only(user),
        changes={"evidence": evidence.strip()},
    )


def capa_reopen(*, user, capa_id: int, reason: str) -> CAPA:
    """The effectiveness check failed: back to work, with the reason."""
    return transition_apply(model=CAPA, pk=capa_id, machine=CAPA_MACHINE, name="reopen", user=user, reason=reason)


def capa_close(*, user, capa_id: int, effectiveness: str, password: str, reason: str = "") -> CAPA:
    """QA confirms the action was effective (signed); the verifier is not the owner."""
    if not (effectiveness or "").strip():
        raise ValidationError({"effectiveness": _("Record how the effectiveness was checked.")})

    def guard(capa: CAPA) -> None:
        if capa.owner_id == user.pk:
            raise ValidationError(_("The owner of an action cannot verify its own effectiveness."))

    return transition_apply(
        model=CAPA,
        pk=capa_id,
        machine=CAPA_MACHINE,
        name="close",
        user=user,
        password=password,
        reason=reason,
        guard=guard,
        changes={"effectiveness": effectiveness.strip(), "closed_at": timezone.now()},
    )


def capa_owner_choices():
    """People who can own an action: active users with a role."""
    return get_user_model().objects.filter(is_active=True, groups__isnull=False).distinct().order_by("username")


__all__ = [
    "Link",
    "capa_close",
    "capa_create",
    "capa_reopen",
    "capa_start",
    "capa_submit",
    "deviation_close",
    "deviation_close_problems",
    "deviation_conclude",
    "deviation_investigate",
    "deviation_link_add",
    "deviation_raise",
    "link_for",
]


def deviation_raise_for_equipment_fault(*, user, fault):
    """When a fault is reported on equipment that is running a batch (equipment's `fault_reported`,
    see quality/subscribers.py).

    Opens a major deviation (source "equipment") linked to the equipment, the batch and the fault report,
    in the caller's transaction. `user` is None for an alarm from the plant (OPC UA).
    """
    equipment = fault.equipment
    links = [
        Link("equipment.equipment", equipment.pk, f"{equipment.code} {equipment.display_name}"),
        Link("equipment.faultreport", fault.pk, fault.number),
    ]
    if equipment.current_batch_id:
        links.append(Link("batches.batch", equipment.current_batch_id, str(equipment.current_batch)))
    return deviation_raise(
        user=user,
        title=EQUIPMENT_FAULT_TITLE(eq=equipment.code),
        description=FAULT_DESCRIPTION % {"n": fault.number, "text": fault.description},
        source=DeviationSource.EQUIPMENT,
        classification=DeviationClass.MAJOR,
        links=links,
    )


# Which field identifies a record that people type in (batch number, lot code, equipment code).
LINK_LOOKUP = {
    "batches.batch": "number",
    "materials.lot": "code",
    "equipment.equipment": "code",
}


def link_resolve(object_type: str, reference: str) -> Link:
    """Find the record a person typed (a batch number, lot code or equipment code) and return its link."""

    field = LINK_LOOKUP.get(object_type)
    reference = (reference or "").strip()
    try:
        model = apps.get_model(object_type) if field else None
    except LookupError:
        model = None
    if model is None:
        raise ValidationError(_("Records of this kind cannot be linked yet."))
    try:
        obj = model._base_manager.get(**{f"{field}__iexact": reference})
    except ObjectDoesNotExist:
        raise ValidationError(
            _("No %(kind)s with the number or code “%(ref)s” was found.")
            % {"kind": model._meta.verbose_name, "ref": reference}
        ) from None
    return Link(object_type, obj.pk, str(obj))
