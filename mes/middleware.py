"""Request context for the audit trail, the idle session time-out, and redirects answered to htmx."""

from __future__ import annotations

import re
import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.utils.translation import gettext as _

from audit.context import new_request_id, request_scope
from mes.clientaddr import client_address
from mes.config import config_get_or_default

_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
# Requests that must not count as user activity (htmx polling of live boards sends this header).
BACKGROUND_HEADER = "HTTP_X_MES_BACKGROUND"


def client_ip(request) -> str:
    """The client's address as the audit trail records it (behind trusted proxies: mes.clientaddr)."""
    return client_address(request.META)


class RequestContextMiddleware:
    """Gives each request an id (kept from X-Request-ID when well-formed) for its audit events."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        request.request_id = incoming if _REQUEST_ID_RE.match(incoming) else new_request_id()
        with request_scope(request, request.request_id, client_ip(request)):
            response = self.get_response(request)
        response["X-Request-ID"] = request.request_id
        return response


def idle_timeout_seconds() -> int:
    """The controlled configuration value (CFG-1); settings.MES_IDLE_TIMEOUT_MINUTES until one is approved."""
    return config_get_or_default("auth.idle_timeout_minutes", settings.MES_IDLE_TIMEOUT_MINUTES) * 60


class IdleTimeoutMiddleware:
    """Ends a session after the idle time-out (configuration auth.idle_timeout_minutes) without user
    activity (Annex 11 §12)."""

    SESSION_KEY = "mes_last_activity"
    # The activity stamp is rewritten at most this often: writing it on every request saved the
    # session (a database transaction) on every page. A session may so end up to this many seconds
    # later than the time-out, on a time-out of minutes.
    STAMP_EVERY = 15

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = time.time()
            last = request.session.get(self.SESSION_KEY)
            if last is not None and now - last > idle_timeout_seconds():
                request.mes_logout_reason = "idle timeout"
                logout(request)
                messages.info(request, _("You were signed out after a period without activity. Please sign in again."))
                return redirect_to_login(request.get_full_path())
            if not request.META.get(BACKGROUND_HEADER) and (last is None or now - last >= self.STAMP_EVERY):
                request.session[self.SESSION_KEY] = now
        return self.get_response(request)


class HtmxRedirectMiddleware:
    """A redirect answered to a part of a page (htmx) makes the whole page go there.

    The browser follows a redirect of htmx's request itself, so the log-in page of an ended session
    (or the second factor, or a required password change) would be put into the block that asked,
    say a value on the step screen. Answered with htmx's HX-Redirect header instead, the tablet shows
    that page, and the value was not recorded."""

    REDIRECTS = frozenset({301, 302, 303, 307, 308})

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code in self.REDIRECTS and request.headers.get("HX-Request") == "true":
            response["HX-Redirect"] = response["Location"]
            del response["Location"]
            response.status_code = 204  # no content: htmx goes where HX-Redirect says
        return response
