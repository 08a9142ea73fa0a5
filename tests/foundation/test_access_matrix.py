"""The access matrix: every URL name × every role, from the rules each app declares in access.py.

A view without a declared rule fails `test_every_url_has_a_declared_rule`; a role reaching a page it
should not (or missing one it needs) fails the matrix.
"""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from mes.registry import access_rules
from mes.roles import ROLES

SKIPPED_NAMESPACES = {"admin"}  # Django admin: is_staff + model permissions, tested separately


def url_names(resolver=None, namespace=""):
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace or ""
            if ns in SKIPPED_NAMESPACES:
                continue
            yield from url_names(entry, f"{namespace}{ns}:" if ns else namespace)
        elif isinstance(entry, URLPattern) and entry.name:
            yield f"{namespace}{entry.name}"


RULES = access_rules()
GET_RULES = sorted(name for name, rule in RULES.items() if rule.method == "get" and not rule.public)


def test_every_url_has_a_declared_rule():
    missing = sorted(set(url_names()) - set(RULES))
    assert not missing, f"URLs without an access rule in <app>/access.py: {missing}"


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """The demo plant, loaded once for the module and rolled back afterwards."""
    with django_db_blocker.unblock():
        with transaction.atomic():
            call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
            from audit.models import AuditEvent

            data = {"audit_seq": AuditEvent.objects.order_by("seq").values_list("seq", flat=True).first()}
            yield data
            transaction.set_rollback(True)


def _url(name, seeded):
    rule = RULES[name]
    kwargs = rule.make_kwargs(seeded) if rule.make_kwargs else rule.kwargs
    return reverse(name, kwargs=kwargs or None)


@pytest.mark.req("SEC-1", "SEC-2", "AUD-5")
@pytest.mark.parametrize("name", GET_RULES)
@pytest.mark.parametrize("role", sorted(ROLES))
def test_role_reaches_only_its_pages(seeded, db, name, role):
    user = get_user_model().objects.filter(groups__name=role).order_by("id").first()
    client = Client()
    client.force_login(user)
    status = client.get(_url(name, seeded)).status_code
    expected = 200 if role in RULES[name].roles else 403
    assert status == expected, f"{role} on {name}: got {status}, expected {expected}"


@pytest.mark.req("SEC-1")
@pytest.mark.parametrize("name", GET_RULES)
def test_anonymous_users_are_sent_to_log_in(seeded, db, name):
    response = Client().get(_url(name, seeded))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_admin_site_needs_staff(seeded, db):
    assert Client().get("/admin/").status_code == 302
    operator = Client()
    operator.force_login(get_user_model().objects.get(username="operator"))
    assert operator.get("/admin/").status_code == 302  # not staff: sent to the admin log-in


# --- object-level checks ----------------------------------------------------------------------------
# An app's access.py may declare OBJECT_ACCESS = {"url-name": {"role": ..., "allowed": f(data, user),
# "denied": f(data, user)}}: the role opens the record it is entitled to (200) and is refused one whose
# id it guesses (403 or 404), e.g. an operator and a batch he is not assigned to.
def _object_rules():
    from mes.registry import _app_modules

    rules = {}
    for _config, module in _app_modules("access"):
        rules.update(getattr(module, "OBJECT_ACCESS", {}))
    return rules


OBJECT_RULES = _object_rules()


@pytest.mark.req("SEC-2")
@pytest.mark.parametrize("name", sorted(OBJECT_RULES))
def test_object_level_access_cannot_be_bypassed_by_guessing_an_id(seeded, db, name):
    rule = OBJECT_RULES[name]
    user = get_user_model().objects.filter(groups__name=rule["role"]).order_by("id").first()
    client = Client()
    client.force_login(user)
    assert client.get(reverse(name, kwargs=rule["allowed"](seeded, user))).status_code == 200
    assert client.get(reverse(name, kwargs=rule["denied"](seeded, user))).status_code in (403, 404)


# --- CSRF on every POST -------------------------------------------------------------------------
def _all_urls(seeded):
    for name in sorted(RULES):
        try:
            yield name, _url(name, seeded)
        except Exception:  # noqa: BLE001 - a rule whose objects the demo data lacks is covered elsewhere
            continue


@pytest.mark.req("SEC-1", "SEC-2")
def test_every_url_refuses_a_post_without_a_csrf_token(seeded, db):
    """Forged cross-site POSTs fail everywhere: CSRF is checked before any view runs."""
    admin = get_user_model().objects.get(username="admin")
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin)
    accepted = []
    for name, url in _all_urls(seeded):
        response = client.post(url, {"reason": "forged", "password": "x"})
        if response.status_code != 403 or b"CSRF" not in response.content:
            accepted.append(f"{name}: {response.status_code}")
    assert not accepted, f"POST without a CSRF token was not refused: {accepted}"
    assert len(RULES) > 20
