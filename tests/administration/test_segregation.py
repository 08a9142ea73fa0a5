"""Segregation of duties that binds the administrator (issue 15): tried as a hostile administrator
would, through the services, the pages and the Django admin, with the demo `admin` account."""

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import get_resolver, reverse

from administration.models import ChangeStatus, ConfigChange, ConfigParameter, PasswordState, RoleRequest
from administration.services.config import config_change_approve, config_propose
from administration.services.passwords import password_change_own
from administration.services.roles import (
    role_request_approve,
    role_request_create,
    role_request_reject,
)
from administration.services.users import user_create, user_reset_password, user_set_roles
from audit.models import AuditEvent, Signature
from audit.signatures import SignatureError, signature_check_password
from mes.config import config_get
from tests.conftest import make_user

pytestmark = pytest.mark.django_db
TEMPORARY = "Temporary-Initial-2026"
OWN = "Qa-Own-Choice-2026!"


def _roles(user) -> list[str]:
    return sorted(user.groups.values_list("name", flat=True))


def _login(username: str, password: str) -> Client:
    client = Client()
    assert client.post(reverse("login"), {"username": username, "password": password}).status_code == 302
    return client


# --- nobody grants a role to themselves -------------------------------------------------------------
def test_the_administrator_cannot_grant_himself_a_role_through_any_door(users, password, client_for):
    admin = users["admin"]
    with pytest.raises(ValidationError, match="yourself"):
        user_set_roles(actor=admin, user_id=admin.pk, roles=["admin", "planner"], password=password, reason="x")
    with pytest.raises(ValidationError, match="yourself"):
        role_request_create(actor=admin, user_id=admin.pk, role="planner", reason="x")
    # the user page
    page = client_for("admin")
    response = page.post(
        reverse("administration:user_roles", args=[admin.pk]),
        {"roles": ["admin", "maintenance"], "reason": "cover", "password": password, "signature_username": "admin"},
        follow=True,
    )
    assert "yourself" in response.content.decode()
    # the Django admin: the account form and the role (group) form are read-only, even for POST
    admin_page = f"/admin/auth/user/{admin.pk}/change/"
    assert page.post(admin_page, {"username": "admin", "groups": [Group.objects.get(name="qa").pk]}).status_code == 403
    group = Group.objects.get(name="admin")
    approve = Group.objects.get(name="qa").permissions.get(codename="approve_configchange")
    assert (
        page.post(f"/admin/auth/group/{group.pk}/change/", {"name": "admin", "permissions": [approve.pk]}).status_code
        == 403
    )
    assert _roles(admin) == ["admin"] and not group.permissions.filter(pk=approve.pk).exists()
    assert not RoleRequest.objects.filter(user=admin).exists()


def test_object_scopes_are_not_self_granted_and_administrators_get_no_execution_right():
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from administration.services.users import user_grant_scope
    from batches.models import Batch

    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115 - a real batch to scope
    batch = Batch.objects.order_by("pk").first()
    admin = get_user_model().objects.get(username="admin")
    with pytest.raises(ValidationError, match="yourself"):
        user_grant_scope(
            actor=admin, user_id=admin.pk, kind="batch", object_id=batch.pk, permission="batches.view_batch", reason="r"
        )
    admin2 = make_user("admin2", "admin")
    with pytest.raises(ValidationError, match="execute batches"):
        user_grant_scope(
            actor=admin,
            user_id=admin2.pk,
            kind="batch",
            object_id=batch.pk,
            permission="batches.execute_batch",
            reason="r",
        )
    assert not admin.has_perm("batches.execute_batch", batch) and not admin2.has_perm("batches.execute_batch", batch)


