"""Forms of the administration pages (validation only; the services apply the rules)."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from administration.models import ReviewKind
from administration.services.users import SCOPE_TYPES, scope_model
from mes.roles import ROLES


def role_choices():
    return [(code, label) for code, label in ROLES.items()]


class ReasonField(forms.CharField):
    def __init__(self, label=None, **kwargs):
        super().__init__(
            label=label or _("Reason"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, **kwargs
        )


class ProposeForm(forms.Form):
    new_value = forms.CharField(label=_("New value"), max_length=500, required=False)
    reason = ReasonField(_("Reason for the change"))


class SignedDecisionForm(forms.Form):
    """The decision on a change request: the signature fields come from signature_fields.html."""

    action = forms.ChoiceField(choices=[("approve", "approve"), ("reject", "reject"), ("withdraw", "withdraw")])
    password = forms.CharField(required=False, widget=forms.PasswordInput)
    reason = forms.CharField(required=False, max_length=2000)


class UserCreateForm(forms.Form):
    username = forms.RegexField(
        label=_("User name"),
        max_length=150,
        regex=r"^[A-Za-z0-9._-]+$",
        error_messages={"invalid": _("Use letters, digits, dots, hyphens or underscores only.")},
    )
    first_name = forms.CharField(label=_("Given name"), max_length=150)
    last_name = forms.CharField(label=_("Family name"), max_length=150, required=False)
    email = forms.EmailField(label=_("E-mail"), required=False)
    roles = forms.MultipleChoiceField(label=_("Roles"), choices=role_choices, widget=forms.CheckboxSelectMultiple)
    password1 = forms.CharField(label=_("Initial password"), widget=forms.PasswordInput, strip=False)
    password2 = forms.CharField(label=_("Initial password again"), widget=forms.PasswordInput, strip=False)
    reason = ReasonField()

    def clean(self):
        data = super().clean()
        if data.get("password1") and data.get("password1") != data.get("password2"):
            self.add_error("password2", _("The two passwords differ."))
        return data


class RolesForm(forms.Form):
    roles = forms.MultipleChoiceField(
        label=_("Roles"), choices=role_choices, widget=forms.CheckboxSelectMultiple, required=False
    )
    reason = forms.CharField(required=False, max_length=2000)
    password = forms.CharField(required=False, widget=forms.PasswordInput)


class ReasonForm(forms.Form):
    reason = ReasonField()


class ScopeForm(forms.Form):
    target = forms.ChoiceField(label=_("Record"))
    permission = forms.ChoiceField(label=_("Permission"))
    reason = ReasonField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        targets, perms = [], []
        for kind, scope in SCOPE_TYPES.items():
            objects = scope_model(kind).objects.order_by("-pk")[:200]
            targets.append((scope.label, [(f"{kind}:{o.pk}", str(o)) for o in objects]))
            perms.extend((f"{kind}|{code}", f"{scope.label}: {label}") for code, label in scope.permissions)
        self.fields["target"].choices = targets
        self.fields["permission"].choices = perms

    def clean(self):
        data = super().clean()
        target, permission = data.get("target", ""), data.get("permission", "")
        if target and permission:
            kind, _sep, object_id = target.partition(":")
            perm_kind, _sep, codename = permission.partition("|")
            if kind != perm_kind:
                raise forms.ValidationError(_("This permission cannot be granted on that kind of record."))
            data["kind"], data["object_id"], data["codename"] = kind, int(object_id), codename
        return data


class ReviewForm(forms.Form):
    kind = forms.ChoiceField(choices=ReviewKind.choices, widget=forms.HiddenInput)
    period_start = forms.DateField(label=_("Period from"), widget=forms.DateInput(attrs={"type": "date"}))
    period_end = forms.DateField(label=_("Period to"), widget=forms.DateInput(attrs={"type": "date"}))
    findings = forms.CharField(label=_("Findings"), widget=forms.Textarea(attrs={"rows": 3}), max_length=5000)
    password = forms.CharField(required=False, widget=forms.PasswordInput)


class PeriodForm(forms.Form):
    date_from = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def period(self) -> tuple[dt.date, dt.date]:
        today = timezone.localdate()
        data = self.cleaned_data if self.is_valid() else {}
        end = data.get("date_to") or today
        start = data.get("date_from") or end - dt.timedelta(days=90)
        return start, end


class AcknowledgeForm(forms.Form):
    comment = forms.CharField(
        label=_("What you found or did"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000
    )
