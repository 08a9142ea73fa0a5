"""The session and its user are read with plain statements on every request (issue 20: mes.sessions,
mes.auth_backends.LockoutAwareBackend.get_user): they must refuse exactly what Django's reads refused."""

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore as DjangoSessionStore
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit.signatures import SignatureError, signature_check_password
from mes.auth_backends import LockoutAwareBackend
from mes.models import UserSecurity
from mes.sessions import SessionStore

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


def test_the_session_read_on_a_cursor_is_djangos_session(client_for):
    """The session row is read with a plain statement: the data Django's own store reads for a live
    session; an unknown key reads as no session and forgets the key, as Django's store does."""
    qa = client_for("qa")
    assert qa.get(reverse("home")).status_code == 200
    key = qa.session.session_key
    ours, djangos = SessionStore(key).load(), DjangoSessionStore(key).load()
    assert ours == djangos and ours["_auth_user_id"] == str(get_user_model().objects.get(username="qa").pk)
    unknown = SessionStore("no-such-session-key-0000000000")
    assert unknown.load() == {} and unknown.session_key is None


def test_the_user_read_with_the_session_is_the_whole_account(client_for, users):
    qa = client_for("qa")
    user = qa.get(reverse("home")).context["user"]
    stored = get_user_model().objects.get(pk=users["qa"].pk)
    assert user.pk == stored.pk and user.last_login == stored.last_login and user.is_active is True
    assert user.get_full_name() == stored.get_full_name() and not hasattr(user, "mes_locked")


def _resets(queries) -> int:
    table = UserSecurity._meta.db_table
    return sum(q["sql"].startswith("UPDATE") and table in q["sql"] for q in queries.captured_queries)


@pytest.mark.req("SEC-3")
def test_a_signature_forgets_the_failures_counted_when_the_request_began(users, password):
    """The session's user is read with whether failed attempts are counted: a signature resets them
    then (as before), and skips the reset when there were none. A failure counted by another request
    after this one began is kept (it errs toward locking the account, never away from it)."""
    backend, qc = LockoutAwareBackend(), users["qc"]
    clean = backend.get_user(qc.pk)
    assert clean.mes_failing is False
    with CaptureQueriesContext(connection) as queries:
        signature_check_password(user=clean, password=password)
    assert _resets(queries) == 0
    with pytest.raises(SignatureError):
        signature_check_password(user=qc, password="not-the-password")  # another tablet, meanwhile
    signature_check_password(user=clean, password=password)
    assert UserSecurity.objects.get(user=qc).failed_attempts == 1  # kept: counted after `clean` was read
    failing = backend.get_user(qc.pk)
    assert failing.mes_failing is True
    signature_check_password(user=failing, password=password)
    assert UserSecurity.objects.get(user=qc).failed_attempts == 0
