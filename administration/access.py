"""Declared access of every administration URL (the access-matrix test walks them for every role).

OBJECT_ACCESS declares object-level checks: for the role, `allowed(data, user)` gives URL kwargs of a
record the user may open and `denied(data, user)` kwargs of one he may not (guessing its id gives 403).
"""

from django.contrib.auth import get_user_model

from administration.models import ConfigChange, ConfigParameter, RoleRequest
from equipment.models import EquipmentTag
from mes.access import ALL_ROLES
from mes.models import MasterDataChange
from mes.registry import Rule

ADMIN = frozenset({"admin"})
ROLE_APPROVERS = frozenset({"admin", "qa"})
CONFIG_READERS = frozenset({"admin", "qa", "auditor"})


def _parameter(data):
    return {"pk": ConfigParameter.objects.get(name="auth.idle_timeout_minutes").pk}


def _change(data):
    return {"pk": ConfigChange.objects.order_by("id").first().pk}


def _role_request(data):
    return {"pk": RoleRequest.objects.order_by("id").first().pk}


MASTERDATA_PROPOSERS = frozenset({"admin", "qa", "maintenance", "supervisor"})


def _masterdata_change(data):
    return {"pk": MasterDataChange.objects.order_by("id").first().pk}


def _equipment_tag(data):
    return {"model": "equipment.equipmenttag", "pk": EquipmentTag.objects.order_by("id").first().pk}


def _user(username):
    return lambda data: {"pk": get_user_model().objects.get(username=username).pk}


ACCESS = {
    "administration:config_list": Rule(CONFIG_READERS),
    "administration:config_detail": Rule(CONFIG_READERS, make_kwargs=_parameter),
    "administration:change_list": Rule(CONFIG_READERS),
    "administration:change_detail": Rule(CONFIG_READERS, make_kwargs=_change),
    "administration:config_review": Rule(CONFIG_READERS),
    "administration:access_review": Rule(CONFIG_READERS),
    "administration:review_sign": Rule(frozenset({"qa"}), method="post"),
    "administration:status": Rule(ADMIN),
    "administration:alert_list": Rule(ADMIN),
    "administration:alert_ack": Rule(ADMIN, method="post", kwargs={"pk": 1}),
    "administration:user_list": Rule(ADMIN),
    "administration:user_new": Rule(ADMIN),
    "administration:user_detail": Rule(ADMIN, make_kwargs=_user("operator")),
    "administration:user_active": Rule(ADMIN, method="post", make_kwargs=_user("operator")),
    "administration:user_roles": Rule(ADMIN, method="post", make_kwargs=_user("operator")),
    "administration:user_scope_grant": Rule(ADMIN, method="post", make_kwargs=_user("operator")),
    "administration:user_scope_revoke": Rule(
        ADMIN, method="post", make_kwargs=lambda data: {**_user("operator")(data), "grant": 1}
    ),
    "administration:user_unlock": Rule(ADMIN, method="post", make_kwargs=_user("operator")),
    "administration:user_password": Rule(ADMIN, method="post", make_kwargs=_user("operator")),
    "administration:role_request_list": Rule(ROLE_APPROVERS),
    "administration:role_request_detail": Rule(ROLE_APPROVERS, make_kwargs=_role_request),
    "administration:masterdata_list": Rule(MASTERDATA_PROPOSERS | {"auditor"}),
    "administration:masterdata_detail": Rule(MASTERDATA_PROPOSERS | {"auditor"}, make_kwargs=_masterdata_change),
    "administration:masterdata_new": Rule(MASTERDATA_PROPOSERS, kwargs={"model": "equipment.checklistitem"}),
    "administration:masterdata_propose": Rule(MASTERDATA_PROPOSERS, make_kwargs=_equipment_tag),
    "administration:password_change": Rule(ALL_ROLES),
    "administration:my_account": Rule(ALL_ROLES),
    "administration:otp_verify": Rule(ALL_ROLES),
    "administration:otp_enrol": Rule(ALL_ROLES),
    "administration:otp_reset": Rule(ADMIN, method="post", make_kwargs=_user("operator")),
    # The auditor's own account page: the auditor (his own) and administrators get 200, others 403.
    "administration:account": Rule(frozenset({"auditor", "admin"}), make_kwargs=_user("auditor")),
    # The auditor's own e-mail language: the auditor (his own) and administrators may set it.
    "administration:account_language": Rule(
        frozenset({"auditor", "admin"}), method="post", make_kwargs=_user("auditor")
    ),
}

OBJECT_ACCESS = {
    "administration:account": {
        "role": "operator",
        "allowed": lambda data, user: {"pk": user.pk},
        "denied": lambda data, user: {"pk": get_user_model().objects.get(username="qa").pk},
    },
}
