"""Admin: storage locations are master data (saved through the service); lots are read-only here."""

from django.contrib import admin

from materials.models import Location, Lot
from materials.services import location_save


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "name_zh", "kind", "condition", "active")
    list_filter = ("kind", "condition", "active")
    search_fields = ("code", "name", "name_zh")

    def save_model(self, request, obj, form, change):
        location_save(user=request.user, location=obj, reason="admin")

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Lot)
class LotAdmin(admin.ModelAdmin):
    """Lots change only through their services (receipt, QC, stock movements): view only."""

    list_display = ("code", "material", "status", "expiry_date", "received_at")
    list_filter = ("status",)
    search_fields = ("code", "supplier_lot")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
