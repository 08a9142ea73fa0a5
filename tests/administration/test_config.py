"""Configuration change control (CFG-1..3): proposed -> approved by another person (signed) -> effective."""

import time
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from administration.models import ChangeStatus, ConfigChange, ConfigParameter
from administration.services.config import (
    config_change_approve,
    config_change_reject,
    config_change_withdraw,
    config_propose,
)
from audit.models import AuditEvent, Signature
from audit.signatures import SignatureError
from mes.config import config_get, config_invalidate

pytestmark = pytest.mark.django_db


def _param(name):
    return ConfigParameter.objects.get(name=name)


def _propose(users, name, value, reason="tighter control after audit"):
    return config_propose(user=users["admin"], parameter_id=_param(name).pk, new_value=value, reason=reason)


@pytest.mark.req("CFG-1", "CFG-2")
def test_a_change_takes_effect_only_when_approved_by_another_person(users, password, settings):
    settings.MES_LOCKOUT_THRESHOLD = 5
    change = _propose(users, "auth.lockout_threshold", "3")
    assert change.status == ChangeStatus.PROPOSED and change.old_value == "5"
    assert config_get("auth.lockout_threshold") == 5  # pending: no effect

    with pytest.raises(ValidationError, match="someone other than"):
        config_change_approve(user=users["admin"], change_id=change.pk, password=password)
    with pytest.raises(PermissionDenied):  # a role without the approval right
        config_change_approve(user=users["supervisor"], change_id=change.pk, password=password)
    assert config_get("auth.lockout_threshold") == 5

    config_change_approve(user=users["qa"], change_id=change.pk, password=password, reason="per SOP-IT-004")
    change.refresh_from_db()
    parameter = _param("auth.lockout_threshold")
    assert change.status == ChangeStatus.EFFECTIVE and change.version == 1 and change.decided_by == users["qa"]
    assert parameter.value == "3" and parameter.version == 1 and parameter.is_set
    assert config_get("auth.lockout_threshold") == 3
    signature = Signature.objects.get(object_type="administration.configchange", object_id=str(change.pk))
    assert signature.meaning == "approved" and signature.signer == users["qa"]
    # CFG-2: recorded, old and new value, who and why; the parameter keeps its versions
    event = AuditEvent.objects.filter(action="administration.configparameter.change").last()
    assert event.old == {"effective_at": None, "is_set": False, "value": "", "version": 0}
    assert event.new["value"] == "3" and event.username == "qa"
    assert parameter.history.count() >= 2


@pytest.mark.req("CFG-1")
def test_rejected_and_withdrawn_changes_have_no_effect(users, password):
    first = _propose(users, "auth.idle_timeout_minutes", "10")
    with pytest.raises(ValidationError):  # a rejection needs a reason
        config_change_reject(user=users["qa"], change_id=first.pk, password=password, reason="")
    config_change_reject(user=users["qa"], change_id=first.pk, password=password, reason="tablets are shared")
    second = _propose(users, "auth.idle_timeout_minutes", "12")
    with pytest.raises(PermissionDenied):
        config_change_withdraw(user=users["qa"], change_id=second.pk, reason="not mine")
    config_change_withdraw(user=users["admin"], change_id=second.pk, reason="duplicate")
    assert ConfigChange.objects.get(pk=first.pk).status == ChangeStatus.REJECTED
    assert ConfigChange.objects.get(pk=second.pk).status == ChangeStatus.WITHDRAWN
    assert config_get("auth.idle_timeout_minutes") == 15
    assert _param("auth.idle_timeout_minutes").version == 0


