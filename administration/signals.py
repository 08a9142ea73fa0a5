"""Receivers: security alerts on repeated authentication failures, the retention guard on every
database connection, and refusal of account deletion (usernames are never reused)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in
from django.db.backends.signals import connection_created
from django.db.models.signals import pre_delete
from django.dispatch import receiver

from administration.retention import install_guard
from mes.models import UserSecurity
from mes.security import authentication_failed

connection_created.connect(install_guard, dispatch_uid="administration.retention_guard")


@receiver(authentication_failed, sender=UserSecurity, dispatch_uid="administration.alert_failures")
def _alert_on_failures(sender, **kwargs):
    from administration.services.alerts import on_authentication_failed

    on_authentication_failed(**kwargs)


@receiver(pre_delete, sender=get_user_model(), dispatch_uid="administration.no_user_delete")
def _refuse_user_delete(sender, instance, **kwargs):
    from audit.gmp import AuditBypassError
    from audit.services import audit_record

    audit_record(
        action="retention.delete_refused",
        obj=instance,
        new={"entry_point": "orm"},
        reason="user accounts are deactivated, never deleted",
    )
    raise AuditBypassError("User accounts are never deleted (their names are never reused); deactivate them.")


@receiver(user_logged_in, dispatch_uid="administration.signing_session")
def _new_signing_session(sender, request, user, **kwargs):
    """A log-in starts a new continuous session: its first signature needs the user ID again."""
    from audit.signatures import SESSION_KEY

    session = getattr(request, "session", None)
    if session is not None:
        session.pop(SESSION_KEY, None)
