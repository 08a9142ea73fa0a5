from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.signals import user_login_failed
from django.utils.translation import gettext_lazy as _

from mes.security import security_is_locked


class LoginForm(AuthenticationForm):
    """The log-in form, telling a locked-out user why instead of a generic failure."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("The user name or password is not correct. Both are case-sensitive."),
        "locked": _("This account is locked after repeated failed attempts. Ask an administrator to unlock it."),
    }

    def clean(self):
        username = self.cleaned_data.get("username")
        user = get_user_model().objects.filter(username=username).first() if username else None
        if user is not None and security_is_locked(user):
            # Still record the attempt, so a locked account under attack is visible in the trail.

            user_login_failed.send(sender=__name__, credentials={"username": username}, request=self.request)
            raise forms.ValidationError(self.error_messages["locked"], code="locked")
        return super().clean()


class SignatureForm(forms.Form):
    """The fields of the reusable signature dialog (templates/includes/signature_fields.html)."""

    password = forms.CharField(
        label=_("Your password"), widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )
    reason = forms.CharField(label=_("Reason / comment"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