@pytest.mark.req("CFG-1")
@pytest.mark.parametrize(
    "name, value, message",
    [
        ("auth.lockout_threshold", "0", "between 1 and 20"),
        ("auth.lockout_threshold", "3.5", "whole number"),
        ("auth.lockout_threshold", "five", "Enter a number"),
        ("retention.record_years", "4", "between 5 and 50"),
        ("process.deadband_percent", "11", "between 0 and 10"),
        ("integrations.erp_endpoint", "not a url", "valid URL"),
        ("auth.totp_roles", "admin, pilot", "Unknown roles"),
        ("auth.signature_full_first", "maybe", "yes or no"),
    ],
)
def test_values_are_checked_against_type_and_range(users, name, value, message):
    with pytest.raises(ValidationError, match=message):
        _propose(users, name, value)


@pytest.mark.req("CFG-1")
def test_a_proposer_holding_the_approval_right_still_cannot_approve_his_own_change(users, password):
    from django.contrib.auth.models import Group

    both = users["admin"]
    both.groups.add(Group.objects.get(name="qa"))
    both = type(both).objects.get(pk=both.pk)  # fresh permission cache
    change = config_propose(user=both, parameter_id=_param("auth.alert_threshold").pk, new_value="2", reason="x")
    with pytest.raises(ValidationError, match="someone other than"):
        config_change_approve(user=both, change_id=change.pk, password=password)
    assert ConfigChange.objects.get(pk=change.pk).status == ChangeStatus.PROPOSED
    assert not Signature.objects.filter(object_type="administration.configchange").exists()


def test_a_proposal_needs_a_reason_and_a_different_value(users):
    with pytest.raises(ValidationError, match="reason"):
        _propose(users, "auth.lockout_threshold", "4", reason=" ")
    with pytest.raises(ValidationError, match="same as the value in force"):
        _propose(users, "auth.lockout_threshold", "5")
    with pytest.raises(PermissionDenied):
        config_propose(user=users["qa"], parameter_id=_param("auth.lockout_threshold").pk, new_value="4", reason="x")


def test_a_request_based_on_an_older_version_cannot_be_approved(users, password):
    a = _propose(users, "process.deadband_percent", "0.8")
    b = _propose(users, "process.deadband_percent", "0.9")
    config_change_approve(user=users["qa"], change_id=a.pk, password=password)
    with pytest.raises(ValidationError, match="changed since"):
        config_change_approve(user=users["qa"], change_id=b.pk, password=password)
    assert config_get("process.deadband_percent") == Decimal("0.8")


@pytest.mark.req("SEC-3")
def test_a_wrong_password_approves_nothing(users):
    change = _propose(users, "auth.lockout_threshold", "4")
    with pytest.raises(SignatureError):
        config_change_approve(user=users["qa"], change_id=change.pk, password="wrong-password-1")
    assert ConfigChange.objects.get(pk=change.pk).status == ChangeStatus.PROPOSED
    assert AuditEvent.objects.filter(action="signature.failed", username="qa").exists()


@pytest.mark.req("CFG-1", "SEC-1")
def test_lockout_and_idle_timeout_follow_the_approved_configuration(users, password, monkeypatch):
    change = _propose(users, "auth.lockout_threshold", "2")
    config_change_approve(user=users["qa"], change_id=change.pk, password=password)
    client = Client()
    for _ in range(2):
        client.post(reverse("login"), {"username": "planner", "password": "wrong-password!"})
    from mes.security import security_is_locked

    assert security_is_locked(users["planner"])

    change = _propose(users, "auth.idle_timeout_minutes", "5")
    config_change_approve(user=users["qa"], change_id=change.pk, password=password)
    c = Client()
    c.post(reverse("login"), {"username": "warehouse", "password": password})
    assert c.get(reverse("home")).status_code == 200
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 6 * 60)
    assert c.get(reverse("home")).status_code == 302  # 6 min > the approved 5 (the default is 15)


