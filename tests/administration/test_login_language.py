"""Signing in switches the screens to the person's own language (issue 17): a Chinese-reading
operator on an English tablet reads Chinese from the first page after log-in; a person who chose no
language keeps what the browser asked for. One's own choice on the account page applies at once."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from administration.services.users import user_set_language
from mes.demo_accounts import DEMO_PASSWORD

pytestmark = pytest.mark.django_db

COOKIE = settings.LANGUAGE_COOKIE_NAME


def _sign_in(client: Client, username: str):
    return client.post(reverse("login"), {"username": username, "password": DEMO_PASSWORD})


def test_signing_in_switches_the_screens_to_the_persons_language(users):
    user_set_language(actor=users["operator"], user_id=users["operator"].pk, language="zh-hans")
    tablet = Client(HTTP_ACCEPT_LANGUAGE="en")
    tablet.cookies[COOKIE] = "en"  # the previous person on this tablet read English
    assert 'lang="en"' in tablet.get(reverse("login")).content.decode()
    answer = _sign_in(tablet, "operator")
    assert answer.status_code == 302
    assert answer.cookies[COOKIE].value == "zh-hans"
    home = tablet.get(reverse("home")).content.decode()
    assert 'lang="zh-hans"' in home and "退出" in home  # the header's "Sign out"


def test_without_a_choice_the_browser_language_stays(users):
    browser = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    answer = _sign_in(browser, "qa")
    assert answer.status_code == 302 and COOKIE not in answer.cookies
    assert 'lang="zh-hans"' in browser.get(reverse("home")).content.decode()
    english = Client(HTTP_ACCEPT_LANGUAGE="en")
    _sign_in(english, "qa")
    assert 'lang="en"' in english.get(reverse("home")).content.decode()


def test_a_failed_sign_in_sets_no_language(users):
    user_set_language(actor=users["operator"], user_id=users["operator"].pk, language="zh-hans")
    answer = Client().post(reverse("login"), {"username": "operator", "password": "wrong"})
    assert answer.status_code == 200 and COOKIE not in answer.cookies


def test_ones_own_choice_applies_to_the_screens_at_once(users, client_for):
    operator = client_for("operator")
    url = reverse("administration:account_language", kwargs={"pk": users["operator"].pk})
    answer = operator.post(url, {"language": "zh-hans"})
    assert answer.cookies[COOKIE].value == "zh-hans"
    assert 'lang="zh-hans"' in operator.get(reverse("administration:my_account")).content.decode()
    # An administrator choosing for someone else does not switch the administrator's own screens.
    admin = client_for("admin")
    other = reverse("administration:account_language", kwargs={"pk": users["qc"].pk})
    assert COOKIE not in admin.post(other, {"language": "zh-hans"}).cookies