# --- a GMP role needs a second person's signed approval ---------------------------------------------
@pytest.mark.req("SEC-3", "SEC-4")
def test_a_gmp_role_is_held_only_after_a_second_person_approves_it(users, password):
    admin, analyst = users["admin"], users["analyst"]
    admin2 = make_user("admin2", "admin")
    _user, requests = user_set_roles(
        actor=admin, user_id=analyst.pk, roles=["analyst", "qc"], password=password, reason="QC cover"
    )
    [request] = requests
    assert request.status == "proposed" and _roles(analyst) == ["analyst"]  # pending: no effect
    with pytest.raises(ValidationError, match="someone other than"):
        role_request_approve(user=admin, request_id=request.pk, password=password)
    with pytest.raises(PermissionDenied):  # a role without the approval right
        role_request_approve(user=users["supervisor"], request_id=request.pk, password=password)
    with pytest.raises(SignatureError):
        role_request_approve(user=admin2, request_id=request.pk, password="wrong")
    assert _roles(analyst) == ["analyst"]
    role_request_approve(user=admin2, request_id=request.pk, password=password, reason="checked training")
    assert _roles(analyst) == ["analyst", "qc"]
    signature = Signature.objects.get(object_type="administration.rolerequest", object_id=str(request.pk))
    assert signature.signer == admin2 and signature.meaning == "approved"
    event = AuditEvent.objects.get(action="auth.user.grant_role", object_id=str(analyst.pk))
    assert event.username == "admin2" and event.new["roles"] == ["analyst", "qc"]
    # removal takes effect at once, signed and audited
    user_set_roles(actor=admin, user_id=analyst.pk, roles=["analyst"], password=password, reason="cover ended")
    assert _roles(analyst) == ["analyst"]
    assert AuditEvent.objects.filter(action="auth.user.set_roles", reason="cover ended").exists()


def test_the_grantee_cannot_approve_his_own_role_and_a_rejected_request_grants_nothing(users, password):
    admin2 = make_user("admin2", "admin")
    request = role_request_create(actor=users["admin"], user_id=users["planner"].pk, role="supervisor", reason="r")
    with pytest.raises(ValidationError, match="yourself"):
        role_request_create(actor=admin2, user_id=admin2.pk, role="maintenance", reason="r")
    promoted = role_request_create(actor=users["admin"], user_id=admin2.pk, role="maintenance", reason="r")
    with pytest.raises(ValidationError, match="for yourself"):
        role_request_approve(user=admin2, request_id=promoted.pk, password=password)
    role_request_reject(user=users["qa"], request_id=request.pk, password=password, reason="no training record")
    assert _roles(users["planner"]) == ["planner"]
    with pytest.raises(ValidationError):  # decided: cannot be approved afterwards
        role_request_approve(user=admin2, request_id=request.pk, password=password)


def test_the_approval_page_offers_no_approval_to_the_requester(users, password, client_for):
    request = role_request_create(actor=users["admin"], user_id=users["planner"].pk, role="supervisor", reason="r")
    url = reverse("administration:role_request_detail", args=[request.pk])
    admin = client_for("admin")
    assert 'data-testid="action-approve"' not in admin.get(url).content.decode()
    admin.post(url, {"action": "approve", "password": password, "signature_username": "admin"})
    assert RoleRequest.objects.get(pk=request.pk).status == "proposed"
    qa = client_for("qa")
    assert 'data-testid="action-approve"' in qa.get(url).content.decode()
    qa.post(url, {"action": "approve", "password": password, "signature_username": "qa"})
    assert _roles(users["planner"]) == ["planner", "supervisor"]


# --- incompatible pairs --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("held", "granted"), [("qa", "admin"), ("admin", "qa"), ("qc", "admin"), ("admin", "operator")]
)
def test_incompatible_roles_are_refused_whichever_comes_first(users, password, held, granted):
    person = make_user("person", held)
    with pytest.raises(ValidationError, match="cannot be held by the same person"):
        role_request_create(actor=users["admin"], user_id=person.pk, role=granted, reason="r")
    with pytest.raises(ValidationError, match="cannot be held by the same person"):
        user_set_roles(actor=users["admin"], user_id=person.pk, roles=[held, granted], password=password, reason="r")
    assert _roles(person) == [held]


