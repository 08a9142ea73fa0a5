"""Optional TOTP second factor, required per role by the controlled configuration (auth.totp_roles)."""

import time

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.oath import TOTP

from administration.otp import otp_device_reset
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def _code(device, offset=0):
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + offset
    return f"{totp.token():06d}"


def _login(username, password):
    client = Client()
    assert client.post(reverse("login"), {"username": username, "password": password}).status_code == 302
    return client


@pytest.mark.req("SEC-1")
def test_a_role_that_requires_totp_enrols_then_verifies_at_each_log_in(users, password, settings):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    settings.MES_TOTP_ROLES = "admin,qa"
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # (production keeps django-otp's growing delay after a wrong code)
    admin = _login("admin", password)
    response = admin.get(reverse("administration:user_list"))
    assert response.status_code == 302 and reverse("administration:otp_enrol") in response["Location"]
    page = admin.get(reverse("administration:otp_enrol"))
    assert page.status_code == 200 and 'data-testid="otp-qr"' in page.content.decode()
    device = TOTPDevice.objects.get(user=users["admin"])
    assert admin.post(reverse("administration:otp_enrol"), {"token": "000000"}).status_code == 200
    assert AuditEvent.objects.filter(action="auth.otp_failed", username="admin").count() == 1
    response = admin.post(
        reverse("administration:otp_enrol"), {"token": _code(device), "next": "/administration/users/"}
    )
    assert response.status_code == 302 and response["Location"] == "/administration/users/"
    assert admin.get(reverse("administration:user_list")).status_code == 200
    assert AuditEvent.objects.filter(action="auth.otp_enrolled", username="admin").exists()

    again = _login("admin", password)  # a new session: the code again
    response = again.get(reverse("home"))
    assert response.status_code == 302 and reverse("administration:otp_verify") in response["Location"]
    device.refresh_from_db()
    assert again.post(reverse("administration:otp_verify"), {"token": _code(device, 30)}).status_code == 302
    assert again.get(reverse("home")).status_code == 200

    # roles not listed are not asked
    assert _login("operator", password).get(reverse("home")).status_code == 200


def test_an_administrator_resets_a_lost_device(users, password, settings):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.create(user=users["qa"], name="phone", confirmed=True)
    assert otp_device_reset(actor=users["admin"], user_id=users["qa"].pk, reason="phone lost") == 1
    assert not TOTPDevice.objects.filter(user=users["qa"]).exists()
    assert AuditEvent.objects.filter(action="auth.otp_reset", reason="phone lost").exists()
    settings.MES_TOTP_ROLES = "qa"
    response = _login("qa", password).get(reverse("home"))
    assert reverse("administration:otp_enrol") in response["Location"]
