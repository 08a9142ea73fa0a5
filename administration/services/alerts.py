"""Security alerts for administrators (21 CFR 11.300(d)): a notice on their pages and an e-mail, at once.

Raised when failed log-ins or signature attempts for one account reach the alert threshold
(configuration auth.alert_threshold), when an account is locked, and when someone tries to delete
a GMP record. Administrators acknowledge an alert with a comment; it is never deleted.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from administration.models import AlertKind, SecurityAlert
from audit.context import audit_context
from mes.config import config_get_or_default
from mes.generated import GeneratedText, localized
from mes.languages import recipients_by_language
from mes.workflow import user_may

LOCKED_AFTER_FAILURES = GeneratedText(gettext_noop("Locked after %(n)s failed attempts (last: %(kind)s)."))
FAILED_IN_A_ROW = GeneratedText(gettext_noop("%(n)s failed attempts in a row."))

logger = logging.getLogger("mes.security")
ACK = "administration.change_securityalert"


def alert_raise(
    *, kind: str, username: str = "", detail: str = "", attempts: int = 0, mail_now: bool = False
) -> SecurityAlert:
    """Record an alert and e-mail every active administrator once the record is committed.

    `mail_now` sends at once even if the caller's transaction is later rolled back (a refused
    deletion usually is): the e-mail and the server log then keep the trace."""
    with transaction.atomic(), audit_context(action="administration.securityalert.raise"):
        alert = SecurityAlert.objects.create(
            kind=kind, username=username[:150], detail=detail, attempts=attempts, raised_at=timezone.now()
        )
    logger.warning("security alert %s user=%s attempts=%s %s", kind, username, attempts, detail)
    if mail_now:
        _mail_administrators(alert)
    else:
        transaction.on_commit(lambda: _mail_administrators(alert))
    return alert


def administrator_emails() -> list[str]:
    users = get_user_model().objects.filter(is_active=True, groups__name="admin").exclude(email="")
    return sorted(set(users.values_list("email", flat=True)))


def _mail_administrators(alert: SecurityAlert) -> None:
    recipients = administrator_emails()
    if not recipients:
        logger.error("security alert %s: no administrator has an e-mail address", alert.pk)
        return
    try:
        for language, addresses in recipients_by_language(recipients).items():
            with translation.override(language):  # each administrator reads it in his own language
                subject, body = _alert_message(alert)
                send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, addresses)
    except Exception:  # noqa: BLE001 - the alert is recorded and shown; a mail outage must not hide it
        logger.exception("security alert %s: e-mail to administrators failed", alert.pk)


def _alert_message(alert: SecurityAlert) -> tuple[str, str]:
    """Subject and body of the alert e-mail in the active language."""
    subject = _("[MES security] %(kind)s: %(user)s") % {"kind": alert.get_kind_display(), "user": alert.username or "-"}
    body = "\n".join(
        [
            str(alert.get_kind_display()),
            _("User: %(user)s") % {"user": alert.username or "-"},
            _("Failed attempts: %(n)s") % {"n": alert.attempts},
            _("Time (UTC): %(time)s") % {"time": f"{alert.raised_at:%Y-%m-%d %H:%M:%S}"},
            _("Detail: %(detail)s") % {"detail": localized(alert.detail) or "-"},
            "",
            _("Review and acknowledge it on the MES security alerts page."),
        ]
    )
    return subject, body


def on_authentication_failed(*, user, kind: str, attempts: int, newly_locked: bool, **kwargs) -> None:
    """Receiver of mes.security.authentication_failed: alert at the threshold and at lock-out.

    The e-mail goes at once, not after commit: a caller that checks a signature inside its own
    transaction rolls it back on failure, and the administrators must still hear of it."""
    threshold = config_get_or_default("auth.alert_threshold", 3)
    username = user.get_username()
    if newly_locked:
        alert_raise(
            kind=AlertKind.ACCOUNT_LOCKED,
            username=username,
            attempts=attempts,
            detail=LOCKED_AFTER_FAILURES % {"n": attempts, "kind": kind},
            mail_now=True,
        )
    elif attempts == threshold:
        alert_raise(
            kind=AlertKind.FAILED_SIGNATURES if kind == "signature" else AlertKind.FAILED_LOGINS,
            username=username,
            attempts=attempts,
            detail=FAILED_IN_A_ROW % {"n": attempts},
            mail_now=True,
        )


def alert_acknowledge(*, user, alert_id: int, comment: str) -> SecurityAlert:
    """An administrator confirms the alert was looked into (audited, with the comment)."""
    if not user_may(user, ACK):
        raise PermissionDenied(_("Only an administrator can acknowledge security alerts."))
    comment = (comment or "").strip()
    if not comment:
        raise ValidationError(_("Say what you found or did."))
    with transaction.atomic():
        alert = SecurityAlert.objects.select_for_update().get(pk=alert_id)
        if alert.acknowledged_at is not None:
            raise ValidationError(_("This alert was already acknowledged."))
        alert.acknowledged_by = user
        alert.acknowledged_at = timezone.now()
        alert.comment = comment
        with audit_context(actor=user, action="administration.securityalert.acknowledge", reason=comment):
            alert.save()
    return alert


def open_alerts():
    return SecurityAlert.objects.filter(acknowledged_at__isnull=True)
