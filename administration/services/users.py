"""User lifecycle: create, deactivate, reactivate (never delete), roles (signed) and object scopes.

Segregation of duties binds the administrator (services/roles.py): nobody grants a role to
themselves; GMP roles and the administrator role are granted only when a second person approves
the request; incompatible pairs are refused. A password an administrator sets (new account or
reset) must be replaced by its owner before the account can sign (services/passwords.py).

Every change is audited (audit/signals.py records user fields, role membership and object-level
grants; these services add the reason). Role changes are e-signed by the administrator, bound to
a record of the user's roles. A username is never reused: accounts are never deleted (a database
trigger refuses it) and a new name that differs from an existing one only by case is refused.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from guardian.models import UserObjectPermission
from guardian.shortcuts import assign_perm, remove_perm

from administration.services.passwords import password_mark_set_by_admin
from administration.services.roles import (
    APPROVAL_ROLES,
    refuse_self_grant,
    role_request_create,
    roles_check_compatible,
)
from audit.canonical import canonical_json, sha256_hex
from audit.context import audit_context
from audit.models import SignatureMeaning
from audit.services import audit_record
from audit.signatures import signature_check_password, signature_create
from mes.languages import user_language
from mes.models import UserPreference
from mes.roles import ROLES
from mes.workflow import user_may

User = get_user_model()
MANAGE = "administration.manage_users"


def _require_admin(user) -> None:
    if not user_may(user, MANAGE):
        raise PermissionDenied(_("Only a system administrator can manage users."))


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Give the reason for this change."))
    return reason


def user_create(
    *,
    actor,
    username: str,
    first_name: str,
    last_name: str,
    email: str,
    password: str,
    roles: list[str],
    reason: str,
):
    """Create an account. Roles outside APPROVAL_ROLES are granted at once; the others become role
    requests a second person approves. The person must replace the initial password at first log-in.
    Refuses a username used before (in any letter case)."""
    _require_admin(actor)
    reason = _reason(reason)
    username = (username or "").strip()
    if not username:
        raise ValidationError(_("Enter a user name."))
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError(
            _("The user name “%(name)s” is or was in use; user names are never reused.") % {"name": username}
        )
    _check_roles(roles)
    roles_check_compatible(roles)
    candidate = User(username=username, first_name=first_name, last_name=last_name, email=email)
    validate_password(password, candidate)
    with transaction.atomic():
        with audit_context(actor=actor, action="auth.user.create", reason=reason):
            user = User.objects.create_user(
                username=username, email=email, password=password, first_name=first_name, last_name=last_name
            )
            user.groups.set(Group.objects.filter(name__in=[r for r in roles if r not in APPROVAL_ROLES]))
        password_mark_set_by_admin(actor=actor, user=user, reason=reason)
        for role in sorted(set(roles) & APPROVAL_ROLES):
            role_request_create(actor=actor, user_id=user.pk, role=role, reason=reason)
    return user


def _check_roles(roles) -> None:
    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        raise ValidationError(_("Unknown roles: %(roles)s.") % {"roles": ", ".join(unknown)})


def user_deactivate(*, actor, user_id: int, reason: str):
    """Deactivate an account: the person can no longer log in or sign. Records stay attributed."""
    _require_admin(actor)
    reason = _reason(reason)
    if actor.pk == user_id:
        raise ValidationError(_("You cannot deactivate your own account."))
    return _set_active(actor, user_id, False, reason)


def user_reactivate(*, actor, user_id: int, reason: str):
    """Reactivate an account (the same username, the same history)."""
    _require_admin(actor)
    return _set_active(actor, user_id, True, _reason(reason))


def _set_active(actor, user_id: int, active: bool, reason: str):
    action = "auth.user.reactivate" if active else "auth.user.deactivate"
    with transaction.atomic(), audit_context(actor=actor, action=action, reason=reason):
        user = User.objects.select_for_update().get(pk=user_id)
        if user.is_active == active:
            raise ValidationError(_("The account is already in that state."))
        user.is_active = active
        user.save(update_fields=["is_active"])
        audit_record(action=action, actor=actor, obj=user, new={"is_active": active}, reason=reason)
    if not active:
        _end_sessions(user)
    return user


def _end_sessions(user) -> None:
    """A deactivated user's open sessions end now, not at their next time-out."""

    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if str(session.get_decoded().get("_auth_user_id")) == str(user.pk):
            session.delete()


