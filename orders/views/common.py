"""Small helpers shared by the orders pages."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from audit.signatures import SignatureError

# Errors a service raises that the user can correct: shown on the form, nothing was changed.
USER_ERRORS = (ValidationError, SignatureError)


def form_errors(form, exc: Exception) -> None:
    """Put a service's refusal onto the form: field errors beside their fields, the rest on top."""
    if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
        for field, messages in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, messages)
    elif isinstance(exc, ValidationError):
        form.add_error(None, exc.messages)
    else:
        form.add_error(None, str(exc))


def query_without_page(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()
