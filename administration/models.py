"""System administration records: controlled configuration, change requests, security alerts and
the periodic reviews of access and configuration.

A configuration parameter's value changes only through an approved change request (CFG-1): the
request keeps the old and new values, who proposed it and why, who approved it (signed) and when it
took effect (CFG-2). Every row is a GMP record: audited, versioned (simple-history), never deleted.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from audit.gmp import GMPModel
from audit.models import SignatureMeaning
from mes.config import ParameterType
from mes.workflow import StateMachine, Transition


class ConfigParameter(GMPModel):
    """One system parameter that affects GMP behaviour, with its type and allowed range.

    The foundation's configuration store (mes.config, settings.MES_CONFIG_MODEL) reads the approved
    values from these rows; this app keeps them under change control.

    `value` is the controlled value as text ("" while no change was ever approved: the code then
    uses the deployment default from settings). `version` counts approved changes.
    """

    name = models.CharField(_("parameter"), max_length=80, unique=True)
    category = models.CharField(_("category"), max_length=40)
    value_type = models.CharField(_("type"), max_length=10, choices=ParameterType.choices)
    min_value = models.DecimalField(_("minimum"), max_digits=14, decimal_places=4, null=True, blank=True)
    max_value = models.DecimalField(_("maximum"), max_digits=14, decimal_places=4, null=True, blank=True)
    unit = models.CharField(_("unit"), max_length=20, blank=True, default="")
    value = models.TextField(_("controlled value"), blank=True, default="")
    is_set = models.BooleanField(_("set by an approved change"), default=False)
    version = models.PositiveIntegerField(_("version"), default=0)
    effective_at = models.DateTimeField(_("effective since"), null=True, blank=True)

    class Meta:
        ordering = ["category", "name"]
        verbose_name = _("configuration parameter")
        verbose_name_plural = _("configuration parameters")
        permissions = [("review_configuration", _("Can review the configuration and its changes"))]

    def __str__(self) -> str:
        return self.name


class ChangeStatus(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    EFFECTIVE = "effective", _("Approved and effective")
    REJECTED = "rejected", pgettext_lazy("change request", "Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class ConfigChange(GMPModel):
    """A request to change one parameter: proposed with a reason, approved by another person."""

    STATE_FIELD = "status"

    parameter = models.ForeignKey(
        ConfigParameter, on_delete=models.PROTECT, related_name="changes", verbose_name=_("parameter")
    )
    status = models.CharField(
        _("status"), max_length=20, choices=ChangeStatus.choices, default=ChangeStatus.PROPOSED, db_index=True
    )
    old_value = models.TextField(_("old value"), blank=True, default="")
    new_value = models.TextField(_("new value"))
    base_version = models.PositiveIntegerField(_("based on version"))
    version = models.PositiveIntegerField(_("resulting version"), null=True, blank=True)
    reason = models.TextField(_("reason for change"))
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("proposed by")
    )
    proposed_at = models.DateTimeField(_("proposed at"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_comment = models.TextField(_("decision comment"), blank=True, default="")

    class Meta:
        ordering = ["-proposed_at", "-id"]
        verbose_name = _("configuration change request")
        verbose_name_plural = _("configuration change requests")
        permissions = [
            ("propose_configchange", _("Can propose configuration changes")),
            ("approve_configchange", _("Can approve or reject configuration changes")),
        ]

    def __str__(self) -> str:
        return f"CR-{self.pk:05d} {self.parameter.name}" if self.pk else f"CR {self.parameter_id}"


CHANGE_MACHINE = StateMachine(
    field="status",
    transitions=[
        Transition(
            "approve",
            (ChangeStatus.PROPOSED,),
            ChangeStatus.EFFECTIVE,
            "administration.approve_configchange",
            _("Approve (takes effect now)"),
            signature=SignatureMeaning.APPROVED,
        ),
        Transition(
            "reject",
            (ChangeStatus.PROPOSED,),
            ChangeStatus.REJECTED,
            "administration.approve_configchange",
            pgettext_lazy("change request", "Reject"),
            signature=SignatureMeaning.REJECTED,
            reason_required=True,
            style="danger",
        ),
        Transition(
            "withdraw",
            (ChangeStatus.PROPOSED,),
            ChangeStatus.WITHDRAWN,
            "administration.propose_configchange",
            _("Withdraw"),
            reason_required=True,
            style="secondary",
        ),
    ],
)


class AlertKind(models.TextChoices):
    FAILED_LOGINS = "failed_logins", _("Repeated failed log-ins")
    FAILED_SIGNATURES = "failed_signatures", _("Repeated failed signature attempts")
    ACCOUNT_LOCKED = "account_locked", _("Account locked")
    DELETE_REFUSED = "delete_refused", _("Deletion of a GMP record refused")
    WRITE_REFUSED = "write_refused", _("Write outside the audited path refused")


class SecurityAlert(GMPModel):
    """A security event administrators must see at once (21 CFR 11.300(d)); acknowledged, never deleted."""

    kind = models.CharField(_("kind"), max_length=30, choices=AlertKind.choices)
    username = models.CharField(_("user"), max_length=150, blank=True, default="")
    detail = models.TextField(_("detail"), blank=True, default="")
    attempts = models.PositiveIntegerField(_("failed attempts"), default=0)
    raised_at = models.DateTimeField(_("raised at"), db_index=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("acknowledged by"),
    )
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    comment = models.TextField(_("comment"), blank=True, default="")

    class Meta:
        ordering = ["-raised_at", "-id"]
        verbose_name = _("security alert")
        verbose_name_plural = _("security alerts")
        permissions = [
            ("manage_users", _("Can create, deactivate and reactivate users and assign roles and scopes")),
            ("view_system_status", _("Can view the system status")),
            ("review_access", _("Can view the access review report")),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.username}"


class ReviewKind(models.TextChoices):
    ACCESS = "access", _("Access review")
    CONFIGURATION = "configuration", _("Configuration review")


class PeriodicReview(GMPModel):
    """The signed record that a periodic review (of user access or of configuration) was done."""

    kind = models.CharField(_("review"), max_length=20, choices=ReviewKind.choices)
    period_start = models.DateField(_("period from"))
    period_end = models.DateField(_("period to"))
    findings = models.TextField(_("findings"))
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("reviewer")
    )
    reviewed_at = models.DateTimeField(_("reviewed at"))
    summary = models.JSONField(_("summary"), default=dict, blank=True)

    class Meta:
        ordering = ["-reviewed_at", "-id"]
        verbose_name = _("periodic review")
        verbose_name_plural = _("periodic reviews")
        permissions = [("record_review", _("Can sign a periodic access or configuration review"))]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.period_start} – {self.period_end}"


class RoleRequestStatus(models.TextChoices):
    PROPOSED = "proposed", _("Waiting for approval")
    EFFECTIVE = "effective", _("Approved and effective")
    REJECTED = "rejected", pgettext_lazy("change request", "Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class RoleRequest(GMPModel):
    """A request to grant one role to one person (segregation of duties, 21 CFR 11.10(d)/(g)).

    An administrator proposes it with a reason; it has no effect until a second person (a QA
    manager or another administrator, never the requester nor the grantee) approves it with an
    e-signature. Only then does the person hold the role.
    """

    STATE_FIELD = "status"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="role_requests", verbose_name=_("person")
    )
    role = models.CharField(_("role"), max_length=30)
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=RoleRequestStatus.choices,
        default=RoleRequestStatus.PROPOSED,
        db_index=True,
    )
    reason = models.TextField(_("reason"))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("requested by")
    )
    requested_at = models.DateTimeField(_("requested at"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_comment = models.TextField(_("decision comment"), blank=True, default="")

    class Meta:
        ordering = ["-requested_at", "-id"]
        verbose_name = _("role grant request")
        verbose_name_plural = _("role grant requests")
        permissions = [("approve_rolerequest", _("Can approve or reject role grants"))]

    def __str__(self) -> str:
        return f"RG-{self.pk:05d} {self.role}" if self.pk else f"RG {self.role}"


ROLE_REQUEST_MACHINE = StateMachine(
    field="status",
    transitions=[
        Transition(
            "approve",
            (RoleRequestStatus.PROPOSED,),
            RoleRequestStatus.EFFECTIVE,
            "administration.approve_rolerequest",
            _("Approve (the person holds the role now)"),
            signature=SignatureMeaning.APPROVED,
        ),
        Transition(
            "reject",
            (RoleRequestStatus.PROPOSED,),
            RoleRequestStatus.REJECTED,
            "administration.approve_rolerequest",
            pgettext_lazy("change request", "Reject"),
            signature=SignatureMeaning.REJECTED,
            reason_required=True,
            style="danger",
        ),
        Transition(
            "withdraw",
            (RoleRequestStatus.PROPOSED,),
            RoleRequestStatus.WITHDRAWN,
            "administration.manage_users",
            _("Withdraw"),
            reason_required=True,
            style="secondary",
        ),
    ],
)


class PasswordState(GMPModel):
    """Whether a person must set a new password before doing anything else.

    Set when an administrator creates the account or resets its password (the administrator knows
    that password); cleared when the person sets one of their own. Until then the account can
    neither sign nor approve (audit.signatures refuses) and every page leads to the change form.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="password_state", verbose_name=_("person")
    )
    must_change = models.BooleanField(_("must set a new password"), default=False)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("password last set by"),
    )
    set_at = models.DateTimeField(_("password last set at"), null=True, blank=True)

    class Meta:
        verbose_name = _("password state")
        verbose_name_plural = _("password states")

    def __str__(self) -> str:
        return f"{self.user_id}: {'must change' if self.must_change else 'own password'}"
