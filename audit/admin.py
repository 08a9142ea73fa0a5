from django.contrib import admin

from audit.models import AuditEvent, Signature


class ReadOnlyAdmin(admin.ModelAdmin):
    """The audit trail and signatures can be read in the admin, never changed."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("seq", "timestamp", "username", "action", "object_type", "object_id")
    search_fields = ("username", "action", "object_type", "object_id")


@admin.register(Signature)
class SignatureAdmin(ReadOnlyAdmin):
    list_display = ("signed_at", "printed_name", "meaning", "object_type", "object_id", "action")
