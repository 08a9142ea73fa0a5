from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from mes.admin_base import GMPAdmin
from mes.models import Area, Line, Site, UserSecurity
from mes.security import account_unlock


@admin.register(Site)
class SiteAdmin(GMPAdmin):
    list_display = ("code", "name", "name_zh")


@admin.register(Area)
class AreaAdmin(GMPAdmin):
    list_display = ("code", "name", "name_zh", "site")


@admin.register(Line)
class LineAdmin(GMPAdmin):
    list_display = ("code", "name", "name_zh", "area", "active")


@admin.register(UserSecurity)
class UserSecurityAdmin(admin.ModelAdmin):
    list_display = ("user", "failed_attempts", "last_failure_at", "locked_at")
    readonly_fields = ("user", "failed_attempts", "last_failure_at", "locked_at")
    actions = ["unlock"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Unlock the selected accounts"))
    def unlock(self, request, queryset):
        for sec in queryset.select_related("user"):
            account_unlock(actor=request.user, user=sec.user, reason="unlocked in administration")
        messages.success(request, _("Accounts unlocked."))
