"""User lifecycle: create, deactivate, reactivate (never delete), signed role changes, object scopes,
access review (SEC-1, SEC-2, SEC-4, AUD-1)."""

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from administration.models import RoleRequest
from administration.services.roles import role_request_approve
from administration.services.users import (
    user_create,
    user_deactivate,
    user_grant_scope,
    user_reactivate,
    user_reset_password,
    user_revoke_scope,
    user_set_roles,
)
from audit.gmp import AuditBypassError
from audit.models import AuditEvent, Signature
from audit.signatures import SignatureError

pytestmark = pytest.mark.django_db
User = get_user_model()
NEW_PASSWORD = "Granulation-Line-2026"


def _create(users, username="zhou.min", roles=("operator",)):
    return user_create(
        actor=users["admin"],
        username=username,
        first_name="Min",
        last_name="Zhou",
        email="zhou.min@plant.example",
        password=NEW_PASSWORD,
        roles=list(roles),
        reason="new hire, training record TR-88",
    )


@pytest.mark.req("SEC-1", "SEC-4")
def test_administrator_creates_a_user_with_roles_audited(users, password):
    user = _create(users, roles=("operator", "planner"))
    # planner at once; operator (a GMP role) only once a second person approves it
    assert sorted(user.groups.values_list("name", flat=True)) == ["planner"]
    request = RoleRequest.objects.get(user=user, role="operator", status="proposed")
    role_request_approve(user=users["qa"], request_id=request.pk, password=password)
    assert sorted(user.groups.values_list("name", flat=True)) == ["operator", "planner"]
    event = AuditEvent.objects.filter(action="auth.user.create", object_id=str(user.pk)).get()
    assert event.username == "admin" and event.reason == "new hire, training record TR-88"
    assert Client().post(reverse("login"), {"username": "zhou.min", "password": NEW_PASSWORD}).status_code == 302
    with pytest.raises(PermissionDenied):
        user_create(
            actor=users["qa"],
            username="x.y",
            first_name="X",
            last_name="",
            email="",
            password=NEW_PASSWORD,
            roles=[],
            reason="r",
        )


@pytest.mark.req("SEC-1")
def test_usernames_are_never_reused_in_any_letter_case(users):
    user = _create(users)
    user_deactivate(actor=users["admin"], user_id=user.pk, reason="left the company")
    for name in ("zhou.min", "Zhou.Min"):
        with pytest.raises(ValidationError, match="never reused"):
            _create(users, username=name)
    with pytest.raises(ValidationError):
        _create(users, username="weak.password.user") if False else user_create(
            actor=users["admin"],
            username="weak",
            first_name="W",
            last_name="",
            email="",
            password="short",
            roles=[],
            reason="r",
        )


@pytest.mark.req("SEC-1", "SEC-4")
def test_deactivation_ends_log_in_and_sessions_and_reactivation_restores_them(users, password):
    c = Client()
    assert c.post(reverse("login"), {"username": "operator2", "password": password}).status_code == 302
    assert c.get(reverse("home")).status_code == 200
    with pytest.raises(ValidationError, match="reason"):
        user_deactivate(actor=users["admin"], user_id=users["operator2"].pk, reason="")
    with pytest.raises(ValidationError, match="your own"):
        user_deactivate(actor=users["admin"], user_id=users["admin"].pk, reason="oops")
    user_deactivate(actor=users["admin"], user_id=users["operator2"].pk, reason="long leave")
    assert c.get(reverse("home")).status_code == 302  # the open session is gone
    assert Client().post(reverse("login"), {"username": "operator2", "password": password}).status_code == 200
    user_reactivate(actor=users["admin"], user_id=users["operator2"].pk, reason="back from leave")
    assert Client().post(reverse("login"), {"username": "operator2", "password": password}).status_code == 302
    actions = list(
        AuditEvent.objects.filter(object_id=str(users["operator2"].pk), action__startswith="auth.user.")
        .order_by("seq")
        .values_list("action", "reason")
    )
    assert ("auth.user.deactivate", "long leave") in actions and ("auth.user.reactivate", "back from leave") in actions


@pytest.mark.req("SEC-3", "SEC-4", "AUD-1")
def test_role_changes_are_signed_and_audited(users, password):
    operator = users["operator"]
    with pytest.raises(SignatureError):
        user_set_roles(
            actor=users["admin"], user_id=operator.pk, roles=["supervisor"], password="bad", reason="promotion"
        )
    assert list(operator.groups.values_list("name", flat=True)) == ["operator"]
    user_set_roles(
        actor=users["admin"],
        user_id=operator.pk,
        roles=["planner", "operator"],
        password=password,
        reason="promotion",
    )
    assert sorted(operator.groups.values_list("name", flat=True)) == ["operator", "planner"]
    event = AuditEvent.objects.filter(action="auth.user.set_roles").get()
    assert event.old == {"roles": ["operator"]} and event.new == {"roles": ["operator", "planner"]}
    signature = Signature.objects.get(action="auth.user.set_roles")
    assert signature.signer == users["admin"] and signature.object_id == str(operator.pk)
    with pytest.raises(ValidationError, match="Unknown roles"):
        user_set_roles(actor=users["admin"], user_id=operator.pk, roles=["root"], password=password, reason="x")


