from django.contrib import admin

from equipment.models import EquipmentClass
from mes.admin_base import GMPAdmin


@admin.register(EquipmentClass)
class EquipmentClassAdmin(GMPAdmin):
    list_display = ("code", "name", "name_zh")
