"""Declared access of every batch page."""

from batches.models import Batch
from mes.registry import Rule

VIEWERS = frozenset({"supervisor", "operator", "qc", "qa", "auditor"})


def _batch(*states):
    qs = Batch.objects.order_by("pk")
    if states:
        qs = qs.filter(status__in=states)
    return qs.first() or Batch.objects.order_by("pk").first()


def _number(seeded):
    return {"number": _batch("in_progress").number}


def _step(seeded):
    batch = _batch("in_progress")
    return {"number": batch.number, "step": batch.steps.order_by("number").first().number}


ACCESS = {
    "batches:list": Rule(VIEWERS),
    # "batches:rework_start" takes a quality disposition: its rule is declared in quality/access.py.
    "batches:detail": Rule(VIEWERS, make_kwargs=_number),
    "batches:step": Rule(VIEWERS, make_kwargs=_step),
    "batches:review": Rule(VIEWERS, make_kwargs=_number),
    "batches:record": Rule(VIEWERS, make_kwargs=_number),
    "batches:pdf": Rule(VIEWERS, make_kwargs=_number),
}
