"""Lock-out after repeated failed log-ins or signature attempts."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.dispatch import Signal
from django.utils import timezone

from audit.prepared import prepared_cursor
from audit.services import audit_record
from audit.signatures import AccountGuard
from mes.config import config_get_or_default
from mes.models import UserSecurity

# Sent after each counted failure (user, kind "login"/"signature", attempts, locked, newly_locked), so
# the administration app can alert administrators at once (21 CFR 11.300(d)).
authentication_failed = Signal()


def lockout_threshold() -> int:
    """The controlled configuration value (CFG-1); settings.MES_LOCKOUT_THRESHOLD until one is approved."""
    return config_get_or_default("auth.lockout_threshold", settings.MES_LOCKOUT_THRESHOLD)


def signature_full_first() -> bool:
    """21 CFR 11.200(a): the first signing of a session needs the user ID as well (CFG-1 parameter)."""
    return config_get_or_default("auth.signature_full_first", settings.MES_SIGNATURE_FULL_FIRST)


def security_is_locked(user) -> bool:
    """Whether the account is locked. Asked on every request (the session's user is loaded through the
    lock-out-aware backend) and at every signature: plain SQL on the primary, because building the
    ORM's exists() cost several times the query itself."""
    with prepared_cursor() as cursor:
        cursor.execute(
            f"SELECT 1 FROM {UserSecurity._meta.db_table} WHERE user_id = %s AND locked_at IS NOT NULL LIMIT 1",
            [user.pk],
        )
        return cursor.fetchone() is not None


def security_register_failure(*, username: str, kind: str) -> bool:
    """Count one failed attempt for `username`; lock the account at the threshold. True if locked."""
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        return False
    with transaction.atomic():
        sec, _ = UserSecurity.objects.select_for_update().get_or_create(user=user)
        sec.failed_attempts += 1
        sec.last_failure_at = timezone.now()
        newly_locked = sec.locked_at is None and sec.failed_attempts >= lockout_threshold()
        if newly_locked:
            sec.locked_at = sec.last_failure_at
            audit_record(
                action="auth.account_locked",
                actor=None,
                object_type="auth.user",
                object_id=str(user.pk),
                object_repr=username,
                new={"failed_attempts": sec.failed_attempts, "last_kind": kind},
            )
        sec.save()
    authentication_failed.send(
        sender=UserSecurity,
        user=user,
        kind=kind,
        attempts=sec.failed_attempts,
        locked=sec.locked_at is not None,
        newly_locked=newly_locked,
    )
    return sec.locked_at is not None


def security_register_success(*, user, kind: str) -> None:
    """A successful log-in or signature ends the run of failures (plain SQL: every signature runs it, and
    the ORM's update cost more CPU to build than to run). Skipped for the session's user when the
    request began with no failure counted (`mes.auth_backends` reads it with the user): a failure
    counted by another request since then is kept, which errs toward locking, never away from it."""
    if getattr(user, "mes_failing", True) is False:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {UserSecurity._meta.db_table} SET failed_attempts = 0"
            " WHERE user_id = %s AND locked_at IS NULL AND failed_attempts <> 0",
            [user.pk],
        )


def account_unlock(*, actor, user, reason: str) -> None:
    """An administrator unlocks an account (audited, with reason)."""
    with transaction.atomic():
        sec = UserSecurity.objects.select_for_update().filter(user=user).first()
        if sec is None or sec.locked_at is None:
            return
        sec.locked_at = None
        sec.failed_attempts = 0
        sec.save()
        audit_record(
            action="auth.account_unlocked",
            actor=actor,
            object_type="auth.user",
            object_id=str(user.pk),
            object_repr=user.get_username(),
            reason=reason,
        )


# What the audit package's signatures and log-in audit ask of this service (audit sits below mes);
# registered by MesConfig.ready().
ACCOUNT_GUARD = AccountGuard(
    is_locked=security_is_locked,
    register_failure=security_register_failure,
    register_success=security_register_success,
    signature_full_first=signature_full_first,
)
