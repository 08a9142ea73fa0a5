"""Token authentication of integration accounts: `Authorization: Token <token>` (or Bearer)."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from audit.services import audit_record
from integrations.services.accounts import integration_account_for_token

KEYWORDS = ("token", "bearer")


class IntegrationTokenAuthentication(authentication.BaseAuthentication):
    """Resolves the token to its integration account; every refusal is an audit event."""

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None
        parts = header.split()
        if parts[0].lower() not in KEYWORDS:
            return None
        token = parts[1] if len(parts) == 2 else ""
        account = integration_account_for_token(token)
        if account is None:
            with transaction.atomic():
                audit_record(
                    action="integrations.api.auth_failed",
                    username=f"token:{token[:8]}" if token else "token:(none)",
                    object_type="api",
                    object_id=request.path[:64],
                    new={"method": request.method, "path": request.path},
                )
            raise exceptions.AuthenticationFailed(_("The API token is not valid or was revoked."))
        return account.user, account

    def authenticate_header(self, request):
        return "Token"
