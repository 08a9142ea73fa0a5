"""Training records: who is trained on which recipe version or SOP, until when (21 CFR 11.10(i))."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import router, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.context import audit_context
from audit.prepared import prepared_cursor
from mes.workflow import user_may
from orders.models import Recipe, RecipeStatus, TrainingRecord


def training_record_create(
    *,
    user,
    trainee,
    trained_on: dt.date,
    valid_until: dt.date,
    recipe: Recipe | None = None,
    sop_code: str = "",
    trainer: str = "",
) -> TrainingRecord:
    """Record that `trainee` was trained on a recipe version or an SOP."""
    if not user_may(user, "orders.add_trainingrecord"):
        raise PermissionDenied(_("You do not have permission to record training."))
    sop_code = (sop_code or "").strip()
    errors = {}
    if (recipe is None) == (not sop_code):
        errors["recipe"] = _("Name either a master batch record version or an SOP code, not both.")
    if trainee is None or not get_user_model().objects.filter(pk=trainee.pk, is_active=True).exists():
        errors["trainee"] = _("Choose an active user.")
    if trained_on and valid_until and valid_until < trained_on:
        errors["valid_until"] = _("“Valid until” cannot be before the training date.")
    if trained_on and trained_on > timezone.localdate():
        errors["trained_on"] = _("Training cannot be recorded before it happened.")
    if recipe is not None and recipe.status == RecipeStatus.RETIRED:
        errors["recipe"] = _("%(r)s is retired.") % {"r": recipe}
    if errors:
        raise ValidationError(errors)
    with transaction.atomic(), audit_context(actor=user, action="orders.trainingrecord.create"):
        return TrainingRecord.objects.create(
            trainee=trainee,
            recipe=recipe,
            sop_code=sop_code,
            trained_on=trained_on,
            valid_until=valid_until,
            trainer=trainer.strip(),
            recorded_by=user,
        )


def training_is_current(*, user, recipe: Recipe | None = None, sop_code: str = "", on: dt.date | None = None) -> bool:
    """Whether `user` holds valid training on this exact recipe version (or SOP) on the day `on`."""
    if user is None or not user.is_active or (recipe is None and not sop_code):
        return False
    day = on or timezone.localdate()
    # Plain SQL: every operator action asks it (BAT-3); the ORM's exists() cost more CPU to build than
    # the query costs to run. Read where the ORM would read (the request's database).
    column, value = ("recipe_id", recipe.pk) if recipe is not None else ("sop_code", sop_code)
    sql = (
        f"SELECT 1 FROM {TrainingRecord._meta.db_table} WHERE trainee_id = %s AND trained_on <= %s"
        f" AND valid_until >= %s AND {column} = %s LIMIT 1"
    )
    with prepared_cursor(router.db_for_read(TrainingRecord)) as cursor:  # planned once per connection
        cursor.execute(sql, [user.pk, day, day, value])
        return cursor.fetchone() is not None
