"""Authentication: log-in/out audit, lock-out, idle time-out, signatures counting toward lock-out."""

import time

import pytest
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from audit.signatures import SignatureError, signature_check_password
from mes.security import account_unlock, security_is_locked

pytestmark = pytest.mark.django_db


def _login(client, username, password):
    return client.post(reverse("login"), {"username": username, "password": password})


@pytest.mark.req("SEC-1")
def test_every_page_requires_login(client):
    response = client.get(reverse("home"))
    assert response.status_code == 302 and reverse("login") in response["Location"]


@pytest.mark.req("AUD-1")
def test_login_logout_and_failed_login_are_audited(client, users, password):
    _login(client, "qc", "not-the-password")
    assert _login(client, "qc", password).status_code == 302
    client.post(reverse("logout"))
    actions = list(AuditEvent.objects.filter(object_repr="qc").order_by("seq").values_list("action", flat=True))
    assert actions[-3:] == ["auth.login_failed", "auth.login", "auth.logout"]


@pytest.mark.req("SEC-1")
def test_lockout_after_five_failures_in_a_row(client, users, password, settings):
    settings.MES_LOCKOUT_THRESHOLD = 5
    for _ in range(4):
        _login(client, "operator", "wrong-password!!")
    assert not security_is_locked(users["operator"])
    response = _login(client, "operator", "wrong-password!!")
    assert security_is_locked(users["operator"])
    response = _login(client, "operator", password)  # even the right password is refused now
    assert response.status_code == 200
    assert "locked" in response.content.decode()
    assert AuditEvent.objects.filter(action="auth.account_locked").count() == 1
    account_unlock(actor=users["admin"], user=users["operator"], reason="identity confirmed by phone")
    assert _login(Client(), "operator", password).status_code == 302


def test_success_resets_the_run_of_failures(client, users, password, settings):
    settings.MES_LOCKOUT_THRESHOLD = 3
    _login(client, "qa", "bad-bad-bad-bad")
    _login(client, "qa", "bad-bad-bad-bad")
    assert _login(client, "qa", password).status_code == 302
    c2 = Client()
    _login(c2, "qa", "bad-bad-bad-bad")
    _login(c2, "qa", "bad-bad-bad-bad")
    assert not security_is_locked(users["qa"])


@pytest.mark.req("SEC-3")
def test_wrong_signature_passwords_count_toward_lockout(users, settings):
    settings.MES_LOCKOUT_THRESHOLD = 3
    for _ in range(3):
        with pytest.raises(SignatureError):
            signature_check_password(user=users["qc"], password="nope-nope-nope")
    assert security_is_locked(users["qc"])
    assert AuditEvent.objects.filter(action="signature.failed", username="qc").count() == 3


@pytest.mark.req("SEC-1")
def test_idle_timeout_ends_the_session(client, users, password, settings, monkeypatch):
    settings.MES_IDLE_TIMEOUT_MINUTES = 15
    _login(client, "planner", password)
    assert client.get(reverse("home")).status_code == 200
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 16 * 60)
    response = client.get(reverse("home"))
    assert response.status_code == 302 and reverse("login") in response["Location"]
    assert AuditEvent.objects.filter(action="auth.logout", reason="idle timeout").exists()
    monkeypatch.setattr(time, "time", real)
    assert client.get(reverse("home")).status_code == 302  # really signed out


def test_background_polling_does_not_keep_a_session_alive(client, users, password, monkeypatch):
    _login(client, "planner", password)
    client.get(reverse("home"))
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 10 * 60)
    client.get(reverse("home"), HTTP_X_MES_BACKGROUND="1")
    monkeypatch.setattr(time, "time", lambda: real() + 16 * 60)
    assert client.get(reverse("home")).status_code == 302


def test_password_rules_require_twelve_characters():
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        validate_password("Short-1!")
    validate_password("Long-enough-pass-2026")


