"""Security hardening: alerts to administrators (21 CFR 11.300(d)), signing per 11.200(a), the content
security policy, and `check --deploy` with production settings."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.test import Client
from django.urls import reverse

from administration.models import AlertKind, SecurityAlert
from administration.services.alerts import alert_acknowledge
from audit.models import AuditEvent
from audit.signatures import SESSION_KEY, SignatureError, signature_check_password
from mes.security import security_is_locked

pytestmark = pytest.mark.django_db
ROOT = Path(django_settings.BASE_DIR)


def _fail_login(username, n):
    client = Client()
    for _ in range(n):
        client.post(reverse("login"), {"username": username, "password": "not-the-password"})


@pytest.fixture
def admin_email(users):
    users["admin"].email = "admin@plant.example"
    users["admin"].save()


@pytest.mark.req("SEC-1", "AUD-1")
def test_repeated_failed_log_ins_alert_administrators_at_once(users, admin_email, settings):
    settings.MES_ALERT_THRESHOLD, settings.MES_LOCKOUT_THRESHOLD = 3, 5
    _fail_login("qc", 2)
    assert not SecurityAlert.objects.exists() and not mail.outbox
    _fail_login("qc", 1)
    alert = SecurityAlert.objects.get()
    assert alert.kind == AlertKind.FAILED_LOGINS and alert.username == "qc" and alert.attempts == 3
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["admin@plant.example"]
    assert "qc" in mail.outbox[0].subject
    _fail_login("qc", 2)  # the fifth locks the account: a second alert
    assert security_is_locked(users["qc"])
    assert list(SecurityAlert.objects.order_by("id").values_list("kind", flat=True)) == [
        AlertKind.FAILED_LOGINS,
        AlertKind.ACCOUNT_LOCKED,
    ]
    assert len(mail.outbox) == 2


@pytest.mark.req("SEC-3")
def test_repeated_failed_signatures_alert_administrators(users, admin_email, settings):
    settings.MES_ALERT_THRESHOLD = 2
    for _ in range(2):
        with pytest.raises(SignatureError):
            signature_check_password(user=users["supervisor"], password="wrong-one-here")
    alert = SecurityAlert.objects.get()
    assert alert.kind == AlertKind.FAILED_SIGNATURES and alert.username == "supervisor"
    assert len(mail.outbox) == 1


def test_administrators_see_a_notice_on_their_pages_until_acknowledged(users, client_for, settings):
    settings.MES_ALERT_THRESHOLD = 1
    _fail_login("planner", 1)
    admin = client_for("admin")
    assert 'data-testid="admin-alert"' in admin.get(reverse("home")).content.decode()
    assert 'data-testid="admin-alert"' not in client_for("qa").get(reverse("home")).content.decode()
    alert = SecurityAlert.objects.get()
    response = admin.post(
        reverse("administration:alert_ack", args=[alert.pk]), {"comment": "planner typo, confirmed by phone"}
    )
    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.acknowledged_by == users["admin"]
    assert 'data-testid="admin-alert"' not in admin.get(reverse("home")).content.decode()
    assert AuditEvent.objects.filter(action="administration.securityalert.acknowledge").exists()
    with pytest.raises(Exception, match="already"):
        alert_acknowledge(user=users["admin"], alert_id=alert.pk, comment="again")


# --- 21 CFR 11.200(a) ------------------------------------------------------------------------
def _sign(client, username, password, with_user_id=None):
    """Post a signed approval of a configuration change through the page."""
    from administration.models import ConfigParameter
    from administration.services.config import config_propose

    admin = type(username).objects.get(username="admin")
    change = config_propose(
        user=admin,
        parameter_id=ConfigParameter.objects.get(name="auth.alert_threshold").pk,
        new_value=str(2 + ConfigParameter.objects.get(name="auth.alert_threshold").version),
        reason="r",
    )
    data = {"action": "approve", "password": password}
    if with_user_id is not None:
        data["signature_username"] = with_user_id
    client.post(reverse("administration:change_detail", args=[change.pk]), data)
    change.refresh_from_db()
    return change


@pytest.mark.req("SEC-3")
def test_first_signing_of_a_session_needs_user_id_and_password_later_ones_the_password(users, password, settings):
    settings.MES_SIGNATURE_FULL_FIRST = True
    qa = Client()
    qa.post(reverse("login"), {"username": "qa", "password": password})
    page = qa.get(reverse("administration:access_review")).content.decode()
    assert 'name="signature_username"' in page  # the dialog asks for the user ID
    assert _sign(qa, users["qa"], password).status == "proposed"  # password alone: refused
    assert _sign(qa, users["qa"], password, with_user_id="admin").status == "proposed"  # someone else's ID
    assert AuditEvent.objects.filter(action="signature.failed", username="qa").count() == 1
    assert _sign(qa, users["qa"], password, with_user_id="qa").status == "effective"
    assert 'name="signature_username"' not in qa.get(reverse("administration:access_review")).content.decode()
    assert _sign(qa, users["qa"], password).status == "effective"  # same session: the password is enough
    qa.post(reverse("logout"))
    qa.post(reverse("login"), {"username": "qa", "password": password})
    assert SESSION_KEY not in qa.session
    assert _sign(qa, users["qa"], password).status == "proposed"  # a new session starts over


# --- hardening ----------------------------------------------------------------------------------
def test_pages_carry_a_content_security_policy_without_inline_scripts(client_for):
    response = client_for("admin").get(reverse("administration:status"))
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy and "frame-ancestors 'none'" in policy
    assert response["X-Frame-Options"] == "DENY" and response["Referrer-Policy"] == "same-origin"


def test_no_template_has_an_inline_script_or_event_handler():
    offenders = []
    for path in ROOT.glob("**/templates/**/*.html"):
        if ".venv" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        for tag in re.findall(r"<script\b[^>]*>", text):
            if "src=" not in tag and 'type="application/json"' not in tag:
                offenders.append(f"{path}: {tag}")
        if re.search(r"\son(click|load|submit|change|input)=", text):
            offenders.append(f"{path}: inline event handler")
    assert not offenders


def test_user_input_is_escaped_in_pages(client_for, users):
    from administration.services.users import user_deactivate

    user_deactivate(actor=users["admin"], user_id=users["analyst"].pk, reason="<script>alert(1)</script>")
    page = client_for("admin").get(reverse("administration:user_detail", args=[users["analyst"].pk])).content.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


@pytest.mark.req("SEC-1")
@pytest.mark.postgres  # PostgreSQL's SQL or triggers
def test_check_deploy_is_clean_with_production_settings():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "mes.settings",
        "MES_HTTPS": "1",
        "DEBUG": "0",
        "MES_REQUIRE_SECRET_KEY": "1",
        "SECRET_KEY": "k8#x" + "Zq7-pR2!vW9@mN4$bT6%yH1^cJ3&dF5*" * 2,
        "ALLOWED_HOSTS": "mes.plant.example",
        "MES_PLAIN_STATIC": "0",
    }
    done = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout


def test_production_settings_refuse_to_start_without_a_secret_key():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "mes.settings", "DEBUG": "0", "MES_REQUIRE_SECRET_KEY": "1"}
    env.pop("SECRET_KEY", None)
    done = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "check"], env=env, capture_output=True, text=True, cwd=ROOT
    )
    assert done.returncode != 0 and "SECRET_KEY must be set" in done.stderr
