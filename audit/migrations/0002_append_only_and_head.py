"""Make the audit trail and signatures append-only in the database, and create the chain head."""

from django.db import migrations

from audit.db import install_append_only, remove_append_only


def forwards(apps, schema_editor):
    install_append_only(schema_editor.connection)
    apps.get_model("audit", "ChainHead").objects.get_or_create(pk=1)


def backwards(apps, schema_editor):
    remove_append_only(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
