from django.db import migrations


def forwards(apps, schema_editor):
    from materials.db import install

    install(schema_editor.connection)


def backwards(apps, schema_editor):
    from materials.db import remove

    remove(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("materials", "0002_lots_ledger_genealogy")]
    operations = [migrations.RunPython(forwards, backwards)]
