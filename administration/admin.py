"""Django admin: configuration and alerts are read-only here (they change through their services and
pages, with change control and signatures); user accounts and roles (groups) can be read but not
deleted or edited outside the user administration pages (roles are signed and approved there)."""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group

from administration.models import (
    ConfigChange,
    ConfigParameter,
    PasswordState,
    PeriodicReview,
    RoleRequest,
    SecurityAlert,
)


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


@admin.register(RoleRequest)
class RoleRequestAdmin(ReadOnlyGMPAdmin):
    list_display = ("id", "user", "role", "status", "requested_by", "decided_by")
    list_select_related = ("user", "requested_by", "decided_by")


@admin.register(PasswordState)
class PasswordStateAdmin(ReadOnlyGMPAdmin):
    list_display = ("user", "must_change", "set_by", "set_at")
    list_select_related = ("user", "set_by")


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


admin.site.unregister(Group)


@admin.register(Group)
class RoleGroupAdmin(GroupAdmin):
    """Roles are read-only here: their permissions come from the code (mes.roles), and who holds
    them changes only on the user pages, under segregation of duties (no self-grant, approval)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