@dataclass
class RoleAssignment:
    """What a role-change signature binds to: the account and its roles after the change."""

    user: Any
    roles: list[str]

    @property
    def pk(self):
        return self.user.pk

    class _meta:  # noqa: N801 - the signature code labels records by app_label.model_name
        app_label = "auth"
        model_name = "user_roles"

    def content_hash(self) -> str:
        return sha256_hex(canonical_json({"user": self.user.pk, "username": self.user.username, "roles": self.roles}))

    def __str__(self) -> str:
        return f"{self.user.username}: {', '.join(self.roles) or '-'}"


def user_set_roles(*, actor, user_id: int, roles: list[str], password: str, reason: str):
    """Change a user's roles, signed by the administrator (re-authentication) and audited with reason.

    Removals and grants of roles outside APPROVAL_ROLES take effect at once; each grant of a role in
    APPROVAL_ROLES becomes a request that a second person approves (services/roles.py). Returns the
    user and the requests created.
    """
    _require_admin(actor)
    reason = _reason(reason)
    _check_roles(roles)
    wanted = sorted(set(roles))
    before = sorted(User.objects.get(pk=user_id).groups.values_list("name", flat=True))
    added = set(wanted) - set(before)
    if added:
        refuse_self_grant(actor, user_id)
    if before == wanted:
        raise ValidationError(_("The roles are unchanged."))
    roles_check_compatible(wanted)
    signature_check_password(user=actor, password=password, purpose="auth.user.set_roles")
    with transaction.atomic(), audit_context(actor=actor, action="auth.user.set_roles", reason=reason):
        user = User.objects.select_for_update().get(pk=user_id)
        before = sorted(user.groups.values_list("name", flat=True))  # again, on the locked row
        added = set(wanted) - set(before)
        now_held = sorted((set(before) & set(wanted)) | (added - APPROVAL_ROLES))
        if now_held != before:
            user.groups.set(Group.objects.filter(name__in=now_held))
            staff = "admin" in now_held
            if user.is_staff != staff:
                user.is_staff = staff
                user.save(update_fields=["is_staff"])
            audit_record(
                action="auth.user.set_roles", actor=actor, obj=user, old={"roles": before}, new={"roles": now_held}
            )
            signature_create(
                signer=actor,
                obj=RoleAssignment(user, now_held),
                meaning=SignatureMeaning.APPROVED,
                reason=reason,
                action="auth.user.set_roles",
            )
        requests = [
            role_request_create(actor=actor, user_id=user.pk, role=role, reason=reason)
            for role in sorted(added & APPROVAL_ROLES)
        ]
    return user, requests


# --- object scopes (django-guardian) --------------------------------------------------------------
@dataclass(frozen=True)
class ScopeType:
    label: Any
    model: str  # app_label.ModelName
    permissions: tuple[tuple[str, Any], ...]


SCOPE_TYPES: dict[str, ScopeType] = {
    "line": ScopeType(
        gettext_lazy("Production line"),
        "mes.Line",
        (("mes.view_line", gettext_lazy("See the line and its work")),),
    ),
    "batch": ScopeType(
        gettext_lazy("Batch"),
        "batches.Batch",
        (
            ("batches.view_batch", gettext_lazy("Open the batch")),
            ("batches.execute_batch", gettext_lazy("Execute steps of the batch")),
        ),
    ),
}


# Object scopes that make their holder act as an operator on the record.
OPERATOR_SCOPES = frozenset({"batches.execute_batch"})


def scope_model(kind: str):
    return apps.get_model(SCOPE_TYPES[kind].model)


def user_grant_scope(*, actor, user_id: int, kind: str, object_id: int, permission: str, reason: str):
    """Grant one permission on one record (a line, a batch) to a user: an object-level scope."""
    _require_admin(actor)
    reason = _reason(reason)
    scope = SCOPE_TYPES.get(kind)
    if scope is None or permission not in dict(scope.permissions):
        raise ValidationError(_("This permission cannot be granted on that kind of record."))
    target = scope_model(kind).objects.filter(pk=object_id).first()
    if target is None:
        raise ValidationError(_("The record does not exist."))
    refuse_self_grant(actor, user_id)  # a scope is a right too: nobody grants one to themselves
    with transaction.atomic(), audit_context(actor=actor, action="auth.object_permission.grant", reason=reason):
        user = User.objects.select_for_update().get(pk=user_id)
        if permission in OPERATOR_SCOPES and user.groups.filter(name="admin").exists():
            # an administrator may not execute batches (admin and operator are incompatible roles)
            raise ValidationError(
                _("An administrator cannot be given the right to execute batches (segregation of duties).")
            )
        assign_perm(permission, user, target)
    return user


