"""Integration records: API accounts, the outbox (messages to send) and the inbox (messages received).

The outbox and inbox are the integration's own log, not GMP records: a business change that
emits a message is audited by its app's service, in the same transaction that writes the outbox
row. Delivery bookkeeping (attempts, leases) changes thousands of times a second under load, so
these rows are plain models; administrator actions on them (replay) are audited explicitly.
"""

from __future__ import annotations

import json
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from audit.gmp import GMPModel


class System(models.TextChoices):
    ERP = "erp", _("ERP")
    LIMS = "lims", _("LIMS")
    QMS = "qms", _("QMS")
    WMS = "wms", _("WMS")
    EQUIPMENT = "equipment", _("Equipment management")
    OTHER = "other", _("Other")


class IntegrationAccount(GMPModel):
    """An external system's API identity: a Django user (roles = its permissions) and a token.

    Only the SHA-256 hash of the token is stored; the token itself is shown once, when issued.
    The user has no usable password, so the account cannot sign in to the pages.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="integration_account", verbose_name=_("user")
    )
    system = models.CharField(_("system"), max_length=20, choices=System.choices)
    description = models.CharField(_("description"), max_length=200, blank=True, default="")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    token_prefix = models.CharField(_("token prefix"), max_length=8, editable=False)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    AUDIT_EXCLUDE = ("token_hash",)

    class Meta:
        ordering = ["system", "user__username"]
        verbose_name = _("integration account")
        verbose_name_plural = _("integration accounts")

    def __str__(self) -> str:
        return f"{self.user.username} ({self.get_system_display()})"


class OutboxStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    DELIVERED = "delivered", _("Delivered")
    DEAD = "dead", _("Dead letter")


class OutboxMessage(models.Model):
    """One event to tell an external system, written in the business change's transaction.

    (system, kind, key) is unique: the same event enqueued twice is one message. `message_id`
    travels as the Idempotency-Key header, the same on every attempt, so a receiver that saw a
    message already (our acknowledgement was lost) can recognise the retry.
    """

    message_id = models.UUIDField(_("message id"), default=uuid.uuid4, unique=True, editable=False)
    system = models.CharField(_("system"), max_length=20, choices=System.choices)
    kind = models.CharField(_("kind"), max_length=60)
    key = models.CharField(_("event key"), max_length=200)
    payload = models.JSONField(_("payload"))
    status = models.CharField(_("status"), max_length=12, choices=OutboxStatus.choices, default=OutboxStatus.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), default=timezone.now)
    lease_until = models.DateTimeField(null=True, blank=True)
    claim_token = models.UUIDField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(_("last attempt at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True, default="")
    last_status_code = models.PositiveIntegerField(_("last HTTP status"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    replayed_count = models.PositiveIntegerField(_("replays"), default=0)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("outbound message")
        verbose_name_plural = _("outbound messages")
        constraints = [
            models.UniqueConstraint(fields=["system", "kind", "key"], name="integrations_outbox_one_per_event"),
        ]
        indexes = [
            # The claim's order (outbox_claim): a backlog of 50,000 is read in order, not sorted per claim.
            models.Index(fields=["status", "system", "next_attempt_at", "id"], name="integrations_outbox_due_order"),
            models.Index(fields=["status", "lease_until"], name="integrations_outbox_lease"),
        ]
        permissions = [
            ("view_message_log", "Can view the integration message log"),
            ("replay_message", "Can replay dead or failed integration messages"),
        ]

    def __str__(self) -> str:
        return f"{self.system}/{self.kind} {self.key}"

    @property
    def error_summary(self) -> str:
        return self.last_error


class InboxStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    PROCESSED = "processed", _("Processed")
    FAILED = "failed", pgettext_lazy("processing status", "Failed")
    PARKED = "parked", _("Waiting for a module")


class InboxMessage(models.Model):
    """One message received from an external system, stored before anything is done with it.

    (system, kind, message_id) is unique, so a message sent twice is processed once, and a key a
    system reuses for another kind of message (a WMS receipt and a stock status) is another message. A failed message
    keeps its error and can be replayed once the cause is fixed; a parked message waits for a
    module of the MES that does not handle its kind yet (nothing is applied, nothing is lost).
    """

    system = models.CharField(_("system"), max_length=20, choices=System.choices)
    kind = models.CharField(_("kind"), max_length=60)
    message_id = models.CharField(_("message id"), max_length=120)
    payload = models.JSONField(_("payload"), null=True, blank=True)
    raw = models.TextField(_("raw content"), blank=True, default="")
    status = models.CharField(_("status"), max_length=12, choices=InboxStatus.choices, default=InboxStatus.RECEIVED)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True, default="")
    result = models.JSONField(_("result"), null=True, blank=True)
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    processed_at = models.DateTimeField(_("processed at"), null=True, blank=True)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-id"]
        verbose_name = _("inbound message")
        verbose_name_plural = _("inbound messages")
        constraints = [
            models.UniqueConstraint(fields=["system", "kind", "message_id"], name="integrations_inbox_once_per_kind"),
        ]
        indexes = [models.Index(fields=["status", "system"], name="integrations_inbox_status")]
        permissions = [
            ("push_erp", "Can send ERP messages (production plans) to the MES"),
            ("push_lims", "Can send LIMS messages (test results) to the MES"),
            ("push_qms", "Can send QMS messages (CAPA decisions) to the MES"),
            ("push_wms", "Can send WMS messages (receipts, stock status) to the MES"),
        ]

    def __str__(self) -> str:
        return f"{self.system}/{self.kind} {self.message_id}"

    @property
    def error_summary(self) -> str:
        """The error in words for lists: the messages of the stored {field: [messages]}, not its JSON."""
        try:
            detail = json.loads(self.last_error)
        except ValueError:
            return self.last_error
        if not isinstance(detail, dict):
            return self.last_error
        texts = []
        for value in detail.values():
            texts.extend(str(v) for v in (value if isinstance(value, list) else [value]))
        return " ".join(texts)
