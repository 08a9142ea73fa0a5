"""`migrate` as the owner role: Django's command, connected with DATABASE_OWNER_URL when it is set, so
the runtime role (DATABASE_URL) never needs to own or alter a table (audit.dbroles)."""

from django.core.management.commands.migrate import Command as DjangoMigrate
from django.db import connections

from audit.dbroles import as_owner


class Command(DjangoMigrate):
    def handle(self, *args, **options):
        with as_owner(connections[options["database"]]):
            return super().handle(*args, **options)
