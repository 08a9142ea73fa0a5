"""Keyed chain (key id per event), the inserting transaction per event, and the chain's one way in."""

from django.db import migrations, models

from audit.db import install_append_only, install_chain_guard, remove_chain_guard


def forwards(apps, schema_editor):
    install_append_only(schema_editor.connection)  # SQLite rebuilt the table for the new column
    install_chain_guard(schema_editor.connection)


def backwards(apps, schema_editor):
    remove_chain_guard(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_lean_event_indexes")]
    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="key_id",
            field=models.CharField(blank=True, default="", max_length=40, verbose_name="key id"),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="txid",
            field=models.BigIntegerField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(forwards, backwards),
    ]
