"""The session and its user are read with plain statements on every request (issue 20: mes.sessions,
mes.auth_backends.LockoutAwareBackend.get_user): they must refuse exactly what Django's reads refused."""

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.urls import reverse
from django.utils import timezone

from mes.models import UserSecurity

pytestmark = pytest.mark.django_db


def _signed_out(response) -> bool:
    return response.status_code == 302 and reverse("login") in response["Location"]


def test_a_locked_account_loses_its_open_session_and_gets_it_back_when_unlocked(client_for, users):
    operator = client_for("operator")
    assert operator.get(reverse("home")).status_code == 200
    UserSecurity.objects.update_or_create(user=users["operator"], defaults={"locked_at": timezone.now()})
    assert _signed_out(operator.get(reverse("home")))
    UserSecurity.objects.filter(user=users["operator"]).update(locked_at=None)
    page = operator.get(reverse("home"))
    assert page.status_code == 200 and page.context["user"].get_username() == "operator"


def test_a_deactivated_account_loses_its_open_session(client_for, users):
    operator = client_for("operator")
    assert operator.get(reverse("home")).status_code == 200
    get_user_model().objects.filter(pk=users["operator"].pk).update(is_active=False)
    assert _signed_out(operator.get(reverse("home")))


def test_an_expired_session_is_not_read(client_for):
    qa = client_for("qa")
    assert qa.get(reverse("home")).status_code == 200
    Session.objects.filter(session_key=qa.session.session_key).update(
        expire_date=timezone.now() - dt.timedelta(seconds=1)
    )
    assert _signed_out(qa.get(reverse("home")))


def test_the_user_read_with_the_session_is_the_whole_account(client_for, users):
    qa = client_for("qa")
    user = qa.get(reverse("home")).context["user"]
    stored = get_user_model().objects.get(pk=users["qa"].pk)
    assert user.pk == stored.pk and user.last_login == stored.last_login and user.is_active is True
    assert user.get_full_name() == stored.get_full_name() and not hasattr(user, "mes_locked")