@pytest.mark.req("AUD-1", "SEC-4")
def test_role_and_permission_changes_are_audited(users):
    from django.contrib.auth.models import Group

    users["analyst"].groups.add(Group.objects.get(name="auditor"))
    event = (
        AuditEvent.objects.filter(action="auth.user.roles_add", object_id=str(users["analyst"].pk))
        .order_by("seq")
        .last()
    )
    assert event.new == {"roles": ["auditor"]}


@pytest.mark.req("SEC-1", "SEC-3")
def test_passwords_are_stored_with_argon2id_and_old_hashes_upgrade_at_log_in(client, users, settings):
    """The product's hashers (the suite itself uses a fast one): new passwords are Argon2id with the
    plant's parameters; a PBKDF2 hash of an older install still logs in and is re-hashed then, and a
    signature checks the same password."""
    from django.contrib.auth.hashers import PBKDF2PasswordHasher, identify_hasher

    from mes import settings as product

    settings.PASSWORD_HASHERS = product.PASSWORD_HASHERS
    user = users["qc"]
    user.set_password("a long plant password")
    user.save()
    assert user.password.startswith("argon2$argon2id$v=19$m=7168,t=5,p=1$")
    legacy = PBKDF2PasswordHasher()
    user.password = legacy.encode("an older plant password", legacy.salt())
    user.save()
    assert _login(client, "qc", "an older plant password").status_code == 302
    user.refresh_from_db()
    assert identify_hasher(user.password).algorithm == "argon2"
    signature_check_password(user=user, password="an older plant password")
    with pytest.raises(SignatureError):
        signature_check_password(user=user, password="not the password at all")


def _hashed_as_before_2026_12_06(user, password, settings):
    """The product's hashers, and the user's password stored as installations before 2026-12-06 hashed
    it: Argon2id with m=19 MiB, t=2 (another of OWASP's equivalent configurations)."""
    from django.contrib.auth.hashers import Argon2PasswordHasher

    from mes import settings as product

    settings.PASSWORD_HASHERS = product.PASSWORD_HASHERS
    earlier = Argon2PasswordHasher()
    earlier.time_cost, earlier.memory_cost, earlier.parallelism = 2, 19 * 1024, 1
    user.password = earlier.encode(password, earlier.salt())
    user.save()
    return user


@pytest.mark.req("SEC-1")
def test_argon2id_hashes_of_the_earlier_parameters_log_in_and_are_upgraded(client, users, settings):
    """Installations before 2026-12-06 hashed with m=19 MiB, t=2 (another of OWASP's equivalent
    configurations): such a password still logs in and signs, and the log-in re-hashes it with the
    plant's current parameters, so no user is locked out by the change."""
    user = _hashed_as_before_2026_12_06(users["qc"], "a password of the earlier install", settings)
    assert "$m=19456,t=2,p=1$" in user.password
    signature_check_password(user=user, password="a password of the earlier install")
    assert _login(client, "qc", "a password of the earlier install").status_code == 302
    user.refresh_from_db()
    assert user.password.startswith("argon2$argon2id$v=19$m=7168,t=5,p=1$")
    signature_check_password(user=user, password="a password of the earlier install")


def test_a_signature_checked_against_a_hash_of_earlier_parameters_keeps_the_signer_signed_in(client, users, settings):
    """A person signed in before the plant's hash parameters changed signs a step: the check leaves the
    stored hash as it is (their next log-in upgrades it), because re-hashing would change the session's
    auth hash and sign them out of this session and any other (a verifier's own tablet) mid-batch."""
    user = _hashed_as_before_2026_12_06(users["qc"], "signed in before the upgrade", settings)
    client.force_login(user)
    assert client.get("/").status_code == 200
    signature_check_password(user=user, password="signed in before the upgrade")
    user.refresh_from_db()
    assert "$m=19456,t=2,p=1$" in user.password
    assert client.get("/").status_code == 200  # still signed in: not sent to the log-in page
    assert _login(Client(), "qc", "signed in before the upgrade").status_code == 302
    user.refresh_from_db()
    assert user.password.startswith("argon2$argon2id$v=19$m=7168,t=5,p=1$")
