"""User administration pages, and each user's own account page (an object-level check: a user sees
his own account; only administrators see anyone's)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from administration.forms import ReasonForm, RolesForm, ScopeForm, UserCreateForm
from administration.models import RoleRequest, RoleRequestStatus
from administration.selectors import users_overview
from administration.services.passwords import password_must_change
from administration.services.users import (
    user_create,
    user_deactivate,
    user_grant_scope,
    user_reactivate,
    user_reset_password,
    user_revoke_scope,
    user_scopes,
    user_set_language,
    user_set_roles,
)
from audit.models import AuditEvent
from audit.signatures import SignatureError
from mes.languages import plant_language, remember_language
from mes.models import UserPreference
from mes.roles import role_label
from mes.security import account_unlock

MANAGE = "administration.manage_users"
User = get_user_model()


def _report(request, exc: Exception) -> None:
    for message in exc.messages if isinstance(exc, ValidationError) else [str(exc)]:
        messages.error(request, message)


@permission_required(MANAGE, raise_exception=True)
def user_list(request):
    show = request.GET.get("show", "active")
    users = users_overview()
    if show == "active":
        users = users.filter(is_active=True)
    elif show == "inactive":
        users = users.filter(is_active=False)
    return render(request, "administration/user_list.html", {"users": users, "show": show})


@permission_required(MANAGE, raise_exception=True)
def user_new(request):
    form = UserCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = user_create(
                actor=request.user,
                username=data["username"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                email=data["email"],
                password=data["password1"],
                roles=data["roles"],
                reason=data["reason"],
            )
        except ValidationError as exc:
            field = "password1" if any("password" in m.lower() for m in exc.messages) else "username"
            form.add_error(field, exc)
        else:
            messages.success(request, _("User %(name)s created.") % {"name": user.username})
            return redirect("administration:user_detail", pk=user.pk)
    return render(request, "administration/user_new.html", {"form": form})


@permission_required(MANAGE, raise_exception=True)
def user_detail(request, pk: int):
    subject = get_object_or_404(User.objects.select_related("security"), pk=pk)
    roles = sorted(subject.groups.values_list("name", flat=True))
    context = {
        "subject": subject,
        "roles": [(r, role_label(r)) for r in roles],
        "roles_form": RolesForm(initial={"roles": roles}),
        "scope_form": ScopeForm(),
        "reason_form": ReasonForm(),
        "scopes": user_scopes(subject),
        "security": getattr(subject, "security", None),
        "pending": RoleRequest.objects.filter(user=subject, status=RoleRequestStatus.PROPOSED),
        "must_change_password": password_must_change(subject),
        "events": AuditEvent.objects.filter(object_type="auth.user", object_id=str(subject.pk)).order_by("-seq")[:20],
        **_language_context(subject),
    }
    return render(request, "administration/user_detail.html", context)


@require_POST
@permission_required(MANAGE, raise_exception=True)
def user_active(request, pk: int):
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the reason for this change."))
        return redirect("administration:user_detail", pk=pk)
    service = user_reactivate if request.POST.get("active") == "1" else user_deactivate
    try:
        service(actor=request.user, user_id=pk, reason=form.cleaned_data["reason"])
    except (ValidationError, PermissionDenied) as exc:
        _report(request, exc)
    else:
        messages.success(request, _("Account updated."))
    return redirect("administration:user_detail", pk=pk)


@require_POST
@permission_required(MANAGE, raise_exception=True)
def user_roles(request, pk: int):
    form = RolesForm(request.POST)
    if form.is_valid():
        try:
            _user, requests = user_set_roles(
                actor=request.user,
                user_id=pk,
                roles=form.cleaned_data["roles"],
                password=form.cleaned_data["password"],
                reason=form.cleaned_data["reason"],
            )
        except (ValidationError, SignatureError, PermissionDenied) as exc:
            _report(request, exc)
        else:
            if requests:  # removals and other roles (if any) are done; these wait for a second person
                messages.success(
                    request,
                    _("%(roles)s: waiting for approval by a QA manager or another administrator.")
                    % {"roles": ", ".join(role_label(r.role) for r in requests)},
                )
            else:
                messages.success(request, _("Roles changed and signed."))
    else:
        messages.error(request, _("Choose known roles."))
    return redirect("administration:user_detail", pk=pk)


@require_POST
@permission_required(MANAGE, raise_exception=True)
def user_scope_grant(request, pk: int):
    form = ScopeForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            user_grant_scope(
                actor=request.user,
                user_id=pk,
                kind=data["kind"],
                object_id=data["object_id"],
                permission=data["codename"],
                reason=data["reason"],
            )
        except (ValidationError, PermissionDenied) as exc:
            _report(request, exc)
        else:
            messages.success(request, _("Scope granted."))
    else:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
    return redirect("administration:user_detail", pk=pk)


@require_POST
@permission_required(MANAGE, raise_exception=True)
def user_scope_revoke(request, pk: int, grant: int):
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the reason for this change."))
        return redirect("administration:user_detail", pk=pk)
    try:
        user_revoke_scope(actor=request.user, user_id=pk, grant_id=grant, reason=form.cleaned_data["reason"])
    except (ValidationError, PermissionDenied) as exc:
        _report(request, exc)
    else:
        messages.success(request, _("Scope removed."))
    return redirect("administration:user_detail", pk=pk)


@require_POST
@permission_required(MANAGE, raise_exception=True)
def user_unlock(request, pk: int):
    form = ReasonForm(request.POST)
    if form.is_valid():
        account_unlock(actor=request.user, user=get_object_or_404(User, pk=pk), reason=form.cleaned_data["reason"])
        messages.success(request, _("Account unlocked."))
    else:
        messages.error(request, _("Give the reason for this change."))
    return redirect("administration:user_detail", pk=pk)


@require_POST
@permission_required(MANAGE, raise_exception=True)
def user_password(request, pk: int):
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the reason for this change."))
        return redirect("administration:user_detail", pk=pk)
    try:
        temporary = user_reset_password(actor=request.user, user_id=pk, reason=form.cleaned_data["reason"])
    except (ValidationError, PermissionDenied) as exc:
        _report(request, exc)
        return redirect("administration:user_detail", pk=pk)
    subject = get_object_or_404(User, pk=pk)
    if temporary is None:
        messages.success(
            request,
            _("A temporary password was e-mailed to %(email)s: the person must replace it at the next log-in.")
            % {"email": subject.email},
        )
        return redirect("administration:user_detail", pk=pk)
    # Shown once, in this response only (not in a message, a log or the session), never cached.
    response = render(request, "administration/user_password_done.html", {"subject": subject, "temporary": temporary})
    add_never_cache_headers(response)
    return response


def _language_context(subject) -> dict:
    """The e-mail language form: the person's choice, or "" for the plant's language (named)."""
    plant = dict(settings.LANGUAGES)[plant_language()]
    chosen = UserPreference.objects.filter(user=subject).values_list("language", flat=True).first() or ""
    choices = [("", _("The plant's language (%(language)s)") % {"language": plant}), *settings.LANGUAGES]
    return {"language_choices": choices, "language": chosen}


@require_POST
def account_language(request, pk: int):
    """The person (own account) or an administrator sets the person's language (screens at sign-in,
    e-mails); one's own choice switches the screens at once."""
    if request.user.pk != pk and not request.user.has_perm(MANAGE):
        raise PermissionDenied
    get_object_or_404(User, pk=pk)
    try:
        user_set_language(actor=request.user, user_id=pk, language=request.POST.get("language", ""))
    except (ValidationError, PermissionDenied) as exc:
        _report(request, exc)
    else:
        messages.success(request, _("The language was saved."))
    if request.user.pk != pk:
        return redirect("administration:user_detail", pk=pk)
    response = redirect("administration:my_account")
    language = request.POST.get("language", "")
    if language in dict(settings.LANGUAGES):  # one's own choice applies to these screens at once
        remember_language(response, language)
    return response


def account(request, pk: int):
    """A user's own account: roles, scopes, recent log-ins. Another user's id is refused (403),
    unless the visitor is an administrator."""
    if request.user.pk != pk and not request.user.has_perm(MANAGE):
        raise PermissionDenied
    subject = get_object_or_404(User, pk=pk)
    logins = AuditEvent.objects.filter(
        object_type="auth.user", object_repr=subject.username, action__in=["auth.login", "auth.login_failed"]
    ).order_by("-seq")[:10]
    context = {
        "subject": subject,
        "roles": [role_label(r) for r in sorted(subject.groups.values_list("name", flat=True))],
        "scopes": user_scopes(subject),
        "logins": logins,
        **_language_context(subject),
    }
    return render(request, "administration/account.html", context)


def my_account(request):
    return account(request, request.user.pk)
