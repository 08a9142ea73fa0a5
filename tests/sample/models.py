"""A minimal stateful GMP record used to test the shared workflow and audit machinery."""

from django.db import models

from audit.gmp import GMPModel
from mes.workflow import StateMachine, Transition


class Sample(GMPModel):
    STATE_FIELD = "status"
    title = models.CharField(max_length=100)
    quantity = models.DecimalField(max_digits=12, decimal_places=3, default=0)
    status = models.CharField(max_length=20, default="draft")
    author = models.ForeignKey("auth.User", null=True, on_delete=models.PROTECT, related_name="+")

    def __str__(self):
        return self.title


SAMPLE_MACHINE = StateMachine(
    field="status",
    transitions=[
        Transition("submit", ("draft",), "submitted", "sample.change_sample", "Submit"),
        Transition("approve", ("submitted",), "approved", "sample.change_sample", "Approve", signature="approved"),
        Transition(
            "cancel",
            ("draft", "approved"),
            "cancelled",
            "sample.change_sample",
            "Cancel",
            signature="cancelled",
            reason_required=True,
        ),
    ],
)


class SampleEffect(models.Model):
    """The effect of one fault-test task (tests/faults): one row per task key, never two."""

    key = models.CharField(max_length=40, unique=True)
    applied_at = models.DateTimeField(auto_now_add=True)


class SampleDelivery(models.Model):
    """Each completed run of a fault-test task, redeliveries included (not unique by key)."""

    key = models.CharField(max_length=40, db_index=True)
    worker_pid = models.IntegerField()
    applied = models.BooleanField()
