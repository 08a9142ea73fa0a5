"""Optional second factor (TOTP, django-otp), required per role by the controlled configuration
parameter auth.totp_roles (ASVS V2 level 3 for privileged roles).

A user holding a role listed there must, after log-in, enter a code from an authenticator app
before any other page opens: the first time he enrols a device (a QR code to scan, confirmed with
a code), later he enters a code. Wrong codes are audited and count toward the lock-out. An
administrator can reset a lost device (audited, with reason).
"""

from __future__ import annotations

import base64
import io

import qrcode
import qrcode.image.svg
from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import Resolver404, resolve, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.context import audit_context
from audit.services import audit_record
from mes.config import config_get_or_default
from mes.roles import role_codes
from mes.security import security_register_failure

# Pages a user who still owes the second factor may open.
_OPEN_URL_NAMES = {"administration:otp_verify", "administration:otp_enrol", "logout", "set_language", "login"}


def totp_required(user) -> bool:
    """True when one of the user's roles is listed in the configuration auth.totp_roles."""
    roles = config_get_or_default("auth.totp_roles", ())
    return bool(roles) and bool(set(roles) & set(role_codes(user)))


def confirmed_device(user):
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


class SecondFactorMiddleware:
    """After django_otp's OTPMiddleware: sends users who owe the second factor to verify or enrol."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not user.is_verified()
            and not request.path.startswith(("/static/", "/media/"))
            and totp_required(user)
        ):
            match = getattr(request, "resolver_match", None)

            try:
                match = match or resolve(request.path_info)
            except Resolver404:
                match = None
            if match is None or match.view_name not in _OPEN_URL_NAMES:
                target = "administration:otp_verify" if confirmed_device(user) else "administration:otp_enrol"
                return redirect(f"{reverse(target)}?next={request.get_full_path()}")
        return self.get_response(request)


class TokenForm(forms.Form):
    token = forms.RegexField(
        label=gettext_lazy("Code from your authenticator app"),
        regex=r"^\d{6}$",
        max_length=6,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "autofocus": True}),
        error_messages={"invalid": gettext_lazy("Enter the 6 digits shown by the app.")},
    )


def _register_failure(user) -> None:
    with transaction.atomic():
        audit_record(action="auth.otp_failed", actor=user, object_type="auth.user", object_id=str(user.pk))
    security_register_failure(username=user.get_username(), kind="otp")


def _safe_next(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or reverse("home")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return reverse("home")
    return target


def otp_verify(request):
    """Enter a code from the enrolled device; the session is then verified (django_otp.login)."""
    device = confirmed_device(request.user)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and device is not None and form.is_valid():
        if device.verify_token(form.cleaned_data["token"]):
            otp_login(request, device)
            with transaction.atomic():
                audit_record(
                    action="auth.otp_verified",
                    actor=request.user,
                    object_type="auth.user",
                    object_id=str(request.user.pk),
                )
            return redirect(_safe_next(request))
        _register_failure(request.user)
        form.add_error("token", _("The code is not correct."))
    return render(
        request, "administration/otp_verify.html", {"form": form, "device": device, "next": _safe_next(request)}
    )


def _qr_data_uri(url: str) -> str:
    image = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


def otp_enrol(request):
    """Create an unconfirmed device, show its QR code, confirm it with a first code."""

    if confirmed_device(request.user) is not None:
        return render(request, "administration/otp_enrol.html", {"enrolled": True})
    device = TOTPDevice.objects.filter(user=request.user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=request.user, name="authenticator", confirmed=False)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"]):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            otp_login(request, device)
            with transaction.atomic():
                audit_record(
                    action="auth.otp_enrolled",
                    actor=request.user,
                    object_type="auth.user",
                    object_id=str(request.user.pk),
                )
            messages.success(request, _("Second factor set up."))
            return redirect(_safe_next(request))
        _register_failure(request.user)
        form.add_error("token", _("The code is not correct."))
    context = {
        "form": form,
        "qr": _qr_data_uri(device.config_url),
        "secret": base64.b32encode(device.bin_key).decode(),
        "next": _safe_next(request),
        "required": totp_required(request.user),
    }
    return render(request, "administration/otp_enrol.html", context)


def otp_device_reset(*, actor, user_id: int, reason: str) -> int:
    """An administrator removes a user's devices (lost phone); the user enrols again at next log-in."""
    if not actor.has_perm("administration.manage_users"):
        raise PermissionDenied(_("Only a system administrator can manage users."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Give the reason for this change."))
    with transaction.atomic(), audit_context(actor=actor, reason=reason):
        count, _detail = TOTPDevice.objects.filter(user_id=user_id).delete()
        audit_record(
            action="auth.otp_reset", actor=actor, object_type="auth.user", object_id=str(user_id), reason=reason
        )
    return count


@require_POST
def otp_reset_view(request, pk: int):
    if not request.user.has_perm("administration.manage_users"):
        raise PermissionDenied
    try:
        otp_device_reset(actor=request.user, user_id=pk, reason=request.POST.get("reason", ""))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Second factor reset: the user sets it up again at the next log-in."))
    return redirect("administration:user_detail", pk=pk)
