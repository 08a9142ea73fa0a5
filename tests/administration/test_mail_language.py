"""E-mails are written in the recipient's language (issue 17): each person's choice on his account
page, else the plant's language; never the language of the screen that caused the e-mail. A real SMTP
server on loopback receives them."""

from __future__ import annotations

import email

import pytest
from django.urls import reverse
from django.utils import translation

from administration.models import AlertKind
from administration.services.alerts import FAILED_IN_A_ROW, alert_raise
from administration.services.users import user_reset_password, user_set_language
from audit.models import AuditEvent
from mes.languages import user_language
from mes.models import UserPreference
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def received(inbox, n: int) -> dict[str, email.message.EmailMessage]:
    inbox.wait_for(n)
    assert len(inbox.messages) == n
    return {m["To"]: m for m in inbox.messages}


def test_temporary_passwords_reach_each_person_in_his_language(users, smtp):
    zh, en = users["analyst"], users["operator"]
    zh.email, en.email = "analyst@plant.test", "operator@plant.test"
    zh.save(), en.save()
    user_set_language(actor=zh, user_id=zh.pk, language="zh-hans")
    with translation.override("zh-hans"):  # the administrator works on a Chinese screen
        user_reset_password(actor=users["admin"], user_id=zh.pk, reason="forgotten")
        user_reset_password(actor=users["admin"], user_id=en.pk, reason="forgotten")
    mails = received(smtp, 2)
    assert mails["analyst@plant.test"]["Subject"] == "您的MES临时密码"
    assert "临时密码" in mails["analyst@plant.test"].get_content()
    assert mails["operator@plant.test"]["Subject"] == "Your temporary MES password"  # the plant's language
    assert "Temporary password:" in mails["operator@plant.test"].get_content()


def test_a_security_alert_reaches_each_administrator_in_his_language(users, smtp):
    first, second = users["admin"], make_user("admin2", "admin")
    first.email, second.email = "admin@plant.test", "admin2@plant.test"
    first.save(), second.save()
    user_set_language(actor=second, user_id=second.pk, language="zh-hans")
    with translation.override("zh-hans"):  # raised from a Chinese log-in page
        alert = alert_raise(
            kind=AlertKind.FAILED_LOGINS, username="operator", attempts=3, detail=FAILED_IN_A_ROW(n=3), mail_now=True
        )
    assert alert.detail == "3 failed attempts in a row."  # stored in English
    mails = received(smtp, 2)
    english, chinese = mails["admin@plant.test"].get_content(), mails["admin2@plant.test"].get_content()
    assert "Detail: 3 failed attempts in a row." in english
    assert "Review and acknowledge it on the MES security alerts page." in english
    assert "连续 3 次失败。" in chinese and "failed attempts" not in chinese
    assert mails["admin2@plant.test"]["Subject"].startswith("[MES 安全]")


def test_the_language_of_e_mails_is_set_on_the_own_account_page_and_by_the_administrator(users, client_for):
    operator = client_for("operator")
    assert user_language(users["operator"]) == "en"  # no choice: the plant's language
    url = reverse("administration:account_language", kwargs={"pk": users["operator"].pk})
    assert operator.post(url, {"language": "zh-hans"}).status_code == 302
    assert user_language(users["operator"]) == "zh-hans"
    event = AuditEvent.objects.filter(action="auth.user.language").latest("seq")
    assert event.new == {"language": "zh-hans"} and event.old == {"language": ""}
    assert "zh-hans" in operator.get(reverse("administration:my_account")).content.decode()
    other = reverse("administration:account_language", kwargs={"pk": users["qa"].pk})
    assert operator.post(other, {"language": "zh-hans"}).status_code == 403
    assert not UserPreference.objects.filter(user=users["qa"]).exists()
    admin = client_for("admin")
    admin.post(other, {"language": "zh-hans"})
    assert user_language(users["qa"]) == "zh-hans"
    admin.post(other, {"language": "xx"})  # refused: not an offered language
    assert user_language(users["qa"]) == "zh-hans"
    admin.post(other, {"language": ""})  # back to the plant's language
    assert user_language(users["qa"]) == "en"
