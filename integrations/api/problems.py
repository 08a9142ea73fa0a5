"""Every API error as data: `application/problem+json` (RFC 9457) with the request id, never an HTML page.

The body has the RFC's members (type, title, status, detail, instance) and ours: `code` (stable,
machine-readable), `message` (the detail, kept for existing clients), `errors` (field -> messages)
and `request_id` (the X-Request-ID of the call, also on its audit events and in the server log).
The DRF exception handler (errors.py) builds it for errors inside API views; the middleware below
does it for what happens outside them under /api/ (unknown URL, body too large, an unexpected error).
"""

from __future__ import annotations

import json
import logging
from http import HTTPStatus

from django.http import HttpResponse
from django.utils.translation import gettext as _

PROBLEM_JSON = "application/problem+json"
API_PREFIX = "/api/"
logger = logging.getLogger("integrations.api")


def problem_body(*, status: int, code: str, detail: str, errors=None, request=None, **extra) -> dict:
    try:
        title = HTTPStatus(status).phrase
    except ValueError:
        title = "Error"
    return {
        "type": f"urn:mes:problem:{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.path if request is not None else "",
        "request_id": getattr(request, "request_id", "") if request is not None else "",
        "code": code,
        "message": detail,
        "errors": errors or {},
        **extra,
    }


def problem_response(*, status: int, code: str, detail: str, errors=None, request=None) -> HttpResponse:
    body = problem_body(status=status, code=code, detail=detail, errors=errors, request=request)
    return HttpResponse(json.dumps(body, ensure_ascii=False, default=str), status=status, content_type=PROBLEM_JSON)


def _is_api(request) -> bool:
    return request.path.startswith(API_PREFIX)


class ApiProblemMiddleware:
    """Under /api/: an exception no view handled becomes a 500 problem (logged with its request id),
    and an HTML error page (404 of an unknown URL, 400 of a refused body, ...) becomes a problem."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not _is_api(request) or response.status_code < 400:
            return response
        content_type = response.get("Content-Type", "")
        if content_type.startswith(PROBLEM_JSON):
            return response
        if content_type.startswith("application/json") and _is_problem(response):
            response["Content-Type"] = PROBLEM_JSON
            return response
        code = {404: "not_found", 403: "permission_denied", 405: "method_not_allowed"}.get(
            response.status_code, "error"
        )
        detail = {404: _("Not found."), 403: _("You do not have permission to perform this action.")}.get(
            response.status_code, _("The request could not be handled.")
        )
        return problem_response(status=response.status_code, code=code, detail=detail, request=request)

    def process_exception(self, request, exception):
        if not _is_api(request):
            return None
        logger.exception("API error (request %s)", getattr(request, "request_id", "-"))
        return server_error_problem(request)


def _is_problem(response) -> bool:
    try:
        body = json.loads(response.content)
    except (ValueError, AttributeError):
        return False
    return isinstance(body, dict) and {"type", "status", "request_id"} <= body.keys()


def server_error_problem(request) -> HttpResponse:
    return problem_response(
        status=500,
        code="server_error",
        detail=_("The server could not complete the request; quote the request id when you report it."),
        request=request,
    )
