"""Material master data in the Django admin: saves go through materials.services; never deleted."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpResponseRedirect
from django.urls import reverse

from materials.models import Location, Lot, Material
from materials.services import MATERIAL_FIELDS, location_save, material_create, material_update
from mes.admin_base import GMPAdmin
from mes.changecontrol import controlled_for


@admin.register(Material)
class MaterialAdmin(GMPAdmin):
    list_display = ("code", "name", "name_zh", "type", "unit", "active")
    list_filter = ("type", "active")
    search_fields = ("code", "name", "name_zh")
    fields = (*MATERIAL_FIELDS, "change_reason")

    def has_delete_permission(self, request, obj=None):
        return False

    change_form_template = "admin/change_controlled_form.html"

    def get_readonly_fields(self, request, obj=None):
        # Under change control (materials/changecontrol.py): edited through a change request only.
        return tuple(controlled_for(Material).fields)

    def has_add_permission(self, request):
        return False  # a new material is proposed as a change request (or comes from the ERP)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        url = reverse("administration:masterdata_propose", kwargs={"model": "materials.material", "pk": object_id})
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), "change_request_url": url})

    def save_model(self, request, obj, form, change):
        values = {k: form.cleaned_data[k] for k in MATERIAL_FIELDS if k in form.cleaned_data}
        if change:
            values.pop("code", None)
            material_update(user=request.user, material_id=obj.pk, reason=form.cleaned_data["change_reason"], **values)
        else:
            created = material_create(user=request.user, **values)
            obj.pk, obj._state.adding = created.pk, False

    def _changeform_view(self, request, object_id, form_url, extra_context):
        try:
            return super()._changeform_view(request, object_id, form_url, extra_context)
        except ValidationError as exc:
            transaction.set_rollback(True)
            for text in exc.messages:
                self.message_user(request, text, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


@admin.register(Location)
class LocationAdmin(GMPAdmin):
    list_display = ("code", "name", "name_zh", "kind", "condition", "active")
    list_filter = ("kind", "condition", "active")
    search_fields = ("code", "name", "name_zh")

    def save_model(self, request, obj, form, change):
        location_save(
            user=request.user,
            location=obj,
            reason=form.cleaned_data.get("change_reason") or "created in administration",
        )


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