def test_config_get_sees_a_change_made_by_another_process(users, settings, tmp_path):
    """Each process caches values; the generation file an approval replaces invalidates them all."""
    from mes import config as parameters

    settings.VAR_DIR = tmp_path
    assert config_get("auth.alert_threshold") == 3
    parameter = _param("auth.alert_threshold")
    # another process approved a change: the row changed and the generation file was replaced
    from audit.context import audit_context
    from audit.services import audit_record  # noqa: F401 - the save below is audited

    with audit_context(action="test.other_process"):
        parameter.value, parameter.is_set, parameter.version = "4", True, 1
        parameter.save()
    assert config_get("auth.alert_threshold") == 3  # still the cached value in this process ...
    parameters._local["stamp"] = parameters._file_stamp()  # (as if this process had read it just now)
    config_invalidate()  # ... until the generation changes
    assert config_get("auth.alert_threshold") == 4


@pytest.mark.req("CFG-1", "CFG-2")
def test_pages_propose_and_approve(client_for, users, password):
    admin, qa = client_for("admin"), client_for("qa")
    parameter = _param("process.default_tolerance_percent")
    url = reverse("administration:config_detail", args=[parameter.pk])
    response = admin.post(url, {"new_value": "1.2", "reason": "balance upgrade"})
    change = ConfigChange.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "administration:change_detail", args=[change.pk]
    )
    page = admin.get(reverse("administration:change_detail", args=[change.pk])).content.decode()
    assert 'data-testid="action-withdraw"' in page and 'data-testid="action-approve"' not in page
    page = qa.get(reverse("administration:change_detail", args=[change.pk])).content.decode()
    assert 'data-testid="action-approve"' in page and 'data-testid="action-reject"' in page
    qa.post(reverse("administration:change_detail", args=[change.pk]), {"action": "approve", "password": "nope"})
    assert ConfigChange.objects.get().status == ChangeStatus.PROPOSED
    qa.post(reverse("administration:change_detail", args=[change.pk]), {"action": "approve", "password": password})
    assert ConfigChange.objects.get().status == ChangeStatus.EFFECTIVE
    listing = qa.get(reverse("administration:config_list")).content.decode()
    assert "1.2" in listing
    # an auditor reads, but cannot propose
    auditor = client_for("auditor")
    assert auditor.get(url).status_code == 200
    assert auditor.post(url, {"new_value": "1.3", "reason": "x"}).status_code == 403


@pytest.mark.req("CFG-3")
def test_configuration_review_report_and_signed_review(client_for, users, password):
    change = _propose(users, "auth.alert_threshold", "2")
    config_change_approve(user=users["qa"], change_id=change.pk, password=password, reason="ok")
    qa = client_for("qa")
    page = qa.get(reverse("administration:config_review"))
    body = page.content.decode()
    assert page.status_code == 200 and "auth.alert_threshold" in body
    assert "Jun Ma" in body and "Min Zhao" in body  # proposed by the administrator, approved by QA
    assert page.context["due"]
    today = page.context["end"]
    response = qa.post(
        reverse("administration:review_sign"),
        {
            "review-kind": "configuration",
            "review-period_start": page.context["start"],
            "review-period_end": today,
            "review-findings": "All changes approved per SOP; no findings.",
            "review-password": password,
        },
    )
    assert response.status_code == 302
    from administration.models import PeriodicReview

    review = PeriodicReview.objects.get()
    assert review.reviewer == users["qa"]
    assert Signature.objects.filter(object_type="administration.periodicreview", meaning="reviewed").count() == 1
    assert not qa.get(reverse("administration:config_review")).context["due"]


def test_config_pages_have_bounded_queries(client_for, users, django_assert_max_num_queries):
    for name, value in [
        ("auth.lockout_threshold", "4"),
        ("auth.alert_threshold", "2"),
        ("process.deadband_percent", "1"),
    ]:
        _propose(users, name, value)
    qa = client_for("qa")
    with django_assert_max_num_queries(14):
        assert qa.get(reverse("administration:config_list")).status_code == 200
    with django_assert_max_num_queries(14):
        assert qa.get(reverse("administration:change_list")).status_code == 200
    with django_assert_max_num_queries(16):
        assert qa.get(reverse("administration:config_review")).status_code == 200
