"""Integration accounts: issue, rotate and revoke API tokens; resolve a token to its account."""

from __future__ import annotations

import hashlib
import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from audit.context import audit_context
from integrations.models import IntegrationAccount, System
from mes.roles import ROLES

MANAGE_PERMISSION = "integrations.add_integrationaccount"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_token() -> str:
    return "mes_" + secrets.token_urlsafe(30)


def _check_actor(actor) -> None:
    # A management command run by the operator of the server acts as no user (actor None).
    if actor is not None and not actor.has_perm(MANAGE_PERMISSION):
        raise PermissionDenied(_("You may not manage integration accounts."))


def integration_account_create(
    *, actor, username: str, system: str, roles: list[str], description: str = "", reason: str = ""
) -> tuple[IntegrationAccount, str]:
    """Create the account's user (no password: it cannot sign in to pages), give it its roles,
    and issue a token. Returns the account and the token, which is never stored nor shown again."""
    _check_actor(actor)
    if system not in System.values:
        raise ValidationError(_("Unknown system “%(system)s”.") % {"system": system})
    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        raise ValidationError(_("Unknown roles: %(roles)s.") % {"roles": ", ".join(unknown)})
    User = get_user_model()
    if User.objects.filter(username=username).exists():
        raise ValidationError(_("A user named “%(name)s” exists already.") % {"name": username})
    token = _new_token()
    with transaction.atomic(), audit_context(actor=actor, action="integrations.account.create", reason=reason):
        user = User(username=username, first_name=system.upper(), last_name=_("integration"))
        user.set_unusable_password()
        user.save()
        user.groups.set(Group.objects.filter(name__in=roles))
        account = IntegrationAccount.objects.create(
            user=user, system=system, description=description, token_hash=token_hash(token), token_prefix=token[:8]
        )
    return account, token


def integration_account_rotate(*, actor, account_id: int, reason: str = "") -> tuple[IntegrationAccount, str]:
    """Issue a new token; the old one stops working at once."""
    _check_actor(actor)
    token = _new_token()
    with transaction.atomic(), audit_context(actor=actor, action="integrations.account.rotate", reason=reason):
        account = IntegrationAccount.objects.select_for_update().get(pk=account_id)
        account.token_hash = token_hash(token)
        account.token_prefix = token[:8]
        account.save()
    return account, token


def integration_account_set_active(*, actor, account_id: int, active: bool, reason: str) -> IntegrationAccount:
    """Revoke (or restore) an account's access."""
    _check_actor(actor)
    if not (reason or "").strip():
        raise ValidationError(_("A reason is required for this action."))
    action = "integrations.account.activate" if active else "integrations.account.revoke"
    with transaction.atomic(), audit_context(actor=actor, action=action, reason=reason):
        account = IntegrationAccount.objects.select_for_update().get(pk=account_id)
        account.active = active
        account.save()
    return account


def integration_account_for_token(token: str) -> IntegrationAccount | None:
    """The active account holding this token, with its user, or None."""
    if not token or len(token) > 200:
        return None
    account = (
        IntegrationAccount.objects.select_related("user").filter(token_hash=token_hash(token), active=True).first()
    )
    if account is None or not account.user.is_active:
        return None
    return account


def integration_user(system: str):
    """The user of `system`'s active integration account (the oldest), or None."""
    account = (
        IntegrationAccount.objects.select_related("user").filter(system=system, active=True).order_by("pk").first()
    )
    return account.user if account else None


def inbound_actor(message):
    """Who an inbound message's business change is attributed to: the account that pushed it, else
    (a pulled message) the system's integration account. Never the administrator who replays it:
    the replay itself is audited separately as theirs."""
    if message.received_by_id:
        account = IntegrationAccount.objects.filter(user_id=message.received_by_id).first()
        if account is None or account.active:
            return message.received_by
        return None  # its account was revoked: nobody may apply it until it is re-activated
    return integration_user(message.system)