def test_incompatible_requests_pending_together_cannot_both_take_effect(users, password):
    admin = users["admin"]
    with pytest.raises(ValidationError, match="cannot be held by the same person"):
        user_create(
            actor=admin,
            username="both",
            first_name="B",
            last_name="",
            email="",
            password=TEMPORARY,
            roles=["admin", "qa"],
            reason="r",
        )
    person = make_user("person", None)
    first = role_request_create(actor=admin, user_id=person.pk, role="qa", reason="r")
    second = role_request_create(actor=admin, user_id=person.pk, role="admin", reason="r")
    role_request_approve(user=make_user("admin2", "admin"), request_id=first.pk, password=password)
    with pytest.raises(ValidationError, match="cannot be held by the same person"):
        role_request_approve(user=users["qa"], request_id=second.pk, password=password)
    assert _roles(person) == ["qa"]


# --- a password an administrator set must be changed before its owner signs ---------------------------
def test_after_a_reset_the_person_must_set_a_new_password_and_cannot_sign_until_then(users, password):
    qa = users["qa"]
    temporary = user_reset_password(actor=users["admin"], user_id=qa.pk, reason="forgotten")
    assert PasswordState.objects.get(user=qa).must_change
    client = _login("qa", temporary)
    for url in (reverse("home"), reverse("administration:change_list")):
        response = client.get(url)
        assert response.status_code == 302 and response.url == reverse("administration:password_change")
    assert "set by an administrator" in client.get(reverse("administration:password_change")).content.decode()
    with pytest.raises(SignatureError, match="set a new password of your own"):
        signature_check_password(user=qa, password=temporary)
    assert AuditEvent.objects.filter(action="signature.refused", object_id=str(qa.pk)).exists()
    # the same password again is refused; a wrong current password is refused
    response = client.post(
        reverse("administration:password_change"),
        {"old_password": temporary, "new_password1": temporary, "new_password2": temporary},
    )
    assert response.status_code == 200 and PasswordState.objects.get(user=qa).must_change
    with pytest.raises(ValidationError, match="current password"):
        password_change_own(user=qa, old_password="guess", new_password=OWN)
    response = client.post(
        reverse("administration:password_change"),
        {"old_password": temporary, "new_password1": OWN, "new_password2": OWN},
    )
    assert response.status_code == 302 and client.get(reverse("home")).status_code == 200
    qa.refresh_from_db()
    assert not PasswordState.objects.get(user=qa).must_change
    signature_check_password(user=qa, password=OWN)  # signs again
    actions = set(AuditEvent.objects.filter(object_id=str(qa.pk)).values_list("action", flat=True))
    assert {"auth.user.password_reset", "auth.user.password_changed_by_owner"} <= actions
    state = PasswordState.objects.get(user=qa)
    marks = AuditEvent.objects.filter(object_type="administration.passwordstate", object_id=str(state.pk))
    assert [(e.action, e.username) for e in marks.order_by("seq")] == [
        ("auth.user.password_must_change", "admin"),
        ("auth.user.password_changed_by_owner", "qa"),
    ]


def test_a_new_account_must_replace_the_initial_password(users):
    user_create(
        actor=users["admin"],
        username="new.hire",
        first_name="N",
        last_name="",
        email="",
        password=TEMPORARY,
        roles=["planner"],
        reason="joined",
    )
    client = _login("new.hire", TEMPORARY)
    assert client.get(reverse("home")).url == reverse("administration:password_change")


