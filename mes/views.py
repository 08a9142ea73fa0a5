"""Project-wide pages: the role home page, health check, log-in and the error pages."""

from __future__ import annotations

import sys

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.contrib.sessions.exceptions import SessionInterrupted
from django.db import InterfaceError, OperationalError, connection
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.views import defaults
from django.views.decorators.cache import never_cache

from mes.forms import LoginForm
from mes.health import broker_reachable
from mes.languages import chosen_language, remember_language
from mes.registry import nav_items_for
from mes.roles import role_codes, role_label
from mes.workqueue import work_cards


def home(request):
    """The first screen after log-in: the user's roles and the work waiting for each."""

    roles = role_codes(request.user)
    context = {
        "roles": [role_label(r) for r in roles],
        "cards": work_cards(request.user),
        "shortcuts": nav_items_for(request.user),
    }
    return render(request, "mes/home.html", context)


@login_not_required
@never_cache
def healthz(request):
    """Database and broker reachability: 200 when both answer, 503 otherwise (JSON)."""
    checks = {"database": _database_ok(), "broker": broker_reachable()}
    healthy = all(c["ok"] for c in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", "checks": checks}, status=200 if healthy else 503
    )


def _database_ok() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return {"ok": True, "vendor": connection.vendor}
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        return {"ok": False, "vendor": connection.vendor, "error": exc.__class__.__name__}


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form):
        """Signed in: the screens switch to the person's own language, if they chose one."""
        response = super().form_valid(form)
        language = chosen_language(form.get_user())
        if language:
            remember_language(response, language)
        return response


def error_403(request, exception=None):
    return render(request, "errors/403.html", status=403)


def error_404(request, exception=None):
    return render(request, "errors/404.html", status=404)


def error_400(request, exception=None):
    """Bad request. A session that could not be saved at the end of the request (Django raises
    SessionInterrupted) during a database outage is not the user's fault: it gets the 503 page."""
    if isinstance(exception, SessionInterrupted) and not _database_ok()["ok"]:
        return _unavailable()
    return defaults.bad_request(request, exception)


def _unavailable() -> HttpResponse:
    return HttpResponse(loader.render_to_string("errors/503.html"), status=503, headers={"Retry-After": "5"})


def error_500(request):
    """The error page, rendered without the request's context processors (navigation, user, settings):
    they need the database, and the page must show when the database is what failed. A lost database
    connection gets its own page and 503 (try again in a moment) instead of "something went wrong"."""
    failure = sys.exc_info()[1]
    if isinstance(failure, (OperationalError, InterfaceError)):
        return _unavailable()
    return HttpResponse(loader.render_to_string("errors/500.html"), status=500)