def user_revoke_scope(*, actor, user_id: int, grant_id: int, reason: str):
    """Remove an object-level grant (the grant row goes; the audit trail keeps it)."""
    _require_admin(actor)
    reason = _reason(reason)
    with transaction.atomic(), audit_context(actor=actor, action="auth.object_permission.revoke", reason=reason):
        grant = (
            UserObjectPermission.objects.select_related("permission__content_type", "content_type")
            .filter(pk=grant_id, user_id=user_id)
            .first()
        )
        if grant is None:
            raise ValidationError(_("The grant does not exist."))
        target = grant.content_object
        perm = f"{grant.permission.content_type.app_label}.{grant.permission.codename}"
        remove_perm(perm, grant.user, target)


def user_scopes(user) -> list:
    return list(
        UserObjectPermission.objects.filter(user=user)
        .select_related("permission", "content_type")
        .order_by("content_type_id", "object_pk")
    )


def user_set_language(*, actor, user_id: int, language: str):
    """The language of a person's e-mails: set by the person or by an administrator. Audited.

    An empty `language` means the plant's language (it then follows a change of MES_LANGUAGE)."""
    if actor.pk != user_id:
        _require_admin(actor)
    if language and language not in dict(settings.LANGUAGES):
        raise ValidationError(_("Choose one of the offered languages."))
    with transaction.atomic(), audit_context(actor=actor, action="auth.user.language"):
        user = User.objects.select_for_update().get(pk=user_id)
        preference, _created = UserPreference.objects.select_for_update().get_or_create(user=user)
        if preference.language == language:
            return preference
        old = preference.language
        preference.language = language
        preference.save(update_fields=["language"])
        audit_record(
            action="auth.user.language", actor=actor, obj=user, old={"language": old}, new={"language": language}
        )
    return preference


def _temporary_password() -> str:
    """Four groups of five letters and digits (no look-alikes): about 120 bits, easy to type once."""
    alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "-".join("".join(secrets.choice(alphabet) for _ in range(5)) for _ in range(4))


def user_reset_password(*, actor, user_id: int, reason: str) -> str | None:
    """An administrator resets a forgotten password. Audited; the old one stops working.

    A temporary password is generated. When the person has an e-mail address it is sent there and the
    administrator never sees it (returns None); otherwise it is returned once, for the administrator
    to hand over in person, and never stored readable (only its salted hash). Either way the person
    must set a password of their own at the next log-in and cannot sign until then."""
    _require_admin(actor)
    reason = _reason(reason)
    temporary = _temporary_password()
    with transaction.atomic(), audit_context(actor=actor, action="auth.user.password_reset", reason=reason):
        user = User.objects.select_for_update().get(pk=user_id)
        validate_password(temporary, user)
        user.set_password(temporary)
        user.save(update_fields=["password"])
        mailed = bool(user.email)
        audit_record(
            action="auth.user.password_reset",
            actor=actor,
            obj=user,
            new={"delivered": "e-mail" if mailed else "in person"},
            reason=reason,
        )
        password_mark_set_by_admin(actor=actor, user=user, reason=reason)
        if mailed:  # inside the transaction: if the mail cannot be sent, nothing changed
            _mail_temporary_password(user, temporary)
    _end_sessions(user)
    return None if mailed else temporary


def _mail_temporary_password(user, temporary: str) -> None:
    """In the person's language, whatever the language of the administrator's screen."""
    with translation.override(user_language(user)):
        send_mail(
            _("Your temporary MES password"),
            _(
                "Your password was reset by an administrator. Temporary password: %(password)s\n\n"
                "Sign in with it and choose a password of your own: until you do, you cannot sign or approve."
            )
            % {"password": temporary},
            settings.DEFAULT_FROM_EMAIL,
            [user.email],
        )