@pytest.mark.req("SEC-2", "SEC-4")
def test_object_scopes_are_granted_and_revoked_with_an_audit_trail(users):
    from guardian.models import UserObjectPermission

    from mes.models import Area, Line, Site

    site = Site.objects.create(code="S", name="Site")
    line = Line.objects.create(area=Area.objects.create(site=site, code="A", name="Area"), code="L9", name="Line 9")
    operator = users["operator"]
    assert not operator.has_perm("mes.view_line", line)
    user_grant_scope(
        actor=users["admin"],
        user_id=operator.pk,
        kind="line",
        object_id=line.pk,
        permission="mes.view_line",
        reason="L9 crew",
    )
    assert User.objects.get(pk=operator.pk).has_perm("mes.view_line", line)
    with pytest.raises(ValidationError):
        user_grant_scope(
            actor=users["admin"],
            user_id=operator.pk,
            kind="line",
            object_id=line.pk,
            permission="batches.execute_batch",
            reason="x",
        )
    grant = UserObjectPermission.objects.get(user=operator)
    user_revoke_scope(actor=users["admin"], user_id=operator.pk, grant_id=grant.pk, reason="moved to packaging")
    assert not User.objects.get(pk=operator.pk).has_perm("mes.view_line", line)
    actions = list(AuditEvent.objects.filter(object_type="mes.line").values_list("action", "reason"))
    assert ("auth.object_permission.grant", "L9 crew") in actions
    assert ("auth.object_permission.revoke", "moved to packaging") in actions


def test_password_reset_by_administrator(users, password):
    temporary = user_reset_password(actor=users["admin"], user_id=users["analyst"].pk, reason="forgotten")
    assert Client().post(reverse("login"), {"username": "analyst", "password": password}).status_code == 200
    assert Client().post(reverse("login"), {"username": "analyst", "password": temporary}).status_code == 302
    event = AuditEvent.objects.filter(action="auth.user.password_reset", reason="forgotten").get()
    assert event.new == {"delivered": "in person"}


@pytest.mark.req("SEC-1", "BAT-4")
def test_user_accounts_cannot_be_deleted(users, client):
    victim = users["analyst"]
    with pytest.raises(AuditBypassError):
        victim.delete()
    assert User.objects.filter(pk=victim.pk).exists()
    root = User.objects.create_superuser("root", "root@example.com", "Root-password-2026!")
    client.force_login(root)
    assert client.post(f"/admin/auth/user/{victim.pk}/delete/", {"post": "yes"}).status_code == 403
    assert User.objects.filter(pk=victim.pk).exists()


def test_user_pages(client_for, users, password):
    admin = client_for("admin")
    response = admin.post(
        reverse("administration:user_new"),
        {
            "username": "li.na",
            "first_name": "Na",
            "last_name": "Li",
            "email": "",
            "roles": ["qc"],
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
            "reason": "QC analyst joined",
        },
    )
    new = User.objects.get(username="li.na")
    # QC is a GMP role: the account is created without it, the grant waits for a second person
    assert response.status_code == 302 and list(new.groups.values_list("name", flat=True)) == []
    detail = reverse("administration:user_detail", args=[new.pk])
    assert "li.na" in admin.get(detail).content.decode()
    request = RoleRequest.objects.get(user=new, role="qc")
    client_for("qa").post(
        reverse("administration:role_request_detail", args=[request.pk]),
        {"action": "approve", "password": password, "signature_username": "qa"},
    )
    assert list(new.groups.values_list("name", flat=True)) == ["qc"]
    admin.post(
        reverse("administration:user_roles", args=[new.pk]),
        {"roles": ["qc", "analyst"], "reason": "deputy", "password": password},
    )
    assert sorted(new.groups.values_list("name", flat=True)) == ["analyst", "qc"]
    admin.post(reverse("administration:user_active", args=[new.pk]), {"active": "0", "reason": "contract ended"})
    assert not User.objects.get(pk=new.pk).is_active
    listing = admin.get(reverse("administration:user_list"), {"show": "inactive"}).content.decode()
    assert "li.na" in listing
    again = admin.post(
        reverse("administration:user_new"),
        {
            "username": "LI.NA",
            "first_name": "N",
            "roles": ["qc"],
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
            "reason": "r",
        },
    )
    assert again.status_code == 200 and "never reused" in again.content.decode()


@pytest.mark.req("SEC-2")
def test_access_review_lists_roles_last_login_and_inactive_accounts(
    client_for, users, password, django_assert_max_num_queries
):
    from mes.security import security_register_failure

    Client().post(reverse("login"), {"username": "planner", "password": password})
    for _ in range(5):
        security_register_failure(username="maintenance", kind="login")
    user_deactivate(actor=users["admin"], user_id=users["operator2"].pk, reason="left")
    auditor = client_for("auditor")
    with django_assert_max_num_queries(14):
        page = auditor.get(reverse("administration:access_review"))
    rows = {r["user"].username: r for r in page.context["rows"]}
    assert rows["planner"]["user"].last_login is not None and not rows["planner"]["inactive"]
    assert rows["warehouse"]["inactive"]  # never logged in
    assert rows["maintenance"]["locked"]
    assert not rows["operator2"]["user"].is_active
    assert rows["qc"]["roles"] == ["qc"]
    assert page.context["summary"]["locked"] == 1


def test_users_list_has_bounded_queries(client_for, users, django_assert_max_num_queries):
    admin = client_for("admin")
    with django_assert_max_num_queries(14):
        assert admin.get(reverse("administration:user_list"), {"show": "all"}).status_code == 200


def test_the_user_list_names_roles_as_people_call_them_in_the_readers_language(client_for, users):
    """The roles column showed the group codes ("qc", "planner") in the Chinese screens (issue 17)."""
    _create(users, username="zhou.min", roles=("qc",))
    admin = client_for("admin")
    english = admin.get(reverse("administration:user_list"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "QC inspector / reviewer" in english
    admin.cookies["django_language"] = "zh-hans"
    chinese = admin.get(reverse("administration:user_list")).content.decode()
    assert "质量控制员（检验/审核）" in chinese
    assert "<td>qc</td>" not in chinese
