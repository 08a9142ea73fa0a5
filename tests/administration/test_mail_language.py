"""E-mails are written in the recipient's language (issue 17): each person's choice on his account
page, else the plant's language; never the language of the screen that caused the e-mail. A real SMTP
server on loopback receives them."""

from __future__ import annotations

import email
import socket
import time
from email import policy

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message as MessageHandler
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


class Inbox(MessageHandler):
    def __init__(self):
        super().__init__()
        self.messages: list[email.message.EmailMessage] = []

    def handle_message(self, message):
        self.messages.append(email.message_from_bytes(message.as_bytes(), policy=policy.default))


@pytest.fixture
def smtp(settings):
    """A real SMTP server on loopback; Django sends to it with its SMTP backend."""
    inbox = Inbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = "127.0.0.1", port, False
    yield inbox
    controller.stop()


def received(inbox, n: int) -> dict[str, email.message.EmailMessage]:
    for _ in range(100):
        if len(inbox.messages) >= n:
            break
        time.sleep(0.05)
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
