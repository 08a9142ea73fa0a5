"""Receivers: security alerts on repeated authentication failures, the retention guard on every
database connection, and refusal of account deletion (usernames are never reused)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in
from django.db import transaction
from django.db.backends.signals import connection_created
from django.db.models.signals import pre_delete
from django.dispatch import receiver

from administration.password_change import remember_at_login
from administration.retention import on_write_refused
from administration.services.alerts import on_authentication_failed
from audit.gmp import AuditBypassError
from audit.refusals import install_refusal_hooks, write_refused
from audit.services import audit_record
from audit.signatures import SESSION_KEY
from mes.models import UserSecurity
from mes.security import authentication_failed

connection_created.connect(install_refusal_hooks, dispatch_uid="audit.refusal_hooks")
write_refused.connect(on_write_refused, dispatch_uid="administration.write_refused")


@receiver(authentication_failed, sender=UserSecurity, dispatch_uid="administration.alert_failures")
def _alert_on_failures(sender, **kwargs):
    on_authentication_failed(**kwargs)


def _refuse(entry_point: str, user=None) -> None:
    with transaction.atomic():
        audit_record(
            action="retention.delete_refused",
            object_type="auth.user",
            object_id=str(getattr(user, "pk", "") or ""),
            object_repr=user.get_username() if user is not None else "",
            new={"entry_point": entry_point},
            reason="user accounts are deactivated, never deleted",
        )
    raise AuditBypassError("User accounts are never deleted (their names are never reused); deactivate them.")


def _refuse_account_delete(self, *args, **kwargs):
    """user.delete(): refused before Django opens its deletion transaction, so the refusal is kept."""
    _refuse("orm-instance", self)


# Accounts are never deleted: the instance method is replaced (auth.User is Django's model, so it
# cannot be subclassed here); bulk deletes meet the pre_delete receiver and the database trigger.
get_user_model().delete = _refuse_account_delete


@receiver(pre_delete, sender=get_user_model(), dispatch_uid="administration.no_user_delete")
def _refuse_user_delete(sender, instance, **kwargs):
    _refuse("orm-queryset", instance)


@receiver(user_logged_in, dispatch_uid="administration.signing_session")
def _new_signing_session(sender, request, user, **kwargs):
    """A log-in starts a new continuous session: its first signature needs the user ID again."""
    session = getattr(request, "session", None)
    if session is not None:
        session.pop(SESSION_KEY, None)


@receiver(user_logged_in, dispatch_uid="administration.password_change_required")
def _password_change_required(sender, request, user, **kwargs):
    """A person whose password an administrator set is sent to the change form from every page."""
    if request is not None:
        remember_at_login(request, user)
