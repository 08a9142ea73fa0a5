"""The language a person reads: their preference (mes.models.UserPreference), else the plant's.

The preference is "my language": the screens switch to it when the person signs in (the language
cookie is set on the log-in answer; the header's EN/中文 buttons still switch this device for the rest
of the session), and e-mails to the person are written in it.

E-mails are written in the recipient's language, not in the language of whoever's request caused
them: a lock-out alert raised from a Chinese log-in page reaches an English-reading administrator in
English. `recipients_by_language` groups addresses so one message per language is rendered under
`translation.override`.
"""

from __future__ import annotations

from collections import defaultdict

from django.conf import settings
from django.contrib.auth import get_user_model

from mes.models import UserPreference


def plant_language() -> str:
    return settings.LANGUAGE_CODE


def chosen_language(user) -> str:
    """The language `user` chose, or "" when they left it to the plant."""
    if user is None or not getattr(user, "pk", None):
        return ""
    return UserPreference.objects.filter(user_id=user.pk).values_list("language", flat=True).first() or ""


def remember_language(response, language: str) -> None:
    """Make `language` this browser's interface language, as Django's own language switch does."""
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )


def user_language(user) -> str:
    """The language `user` chose, or the plant's language when they chose none."""
    return chosen_language(user) or plant_language()


def recipients_by_language(addresses: list[str]) -> dict[str, list[str]]:
    """Addresses grouped by their owner's language; an address no active user has gets the plant's."""
    owners: dict[str, str] = {}
    users = get_user_model().objects.filter(is_active=True, email__in=addresses).order_by("pk")
    chosen = dict(UserPreference.objects.filter(user__in=users).values_list("user_id", "language"))
    for user in users:
        owners.setdefault(user.email.lower(), chosen.get(user.pk) or plant_language())
    grouped: dict[str, list[str]] = defaultdict(list)
    for address in addresses:
        grouped[owners.get(address.lower(), plant_language())].append(address)
    return dict(grouped)
