"""Qualification status of equipment (IQ/OQ/PQ): set only here, signed by QA (EQP, Annex 15).

The Django admin shows the qualification fields read-only and the master-data service refuses a
change to them, so an administrator cannot declare equipment qualified (or not) with only a reason.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from audit.context import audit_context
from audit.models import SignatureMeaning
from audit.signatures import signature_check_password, signature_create
from equipment.models import Equipment, QualificationStatus
from mes.workflow import user_may

QUALIFY = "equipment.qualify_equipment"
QUALIFICATION_FIELDS = ("qualification_status", "qualified_on", "requalification_due_on")


def equipment_qualification_set(
    *,
    user,
    equipment_id: int,
    status: str,
    qualified_on: dt.date | None,
    requalification_due_on: dt.date | None,
    password: str,
    reason: str,
) -> Equipment:
    """Record the equipment's qualification status and dates, signed by QA with a reason."""
    if not user_may(user, QUALIFY):
        raise PermissionDenied(_("Only QA can change the qualification status of equipment."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Give the reason for this change."))
    if status not in QualificationStatus.values:
        raise ValidationError(_("Unknown qualification status."))
    if status == QualificationStatus.QUALIFIED and qualified_on is None:
        raise ValidationError(_("Give the date of the qualification."))
    signature_check_password(user=user, password=password, purpose="equipment.qualification")
    with transaction.atomic():
        eq = Equipment.objects.select_for_update().get(pk=equipment_id)
        eq.qualification_status = status
        eq.qualified_on = qualified_on
        eq.requalification_due_on = requalification_due_on
        with audit_context(actor=user, action="equipment.equipment.qualification", reason=reason):
            eq.save()
            meaning = (
                SignatureMeaning.APPROVED if status == QualificationStatus.QUALIFIED else SignatureMeaning.REJECTED
            )
            signature_create(signer=user, obj=eq, meaning=meaning, reason=reason, action="equipment.qualification")
    return eq


def refuse_qualification_edit(obj) -> None:
    """For the master-data path: the qualification fields are never set there. Equipment registered
    there starts not qualified, until QA signs its qualification."""
    if obj._state.adding:
        obj.qualification_status = QualificationStatus.NOT_QUALIFIED
        obj.qualified_on = obj.requalification_due_on = None
        return
    stored = Equipment.objects.filter(pk=obj.pk).values(*QUALIFICATION_FIELDS).first() or {}
    if any(stored.get(name) != getattr(obj, name) for name in QUALIFICATION_FIELDS):
        raise PermissionDenied(_("The qualification status changes only through QA's signed qualification record."))
