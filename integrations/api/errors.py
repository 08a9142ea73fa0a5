"""Errors of the API: always `application/problem+json` (RFC 9457, see problems.py) with a code,
a message, the field errors (for 400) and the request id; never an HTML page, 500 included.

Business rules refused by a service (Django ValidationError) become 400s like serializer errors,
a missing record is 404, a refused permission 403, anything unexpected a 500 (logged with the
request id, its transaction rolled back). A caller without any credentials is sent to log in (as
for every page); a caller with a bad token gets 401.
"""

from __future__ import annotations

import logging

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ObjectDoesNotExist, RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from integrations.api.problems import PROBLEM_JSON, problem_body
from integrations.services.inbox import error_detail

logger = logging.getLogger("integrations.api")


class PayloadTooLarge(exceptions.APIException):
    status_code = 413
    default_code = "too_large"
    default_detail = "The request body is too large."


def exception_handler(exc, context):
    request = context.get("request")
    if isinstance(exc, exceptions.NotAuthenticated) and request is not None:
        if not request.META.get("HTTP_AUTHORIZATION"):
            return redirect_to_login(request.get_full_path())
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(detail=error_detail(exc))
    elif isinstance(exc, (ObjectDoesNotExist, Http404)):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(detail=str(exc) or None)
    elif isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge(detail=_("The request body is larger than the server accepts."))
    elif isinstance(exc, SuspiciousOperation):
        exc = exceptions.ParseError(detail=_("The request was refused as malformed."))
    response = drf_exception_handler(exc, context)
    if response is None:
        logger.exception("API error (request %s)", getattr(request, "request_id", "-"), exc_info=exc)
        set_rollback()
        response = Response(status=500)
        code, detail, errors = (
            "server_error",
            _("The server could not complete the request; quote the request id when you report it."),
            {},
        )
    elif isinstance(exc, exceptions.ValidationError):
        errors = response.data if isinstance(response.data, dict) else {"non_field_errors": response.data}
        code, detail = "invalid", _("The request is not valid.")
    else:
        detail = response.data.get("detail", "") if isinstance(response.data, dict) else response.data
        code, errors = getattr(exc, "default_code", "error"), {}
    if request is not None:  # JSON whatever the caller accepts (no browsable-API HTML error page)
        request.accepted_renderer, request.accepted_media_type = JSONRenderer(), "application/json"
    response.data = problem_body(
        status=response.status_code, code=code, detail=str(detail), errors=errors, request=request
    )
    response.content_type = PROBLEM_JSON
    return response
