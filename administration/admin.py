"""Django admin: configuration and alerts are read-only here (they change through their services and
pages, with change control and signatures); user accounts can be read but not deleted or edited
outside the user administration pages (roles are signed there)."""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from administration.models import ConfigChange, ConfigParameter, PeriodicReview, SecurityAlert


class ReadOnlyGMPAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ConfigParameter)
class ConfigParameterAdmin(ReadOnlyGMPAdmin):
    list_display = ("name", "category", "value_type", "value", "is_set", "version", "effective_at")


@admin.register(ConfigChange)
class ConfigChangeAdmin(ReadOnlyGMPAdmin):
    list_display = ("id", "parameter", "status", "old_value", "new_value", "proposed_by", "decided_by")
    list_select_related = ("parameter", "proposed_by", "decided_by")


@admin.register(SecurityAlert)
class SecurityAlertAdmin(ReadOnlyGMPAdmin):
    list_display = ("raised_at", "kind", "username", "attempts", "acknowledged_by")


@admin.register(PeriodicReview)
class PeriodicReviewAdmin(ReadOnlyGMPAdmin):
    list_display = ("kind", "period_start", "period_end", "reviewer", "reviewed_at")


User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class AccountAdmin(UserAdmin):
    """Accounts are managed on the administration pages; here they are read-only and never deleted."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
