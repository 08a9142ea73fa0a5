"""Create one auth group per plant role. Their permissions are synced after migrate (mes.roles)."""

from django.db import migrations

ROLE_CODES = ["planner", "supervisor", "operator", "qc", "qa", "maintenance", "warehouse", "analyst", "auditor", "admin"]


def create_roles(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for code in ROLE_CODES:
        Group.objects.get_or_create(name=code)


class Migration(migrations.Migration):
    dependencies = [("mes", "0001_initial"), ("auth", "0012_alter_user_first_name_max_length")]
    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
