"""The forced password change: a person whose password an administrator set (new account or
reset) is sent to this page from every other page until they set a password of their own."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import Resolver404, resolve, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from administration.services.passwords import password_change_own, password_must_change

# The session remembers, from log-in, that its person owes a new password (no query per page: the
# mark is set only while the person has no session, as a reset ends them). Signing checks the table.
SESSION_KEY = "mes_must_change_password"
# Pages a person who owes a new password may still open.
_OPEN_URL_NAMES = {
    "administration:password_change",
    "administration:otp_verify",
    "administration:otp_enrol",
    "logout",
    "set_language",
    "login",
}


class PasswordChangeRequiredMiddleware:
    """After the second-factor middleware: sends a person who owes a new password to the change form."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and request.session.get(SESSION_KEY)
            and not request.path.startswith(("/static/", "/media/"))
        ):
            try:
                name = resolve(request.path_info).view_name
            except Resolver404:
                name = None
            if name not in _OPEN_URL_NAMES:
                return redirect("administration:password_change")
        return self.get_response(request)


class OwnPasswordForm(forms.Form):
    old_password = forms.CharField(
        label=gettext_lazy("Current password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
    )
    new_password1 = forms.CharField(
        label=gettext_lazy("New password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    new_password2 = forms.CharField(
        label=gettext_lazy("New password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        data = super().clean()
        if data.get("new_password1") and data.get("new_password1") != data.get("new_password2"):
            self.add_error("new_password2", _("The two passwords differ."))
        return data


def remember_at_login(request, user) -> None:
    """At log-in: note in the session whether the person must first set a new password."""
    session = getattr(request, "session", None)
    if session is None:
        return
    if password_must_change(user):
        session[SESSION_KEY] = True
    else:
        session.pop(SESSION_KEY, None)


def password_change(request):
    """Set a password of one's own (forced after an administrator set it; open to anyone signed in)."""
    form = OwnPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            password_change_own(
                user=request.user,
                old_password=form.cleaned_data["old_password"],
                new_password=form.cleaned_data["new_password1"],
            )
        except ValidationError as exc:
            form.add_error("new_password1" if "current" not in " ".join(exc.messages) else "old_password", exc)
        else:
            update_session_auth_hash(request, request.user)  # stay signed in with the new password
            request.session.pop(SESSION_KEY, None)
            messages.success(request, _("Your new password is set."))
            return redirect(reverse("home"))
    return render(
        request,
        "administration/password_change.html",
        {"form": form, "forced": password_must_change(request.user)},
    )
