"""Master data of the equipment app (equipment, classes, checklists, OPC UA tags), as the admin edits it."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.utils.translation import gettext as _

from audit.context import audit_context
from equipment.models import Equipment
from equipment.services.qualification import refuse_qualification_edit
from mes.changecontrol import master_data_check


def master_data_save(*, user, obj: models.Model, reason: str = "") -> models.Model:
    """Create or change a master-data record with its audit event. State fields stay with the workflow
    (GMPModel refuses a status edited by hand)."""

    if isinstance(obj, Equipment):
        refuse_qualification_edit(obj)
    master_data_check(obj)  # controlled fields change only through an approved change request
    verb = "add" if obj._state.adding else "change"
    perm = f"{obj._meta.app_label}.{verb}_{obj._meta.model_name}"
    if not user.has_perm(perm):
        raise PermissionDenied(_("You do not have permission to change this master data."))
    action = f"{obj._meta.app_label}.{obj._meta.model_name}.{'create' if verb == 'add' else 'update'}"
    with transaction.atomic(), audit_context(actor=user, action=action, reason=reason or _("master data maintenance")):
        obj.save()
    return obj
