"""The audit trail and electronic signatures.

AuditEvent rows are append-only (database triggers refuse UPDATE, DELETE and TRUNCATE; see
audit/db.py) and hash-chained: each row stores the SHA-256 of its canonical content, which
includes the previous row's hash. ChainHead is the single row that serialises chain position
assignment. Signature binds a signer, a meaning and a hash of the signed record's content.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.db import models
from django.db.models.functions import Upper
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

GENESIS_HASH = "0" * 64


class AuditEvent(models.Model):
    """One attributable, time-stamped, chained entry of the audit trail."""

    seq = models.BigIntegerField(_("sequence"), unique=True)
    timestamp = models.DateTimeField(_("time (UTC)"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_constraint=False
    )
    # Indexes serve the lookups the trail really has (see Meta): every index is one more insert per
    # event, on the path of every audited save.
    username = models.CharField(_("user"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=80)
    object_type = models.CharField(_("record type"), max_length=100, blank=True)
    object_id = models.CharField(_("record id"), max_length=64, blank=True)
    object_repr = models.CharField(_("record"), max_length=255, blank=True)
    # Canonical JSON text (sorted keys), stored as text so the hash covers exactly what is stored.
    old_values = models.TextField(_("old values"), blank=True, default="")
    new_values = models.TextField(_("new values"), blank=True, default="")
    reason = models.TextField(_("reason"), blank=True, default="")
    request_id = models.CharField(_("request id"), max_length=64, blank=True, default="")
    ip_address = models.CharField(_("IP address"), max_length=64, blank=True, default="")
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)
    # The key ring entry that keyed `hash` (HMAC-SHA-256; audit.keys). Empty: an unkeyed SHA-256 hash,
    # as written before the chain was keyed.
    key_id = models.CharField(_("key id"), max_length=40, blank=True, default="")
    # The inserting transaction, stamped by the database (audit.db link trigger, PostgreSQL): a GMP row
    # written in a transaction with no event of its own is refused at commit. Not hashed.
    txid = models.BigIntegerField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-seq"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        permissions = [
            ("view_audit_trail", _("Can view and search the audit trail")),
            ("export_audit_trail", _("Can export the audit trail")),
        ]
        indexes = [
            # a record's history (and record type alone, its leading column)
            models.Index(fields=["object_type", "object_id", "seq"], name="audit_obj_seq"),
            # the auditor's "record id" filter without a type
            models.Index(fields=["object_id"], name="audit_object_id"),
            # the auditor's user filter (case-insensitive, as typed)
            models.Index(Upper("username"), name="audit_username_upper"),
        ]
        # a constraint, not unique=True: no second (LIKE-pattern) index on PostgreSQL
        constraints = [models.UniqueConstraint(fields=["hash"], name="audit_hash_unique")]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_type}:{self.object_id}"

    @property
    def old(self) -> dict:
        return json.loads(self.old_values) if self.old_values else {}

    @property
    def new(self) -> dict:
        return json.loads(self.new_values) if self.new_values else {}

    def changes(self) -> list[tuple[str, object, object]]:
        """(field, old, new) for every field the event names, in name order."""
        old, new = self.old, self.new
        return [(key, old.get(key), new.get(key)) for key in sorted(set(old) | set(new))]

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Audit events are append-only.")


class ChainHead(models.Model):
    """The single row holding the chain's last position and hash; locked to append."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default=GENESIS_HASH)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="audit_chainhead_singleton")]


class SignatureMeaning(models.TextChoices):
    AUTHORED = "authored", pgettext_lazy("signature meaning", "Authored")
    REVIEWED = "reviewed", pgettext_lazy("signature meaning", "Reviewed")
    APPROVED = "approved", pgettext_lazy("signature meaning", "Approved")
    VERIFIED = "verified", pgettext_lazy("signature meaning", "Verified")
    PERFORMED = "performed", pgettext_lazy("signature meaning", "Performed")
    RELEASED = "released", pgettext_lazy("signature meaning", "Released")
    REJECTED = "rejected", pgettext_lazy("signature meaning", "Rejected")
    CANCELLED = "cancelled", pgettext_lazy("signature meaning", "Cancelled")
    CLOSED = "closed", pgettext_lazy("signature meaning", "Closed")
    CORRECTED = "corrected", pgettext_lazy("signature meaning", "Corrected")


class Signature(models.Model):
    """A Part 11 electronic signature, bound to the hash of the signed record's content."""

    signer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="signatures")
    printed_name = models.CharField(_("printed name"), max_length=200)
    username = models.CharField(_("user"), max_length=150)
    meaning = models.CharField(_("meaning"), max_length=20, choices=SignatureMeaning.choices)
    reason = models.TextField(_("reason"), blank=True, default="")
    signed_at = models.DateTimeField(_("signed at (UTC)"))
    object_type = models.CharField(max_length=100, db_index=True)
    object_id = models.CharField(max_length=64, db_index=True)
    object_repr = models.CharField(max_length=255, blank=True)
    action = models.CharField(_("action"), max_length=80, blank=True)
    content_hash = models.CharField(max_length=64)
    audit_event = models.OneToOneField(AuditEvent, on_delete=models.PROTECT, related_name="signature")

    class Meta:
        ordering = ["signed_at", "id"]
        verbose_name = _("electronic signature")
        verbose_name_plural = _("electronic signatures")
        indexes = [models.Index(fields=["object_type", "object_id"], name="sig_obj")]

    def __str__(self) -> str:
        return f"{self.printed_name} · {self.get_meaning_display()} · {self.signed_at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("Signatures cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Signatures cannot be deleted.")
