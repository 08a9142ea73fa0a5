from django.contrib import admin

from materials.models import Material
from mes.admin_base import GMPAdmin


@admin.register(Material)
class MaterialAdmin(GMPAdmin):
    list_display = ("code", "name", "name_zh", "type", "unit", "storage_condition", "active")
    list_filter = ("type", "storage_condition", "active")
    search_fields = ("code", "name", "name_zh")
