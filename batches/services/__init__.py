"""Batch services. The orders app creates batches from released orders through this module
(registered in `orders.batching` at ready()).

Batch execution (a later issue) adds the eBR and the batch transitions here.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from guardian.shortcuts import assign_perm

from audit.context import audit_context
from audit.services import audit_record
from batches.models import Batch
from mes.workflow import object_permission_holders

EXECUTE = "batches.execute_batch"


def batch_create_from_order(*, user, order, sequence: int, number: str, quantity: Decimal, operators) -> Batch:
    """Create one planned batch of a released order, with its assigned operators (ORD-6, BAT-1).

    The caller (orders.services.order_create_batches) has locked the order and checked the split;
    the batch number is unique by database constraint as well.
    """
    with transaction.atomic(), audit_context(actor=user, action="batches.batch.create_from_order"):
        batch = Batch.objects.create(
            number=number,
            product=order.product,
            line=order.line,
            planned_quantity=quantity,
            unit=order.unit,
            order=order,
            recipe=order.recipe,
            sequence=sequence,
        )
        batch_assign_operators(user=user, batch=batch, operators=operators)
    return batch


def batch_assign_operators(*, user, batch: Batch, operators) -> None:
    """Grant each operator the object permission to execute this batch, one audit event each."""
    with transaction.atomic():
        for operator in operators:
            assign_perm(EXECUTE, operator, batch)
            audit_record(
                action="batches.batch.assign_operator",
                actor=user,
                obj=batch,
                new={"operator": operator.get_username(), "permission": EXECUTE},
            )


def batch_operators(batches) -> dict[int, list]:
    """{batch id: [users who may execute it]} for a list of batches, in two queries."""
    return object_permission_holders(batches, EXECUTE.split(".")[1])


from batches.services.execution import (  # noqa: E402
    EntryConflict,
    batch_complete,
    entry_record,
    machine_reading,
    require_executor,
    step_blockers,
    step_code,
    step_complete,
    step_needs_verification,
    step_outline,
    step_sign,
    step_start,
    step_verify,
)
from batches.services.preparation import (  # noqa: E402
    batch_bom_lines,
    batch_line_clearance_sign,
    batch_mark_ready,
    batch_preparation,
    batch_start,
    recipe_snapshot,
)
from batches.services.review import (  # noqa: E402
    batch_approve_review,
    batch_archive,
    batch_exceptions,
    batch_executors,
    batch_on_qc_release,
    batch_on_release,
    batch_record_review_problems,
    batch_reject,
    batch_request_correction,
    batch_resubmit,
    batch_review_start,
    batch_unsigned_steps,
    entry_correct,
    exception_dispose,
)
from batches.services.rework import batch_create_rework, rework_of, rework_recipe  # noqa: E402

__all__ = [
    "EXECUTE",
    "EntryConflict",
    "batch_approve_review",
    "batch_archive",
    "batch_assign_operators",
    "batch_bom_lines",
    "batch_complete",
    "batch_create_from_order",
    "batch_create_rework",
    "batch_exceptions",
    "batch_executors",
    "batch_line_clearance_sign",
    "batch_mark_ready",
    "batch_operators",
    "batch_preparation",
    "batch_on_qc_release",
    "batch_on_release",
    "batch_record_review_problems",
    "batch_reject",
    "batch_unsigned_steps",
    "batch_request_correction",
    "batch_resubmit",
    "batch_review_start",
    "batch_start",
    "entry_correct",
    "entry_record",
    "exception_dispose",
    "machine_reading",
    "recipe_snapshot",
    "rework_of",
    "rework_recipe",
    "step_needs_verification",
    "require_executor",
    "step_blockers",
    "step_outline",
    "step_code",
    "step_complete",
    "step_sign",
    "step_start",
    "step_verify",
]
