"""Quality records are managed on the quality pages (their services hold the rules); the admin only reads them."""

from django.contrib import admin

from quality.models import CAPA, Deviation, Specification


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Specification)
class SpecificationAdmin(ReadOnlyAdmin):
    list_display = ("material", "inspection_type", "version", "status")
    list_filter = ("inspection_type", "status")


@admin.register(Deviation)
class DeviationAdmin(ReadOnlyAdmin):
    list_display = ("number", "title", "classification", "status", "raised_at")
    list_filter = ("classification", "status", "source")


@admin.register(CAPA)
class CAPAAdmin(ReadOnlyAdmin):
    list_display = ("number", "kind", "owner", "due_date", "status")
    list_filter = ("status", "kind")
