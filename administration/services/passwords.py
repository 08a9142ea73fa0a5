"""Passwords an administrator set must be replaced by their owner before the account signs.

An administrator who creates an account or resets its password knows that password. Until the
person sets a new one of their own, the account is marked: every page leads to the change form
(administration.middleware), and audit.signatures refuses any signature — so any approval — with
a clear message. The person's own change clears the mark. Every step is audited; the password
itself is stored only as Django's salted hash (never in the audit trail or the history).
"""

from __future__ import annotations

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from administration.models import PasswordState
from audit.context import audit_context
from audit.services import audit_record


def password_must_change(user) -> bool:
    """True while the account's password was last set by an administrator."""
    if user is None or not getattr(user, "pk", None):
        return False
    # Plain SQL on the primary: every signature asks it; the ORM's exists() cost more CPU to build than to run.
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT 1 FROM {PasswordState._meta.db_table} WHERE user_id = %s AND must_change LIMIT 1", [user.pk]
        )
        return cursor.fetchone() is not None


def password_signing_refusal(user) -> str | None:
    """Registered with audit.signatures: an administrator-set password cannot sign or approve."""
    if password_must_change(user):
        return _(
            "Your password was set by an administrator: set a new password of your own before you "
            "sign or approve anything."
        )
    return None


def password_mark_set_by_admin(*, actor, user, reason: str) -> PasswordState:
    """Inside the caller's transaction: the account must set a new password at its next log-in."""
    state = PasswordState.objects.select_for_update().filter(user=user).first() or PasswordState(user=user)
    state.must_change = True
    state.set_by = actor
    state.set_at = timezone.now()
    with audit_context(actor=actor, action="auth.user.password_must_change", reason=reason):
        state.save()
    return state


def password_change_own(*, user, old_password: str, new_password: str) -> None:
    """The person sets a new password of their own (the old one proves it is them); clears the mark."""
    if not user.check_password(old_password or ""):
        raise ValidationError(_("The current password is not correct."))
    if old_password == new_password:
        raise ValidationError(_("Choose a password different from the one the administrator set."))
    validate_password(new_password, user)
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        state = PasswordState.objects.select_for_update().filter(user=user).first() or PasswordState(user=user)
        state.must_change = False
        state.set_by = user
        state.set_at = timezone.now()
        with audit_context(actor=user, action="auth.user.password_changed_by_owner", reason=""):
            state.save()
        audit_record(
            action="auth.user.password_changed_by_owner",
            actor=user,
            object_type="auth.user",
            object_id=str(user.pk),
            object_repr=user.get_username(),
        )
