"""What every API view shares: role permissions like the pages, and one audit event per call."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _
from rest_framework import exceptions, permissions
from rest_framework.views import APIView

from audit.services import audit_record


class HasPermissions(permissions.BasePermission):
    """The view's `permissions_required[method]` (or ["*"] for any method): the same Django
    permissions the pages check, so an integration account can do what its roles allow."""

    def has_permission(self, request, view):
        user = request.user
        if not user or not user.is_authenticated:
            return False
        needed = getattr(view, "permissions_required", {})
        perms = needed.get(request.method, needed.get("*", ()))
        if request.method == "HEAD":
            perms = needed.get("GET", perms)
        return user.has_perms(perms)


class AuditedMixin:
    """Every authenticated call (read or write) is one audit event with the caller as actor."""

    permission_classes = [HasPermissions]
    permissions_required: dict = {}

    def initial(self, request, *args, **kwargs):
        # A NUL character can be neither stored nor looked up (PostgreSQL refuses it): say so (400).
        if (
            "\x00" in request.path
            or "\x00" in request.META.get("QUERY_STRING", "")
            or any("\x00" in value for values in request.query_params.lists() for value in values[1])
        ):
            raise exceptions.ParseError(_("The request contains a NUL character."))
        super().initial(request, *args, **kwargs)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        user = getattr(request, "_user", None)
        if user is not None and user.is_authenticated:
            # No try/except: if the call cannot be audited it fails rather than go unrecorded.
            with transaction.atomic():
                audit_record(
                    action=f"integrations.api.{request.method.lower()}",
                    actor=user,
                    object_type="api",
                    object_id=(getattr(request.resolver_match, "view_name", "") or request.path)[:64],
                    new={
                        "path": request.path,
                        "query": request.META.get("QUERY_STRING", "")[:500],
                        "status": response.status_code,
                        "via": "token" if getattr(request, "auth", None) is not None else "session",
                    },
                )
        return response


class AuditedAPIView(AuditedMixin, APIView):
    pass
