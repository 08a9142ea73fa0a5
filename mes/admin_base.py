"""Django admin for GMP records: audited with a required reason, no deletion, state read-only."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from audit.context import audit_context
from audit.services import audit_record


class GMPAdminForm(forms.ModelForm):
    change_reason = forms.CharField(
        label=_("Reason for change"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required when changing an existing record; kept in the audit trail."),
    )

    def clean(self):
        data = super().clean()
        if self.instance.pk and self.has_changed() and not (data.get("change_reason") or "").strip():
            self.add_error("change_reason", _("Give the reason for this change."))
        return data


class GMPAdmin(admin.ModelAdmin):
    """Base admin for GMPModel subclasses. Saves go through the audited save with the user's reason;
    records are never deleted; the state field changes only through workflow actions."""

    form = GMPAdminForm

    def get_readonly_fields(self, request, obj=None):
        state = getattr(self.model, "STATE_FIELD", None)
        return (*super().get_readonly_fields(request, obj), *((state,) if state else ()))

    def has_delete_permission(self, request, obj=None):
        return False

    def delete_view(self, request, object_id, extra_context=None):
        """Refused for everyone; the attempt is audited (retention, BAT-4/QC-5/AUD-4)."""

        with transaction.atomic():
            audit_record(
                action="retention.delete_refused",
                actor=request.user,
                object_type=f"{self.model._meta.app_label}.{self.model._meta.model_name}",
                object_id=str(object_id),
                new={"entry_point": "admin"},
                reason="GMP records are kept for their retention period",
            )
        raise PermissionDenied

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def save_model(self, request, obj, form, change):
        reason = form.cleaned_data.get("change_reason", "") if change else "created in administration"
        with audit_context(actor=request.user, reason=reason):
            obj.save()