@pytest.mark.postgres  # PostgreSQL's SQL or triggers
def test_no_one_can_act_as_another_and_passwords_are_never_stored_readable(users):
    from django.conf import settings
    from django.db import connection

    names = [str(p.pattern) for p in get_resolver().url_patterns] + list(get_resolver().reverse_dict.keys())
    text = " ".join(str(n) for n in names).lower()
    for word in ("impersonat", "hijack", "login_as", "login-as", "loginas", "become", "switch_user", "su/"):
        assert word not in text
    assert not [app for app in settings.INSTALLED_APPS if "hijack" in app or "imperson" in app or "loginas" in app]
    temporary = user_reset_password(actor=users["admin"], user_id=users["qa"].pk, reason="forgotten")
    assert temporary and len(temporary) >= 20
    with connection.cursor() as cursor:
        for table in ("audit_auditevent", "auth_user", "administration_historicalpasswordstate", "django_session"):
            cursor.execute(f"SELECT count(*) FROM {table} WHERE CAST({table}.* AS text) LIKE %s", [f"%{temporary}%"])
            assert cursor.fetchone()[0] == 0, table


# --- the scenario of the issue, as one story ------------------------------------------------------------
def test_the_issue_scenario_fails_for_the_administrator(users, password, client_for, settings):
    """Admin proposes lock-out 5 -> 20, tries to grant himself QA, resets qa's password and logs in
    as qa: he is sent to set a new password and cannot approve until it is done."""
    settings.MES_LOCKOUT_THRESHOLD = 5
    admin = users["admin"]
    parameter = ConfigParameter.objects.get(name="auth.lockout_threshold")
    change = config_propose(user=admin, parameter_id=parameter.pk, new_value="20", reason="fewer lock-outs")
    admin_pages = client_for("admin")
    admin_pages.post(
        reverse("administration:user_roles", args=[admin.pk]),
        {"roles": ["admin", "qa"], "reason": "cover", "password": password, "signature_username": "admin"},
    )
    with pytest.raises(ValidationError):
        user_set_roles(actor=admin, user_id=admin.pk, roles=["admin", "qa"], password=password, reason="cover")
    assert _roles(admin) == ["admin"] and not RoleRequest.objects.filter(user=admin).exists()

    shown = admin_pages.post(
        reverse("administration:user_password", args=[users["qa"].pk]), {"reason": "forgotten"}
    )  # qa has no e-mail address: the temporary password is shown to the administrator once
    temporary = shown.context["temporary"]
    assert temporary in shown.content.decode() and "no-store" in shown["Cache-Control"]
    as_qa = _login("qa", temporary)
    url = reverse("administration:change_detail", args=[change.pk])
    assert as_qa.get(url).url == reverse("administration:password_change")
    response = as_qa.post(url, {"action": "approve", "password": temporary, "signature_username": "qa"})
    assert response.url == reverse("administration:password_change")
    with pytest.raises(SignatureError, match="set a new password"):
        config_change_approve(user=users["qa"], change_id=change.pk, password=temporary)
    change = ConfigChange.objects.get(pk=change.pk)
    assert change.status == ChangeStatus.PROPOSED and change.decided_by is None
    assert config_get("auth.lockout_threshold") == 5
    assert not Signature.objects.filter(object_type="administration.configchange", signer=users["qa"]).exists()


def test_a_reset_password_goes_by_e_mail_and_the_administrator_never_sees_it(users, client_for, mailoutbox):
    qa = users["qa"]
    qa.email = "min.zhao@plant.example"
    qa.save(update_fields=["email"])
    response = client_for("admin").post(
        reverse("administration:user_password", args=[qa.pk]), {"reason": "forgotten"}, follow=True
    )
    [mail] = mailoutbox
    assert mail.to == ["min.zhao@plant.example"]
    temporary = next(w for w in mail.body.split() if w.count("-") == 3)
    assert temporary not in response.content.decode() and "e-mailed" in response.content.decode()
    assert AuditEvent.objects.get(action="auth.user.password_reset").new == {"delivered": "e-mail"}
    client = _login("qa", temporary)
    assert client.get(reverse("home")).url == reverse("administration:password_change")
