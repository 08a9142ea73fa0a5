"""View helpers: run a service, turn its refusal into a message in words."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError

from audit.signatures import SignatureError
from mes.workflow import AlreadyDone


def error_text(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(str(m) for m in exc.messages)
    return str(exc)


def run_service(request, call: Callable, success: str = "") -> object | None:
    """Call a service; on a refusal, show why and return None."""
    try:
        result = call()
    except AlreadyDone as exc:  # the same person's repeated submit (double click): not an error
        messages.info(request, error_text(exc))
        return None
    except (ValidationError, PermissionDenied, SignatureError) as exc:
        messages.error(request, error_text(exc))
        return None
    if success:
        messages.success(request, success)
    return result


def apply_form_errors(form, exc: ValidationError) -> None:
    """Put a service's field errors on the form (others as non-field errors)."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)
