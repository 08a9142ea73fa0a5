"""Django admin for equipment master data. Saves go through the master-data service; state and
everything the workflow owns (status, use, cleaning and calibration results) are read-only."""

from django.contrib import admin, messages
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from equipment.models import (
    Balance,
    BalanceMetrology,
    ChecklistItem,
    Equipment,
    EquipmentClass,
    EquipmentTag,
    MachineStateMap,
    MaintenancePlan,
)
from equipment.opcua.demo import fault_request_dir
from equipment.opcua.simulator import fault_request
from equipment.services.master import master_data_save
from mes.admin_base import GMPAdminForm
from mes.changecontrol import controlled_for

WORKFLOW_FIELDS = (
    "status",
    "current_batch",
    "current_step",
    "in_use_since",
    "cleaned_at",
    "dirty_since",
    "clean_for_product",
    "last_product",
)
# Only QA's signed qualification record (equipment.services.qualification) moves these.
QUALIFICATION_FIELDS = ("qualification_status", "qualified_on", "requalification_due_on")
# Set when the equipment is registered; afterwards only calibration records move them.
CALIBRATION_FIELDS = ("last_calibrated_on", "calibration_due_on")


class ServiceSaveMixin:
    """Saves through the master-data service. Fields under change control (mes.changecontrol) are
    read-only here: the page links to the change request that proposes them instead."""

    form = GMPAdminForm  # a reason is required for every change of an existing record
    change_form_template = "admin/change_controlled_form.html"

    def get_readonly_fields(self, request, obj=None):
        entry = controlled_for(self.model)
        return (*super().get_readonly_fields(request, obj), *(entry.fields if entry else ()))

    def has_add_permission(self, request):
        return controlled_for(self.model) is None and super().has_add_permission(request)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        entry = controlled_for(self.model)
        extra = {**(extra_context or {})}
        if entry is not None:
            extra["change_request_url"] = reverse(
                "administration:masterdata_propose", kwargs={"model": entry.key, "pk": object_id}
            )
        return super().change_view(request, object_id, form_url, extra_context=extra)

    def save_model(self, request, obj, form, change):
        master_data_save(user=request.user, obj=obj, reason=form.cleaned_data.get("change_reason", ""))

    def delete_model(self, request, obj):  # records are never deleted
        raise PermissionError("Records are never deleted; set them inactive instead.")

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(EquipmentClass)
class EquipmentClassAdmin(ServiceSaveMixin, admin.ModelAdmin):
    list_display = ("code", "name", "name_zh")
    search_fields = ("code", "name", "name_zh")


@admin.register(ChecklistItem)
class ChecklistItemAdmin(ServiceSaveMixin, admin.ModelAdmin):
    list_display = ("equipment_class", "order", "name", "active")
    list_filter = ("equipment_class", "active")


@admin.register(Equipment)
class EquipmentAdmin(ServiceSaveMixin, admin.ModelAdmin):
    list_display = ("code", "name", "equipment_class", "line", "status", "calibration_due_on", "active")
    list_filter = ("status", "equipment_class", "line", "active")
    search_fields = ("code", "name", "name_zh")
    list_select_related = ("equipment_class", "line")
    actions = ["simulate_alarm"]

    def get_readonly_fields(self, request, obj=None):
        own = WORKFLOW_FIELDS + QUALIFICATION_FIELDS + (CALIBRATION_FIELDS if obj is not None else ())
        return (*own, *super().get_readonly_fields(request, obj))

    @admin.action(description=gettext_lazy("Raise a simulated machine alarm (demo simulator)"), permissions=["change"])
    def simulate_alarm(self, request, queryset):
        """Ask the bundled OPC UA simulator to fault these machines: the alarm then takes the real path
        (poll -> fault report -> maintenance), so the demo shows the fault flow when someone wants it."""
        codes = [fault_request(fault_request_dir(), code).stem for code in queryset.values_list("code", flat=True)]
        messages.info(
            request,
            _("The simulator raises an alarm on %(codes)s at its next update (only equipment it simulates).")
            % {"codes": ", ".join(codes)},
        )


@admin.register(EquipmentTag)
class EquipmentTagAdmin(ServiceSaveMixin, admin.ModelAdmin):
    list_display = ("equipment", "key", "kind", "node_id", "unit", "deadband", "low_limit", "high_limit", "active")
    list_filter = ("kind", "active")
    search_fields = ("equipment__code", "key", "node_id")
    list_select_related = ("equipment",)


@admin.register(MachineStateMap)
class MachineStateMapAdmin(ServiceSaveMixin, admin.ModelAdmin):
    """What a machine's state words and codes mean, per class: audited, each change with a reason."""

    list_display = ("equipment_class", "value", "state")
    list_filter = ("equipment_class", "state")
    search_fields = ("equipment_class__code", "value")
    list_select_related = ("equipment_class",)


@admin.register(Balance)
class BalanceAdmin(ServiceSaveMixin, admin.ModelAdmin):
    """How the MES reaches a balance (issue 19); its metrology is a separate, controlled record."""

    list_display = ("equipment", "protocol", "host", "port")
    list_select_related = ("equipment",)
    search_fields = ("equipment__code",)


@admin.register(BalanceMetrology)
class BalanceMetrologyAdmin(ServiceSaveMixin, admin.ModelAdmin):
    """Serial number, unit, capacity, readability, minimum weight and the daily check's test weight."""

    list_display = ("balance", "serial_number", "unit", "capacity", "readability", "minimum_weight")
    list_select_related = ("balance__equipment",)
    search_fields = ("balance__equipment__code", "serial_number")


@admin.register(MaintenancePlan)
class MaintenancePlanAdmin(ServiceSaveMixin, admin.ModelAdmin):
    """Preventive maintenance plans: under change control; the counters belong to the service."""

    list_display = ("equipment", "title", "interval_days", "interval_hours", "interval_batches", "next_due_on")
    list_select_related = ("equipment",)
    readonly_fields = ("used_hours", "used_batches", "last_done_on", "open_work_order")
