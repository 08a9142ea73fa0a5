"""Plant data capture state (issue 23): what every poller worker shares, and what it raised.

- TagState: per tag, the last stored value/status (deadband memory shared by all workers, kept in
  the database, not in one process) and the tag's own error, if it failed (bad node id, unknown
  node, wrong data type): a failing tag is isolated, never its endpoint.
- EndpointHealth: per OPC UA endpoint, last good read, reconnects, skipped (overlapping) polls, lag.
- CaptureAlert: a condition raised once (tag error, clock ahead, unmapped machine state) until cleared.
- MachineStateMap: master data (audited, changed with a reason in the admin): per equipment class,
  which machine value (text, case-insensitive, or code) means which MES machine state.

The first three are machine data kept current by the poller (like EquipmentLive), not GMP records;
what matters of them goes to the equipment logbook, which is.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from audit.gmp import GMPModel
from equipment.models import Equipment, EquipmentClass, EquipmentTag, MachineState


class TagState(models.Model):
    """The last stored reading of a tag (in receipt order) and the tag's error, shared by all workers."""

    tag = models.OneToOneField(EquipmentTag, on_delete=models.PROTECT, primary_key=True, related_name="state")
    value = models.FloatField(null=True)
    text = models.CharField(max_length=60, blank=True, default="")
    status_code = models.BigIntegerField(null=True)
    has_value = models.BooleanField(default=False)
    stored_at = models.DateTimeField(null=True)
    error = models.CharField(_("tag error"), max_length=300, blank=True, default="")
    error_since = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("tag capture state")
        verbose_name_plural = _("tag capture states")

    def __str__(self) -> str:
        return f"{self.tag_id} {self.error or 'ok'}"


class EndpointHealth(models.Model):
    """How one OPC UA endpoint is doing, for the status page."""

    url = models.CharField(max_length=200, unique=True)
    last_poll_at = models.DateTimeField(null=True)
    last_good_at = models.DateTimeField(null=True)
    polls = models.BigIntegerField(default=0)
    failures = models.BigIntegerField(default=0)
    reconnects = models.BigIntegerField(default=0)
    skipped_polls = models.BigIntegerField(default=0)
    connected = models.BooleanField(default=False)
    last_duration_ms = models.FloatField(null=True)
    lag_ms = models.FloatField(null=True)  # newest stored value: receipt minus source time
    last_error = models.CharField(max_length=300, blank=True, default="")

    class Meta:
        ordering = ["url"]
        verbose_name = _("OPC UA endpoint health")
        verbose_name_plural = _("OPC UA endpoint health")

    def __str__(self) -> str:
        return self.url


class CaptureAlertKind(models.TextChoices):
    TAG_ERROR = "tag_error", _("Tag error")
    CLOCK = "clock", _("Machine clock ahead")
    UNMAPPED_STATE = "unmapped_state", _("Unmapped machine state")


class CaptureAlert(models.Model):
    """A data-capture problem raised once (while open) and cleared when it goes away."""

    equipment = models.ForeignKey(Equipment, on_delete=models.PROTECT, related_name="capture_alerts")
    tag = models.ForeignKey(EquipmentTag, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    kind = models.CharField(max_length=20, choices=CaptureAlertKind.choices)
    detail = models.CharField(max_length=300)
    raised_at = models.DateTimeField()
    cleared_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-raised_at", "-id"]
        constraints = [
            # one open alert per (equipment, tag, kind): raised once, not once per poll or per worker
            models.UniqueConstraint(
                fields=["equipment", "tag", "kind"],
                condition=models.Q(cleared_at__isnull=True),
                name="eq_capture_alert_open_once",
                nulls_distinct=False,
            )
        ]
        verbose_name = _("data capture alert")
        verbose_name_plural = _("data capture alerts")

    def __str__(self) -> str:
        return f"{self.equipment_id} {self.kind} {self.detail}"


def state_key(value) -> str:
    """How a machine value is looked up: text stripped and case-folded, a whole number as digits."""
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float):
        return str(value)
    return str(value or "").strip().casefold()


class MachineStateMap(GMPModel):
    """Master data: what a machine's state value (text or code) means, per equipment class."""

    equipment_class = models.ForeignKey(
        EquipmentClass, on_delete=models.PROTECT, related_name="state_map", verbose_name=_("equipment class")
    )
    value = models.CharField(
        _("machine value"),
        max_length=60,
        help_text=_("As the machine sends it: a word (any letter case) or a number code."),
    )
    state = models.CharField(
        _("MES machine state"),
        max_length=10,
        choices=[(v, label) for v, label in MachineState.choices if v != MachineState.UNKNOWN],
    )

    class Meta:
        ordering = ["equipment_class", "value"]
        constraints = [models.UniqueConstraint(fields=["equipment_class", "value"], name="eq_state_map_unique")]
        verbose_name = _("machine state mapping")
        verbose_name_plural = _("machine state mappings")

    def __str__(self) -> str:
        return f"{self.equipment_class_id}: {self.value} -> {self.state}"

    def save(self, *args, **kwargs):
        self.value = state_key(self.value)
        super().save(*args, **kwargs)
