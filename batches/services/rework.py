"""Rework (issue 16): an approved rework disposition of a nonconforming lot becomes a rework batch.

The rework batch is an ordinary batch with its own eBR and signatures, made from the product's
effective *rework* master batch record (whose BOM lists the product itself). It is the only batch
the nonconforming lot may be issued to (materials.services.issue checks `Batch.rework_lot`); its
output is a new lot in quarantine, inspected by QC again, and linked in the genealogy to the
original lot through the batch (the issue edge in, the output lot out).
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from audit.context import audit_context
from audit.signatures import signature_check_password, signature_create
from batches.models import PREPARE, Batch
from batches.services import batch_assign_operators
from batches.services.hooks import quality_hook
from materials.models import StockBalance
from mes.generated import GeneratedText
from mes.models import Line
from mes.units import convert, quantity_text, unit_label
from mes.workflow import user_may
from orders.services.orders import _check_operators
from orders.services.recipes import effective_recipe

REWORK_REASON = GeneratedText(gettext_noop("Rework of lot %(lot)s under %(n)s"))

NONCONFORMING = ("rejected", "blocked")


def rework_recipe(product):
    """The product's effective rework master batch record, or None."""
    return effective_recipe(product, "rework")


def _require_starter(user) -> None:
    if not user_may(user, PREPARE):
        raise PermissionDenied(_("You do not have permission to start rework batches."))


def _lock_disposition(disposition_id: int):
    # The disposition is quality's record (quality sits above batches): its lock comes from there.
    disposition = quality_hook("rework_authority_lock")(disposition_id)
    if disposition.kind != "rework":
        raise ValidationError(_("Only a rework disposition leads to a rework batch."))
    if disposition.status != "approved":
        raise ValidationError(
            _("Disposition %(n)s is %(s)s: a rework batch starts only from an approved rework disposition.")
            % {"n": disposition.number, "s": disposition.get_status_display().lower()}
        )
    return disposition


def _rework_quantity(lot, recipe) -> Decimal:
    """All the lot's stock goes into the rework batch, within the rework record's validated batch size."""
    stock = StockBalance.objects.filter(lot=lot).aggregate(s=Sum("quantity"))["s"] or Decimal(0)
    if stock <= 0:
        raise ValidationError(_("Lot %(lot)s has no stock left to rework.") % {"lot": lot.code})
    standard = convert(recipe.batch_size, recipe.unit, lot.unit)
    if stock > standard:
        raise ValidationError(
            _("Lot %(lot)s holds %(q)s %(u)s, more than the rework batch size of %(std)s %(u)s.")
            % {"lot": lot.code, "q": quantity_text(stock), "u": unit_label(lot.unit), "std": quantity_text(standard)}
        )
    return stock


def _line_for(lot, recipe, line):
    """The given line, else the line that made the lot, else the first line with the rework's equipment."""
    if line is not None:
        return line
    if lot.produced_by_id and lot.produced_by.line_id:
        return lot.produced_by.line
    lines = Line.objects.filter(active=True).order_by("code")
    for cls in {s.equipment_class_id for s in recipe.steps.filter(removed=False) if s.equipment_class_id}:
        lines = lines.filter(equipment__equipment_class_id=cls)
    return lines.distinct().first()


def batch_create_rework(*, user, disposition_id: int, operators, password: str, line=None) -> Batch:
    """Start the rework batch of an approved rework disposition (signed by the supervisor).

    The batch reworks all the lot's stock with the effective rework master batch record; the
    disposition records its rework batch and is carried out. The batch then runs like any other:
    line clearance, ready, start, steps, completion with a new output lot for QC.
    """
    _require_starter(user)
    operators = list(operators)
    signature_check_password(user=user, password=password, purpose="batches.batch.create_rework")
    with transaction.atomic():
        disposition = _lock_disposition(disposition_id)
        lot = disposition.lot
        if lot.status not in NONCONFORMING:
            raise ValidationError(_("Lot %(lot)s is no longer nonconforming.") % {"lot": lot.code})
        recipe = rework_recipe(lot.material)
        if recipe is None:
            raise ValidationError(
                _("%(m)s has no effective rework master batch record: write one and have QA approve it first.")
                % {"m": lot.material.code}
            )
        quantity = _rework_quantity(lot, recipe)
        _check_operators(operators)
        n = Batch.objects.filter(rework_lot=lot).count() + 1
        reason = REWORK_REASON % {"lot": lot.code, "n": disposition.number}
        with audit_context(actor=user, action="batches.batch.create_rework", reason=reason):
            batch = Batch.objects.create(
                number=f"{lot.code}-RW{n}"[:40],
                product=lot.material,
                line=_line_for(lot, recipe, line),
                planned_quantity=quantity,
                unit=lot.unit,
                recipe=recipe,
                rework_lot=lot,
            )
        batch_assign_operators(user=user, batch=batch, operators=operators)
        signature_create(
            signer=user, obj=batch, meaning="approved", reason=reason, action="batches.batch.create_rework"
        )
        quality_hook("rework_started")(user=user, disposition_id=disposition.pk, batch=batch, reason=reason)
        return batch


def rework_of(batch: Batch):
    """The disposition a rework batch carries out (None for a production batch)."""
    if not batch.rework_lot_id:
        return None
    return batch.rework_dispositions.select_related("lot").first()
