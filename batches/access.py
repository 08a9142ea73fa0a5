"""Declared access of every batch page."""

from mes.registry import Rule

VIEWERS = frozenset({"supervisor", "operator", "qc", "qa", "auditor"})


def _batch(*states):
    from batches.models import Batch

    qs = Batch.objects.order_by("pk")
    if states:
        qs = qs.filter(status__in=states)
    return qs.first() or Batch.objects.order_by("pk").first()


def _number(seeded):
    return {"number": _batch("in_progress").number}


def _disposition(seeded):
    from quality.models import Disposition

    return {"disposition_id": Disposition.objects.order_by("pk").values_list("pk", flat=True).first() or 1}


def _step(seeded):
    batch = _batch("in_progress")
    return {"number": batch.number, "step": batch.steps.order_by("number").first().number}


ACCESS = {
    "batches:list": Rule(VIEWERS),
    # The supervisor starts the rework batch of an approved rework disposition (a signed POST).
    "batches:rework_start": Rule(frozenset({"supervisor"}), method="post", make_kwargs=_disposition),
    "batches:detail": Rule(VIEWERS, make_kwargs=_number),
    "batches:step": Rule(VIEWERS, make_kwargs=_step),
    "batches:review": Rule(VIEWERS, make_kwargs=_number),
    "batches:record": Rule(VIEWERS, make_kwargs=_number),
    "batches:pdf": Rule(VIEWERS, make_kwargs=_number),
}
