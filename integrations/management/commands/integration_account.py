"""Issue, rotate or revoke the API token of an external system's integration account.

    manage.py integration_account create erp-link --system erp --role planner
    manage.py integration_account rotate erp-link
    manage.py integration_account revoke erp-link --reason "ERP replaced"

The token is printed once; only its hash is stored.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from integrations.models import IntegrationAccount
from integrations.services import (
    integration_account_create,
    integration_account_rotate,
    integration_account_set_active,
)


class Command(BaseCommand):
    help = "Create, rotate or revoke an integration account's API token."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["create", "rotate", "revoke"])
        parser.add_argument("username")
        parser.add_argument("--system", default="other")
        parser.add_argument("--role", action="append", default=[], help="a role of the account (repeatable)")
        parser.add_argument("--description", default="")
        parser.add_argument("--reason", default="")

    def handle(self, action, username, system, role, description, reason, **options):
        try:
            if action == "create":
                _account, token = integration_account_create(
                    actor=None, username=username, system=system, roles=role, description=description, reason=reason
                )
            else:
                account = IntegrationAccount.objects.filter(user__username=username).first()
                if account is None:
                    raise CommandError(f"no integration account {username!r}")
                if action == "rotate":
                    _account, token = integration_account_rotate(actor=None, account_id=account.pk, reason=reason)
                else:
                    integration_account_set_active(actor=None, account_id=account.pk, active=False, reason=reason)
                    self.stdout.write(f"{username}: revoked")
                    return
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        self.stdout.write(f"{username}: token {token} (shown once; store it in the other system)")
