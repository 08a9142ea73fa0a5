from django.apps import apps

from materials.models import Lot
from mes.registry import Rule
from quality.models import CAPA, BatchRelease, Deviation, Disposition, Specification

QC_QA = frozenset({"qc", "qa"})
SPEC_READERS = frozenset({"qc", "qa", "auditor"})
DEV_READERS = frozenset({"qc", "qa", "supervisor", "operator", "maintenance", "warehouse", "auditor"})
DEV_RAISERS = frozenset({"qc", "qa", "supervisor", "operator", "maintenance", "warehouse"})
CAPA_READERS = frozenset({"qc", "qa", "supervisor", "maintenance", "auditor"})
QC_READERS = frozenset({"qc", "qa", "auditor"})
RELEASE_READERS = frozenset({"qc", "qa", "supervisor", "auditor"})
DISPOSITION_READERS = frozenset({"qc", "qa", "warehouse", "auditor", "supervisor"})  # supervisor: rework batches


def _spec(data):
    return {"pk": Specification.objects.order_by("pk").values_list("pk", flat=True).first()}


def _deviation(data):
    return {"pk": Deviation.objects.order_by("pk").values_list("pk", flat=True).first()}


def _capa(data):
    return {"pk": CAPA.objects.order_by("pk").values_list("pk", flat=True).first()}


def _first(model_path: str, field: str = "pk"):
    def make(data):
        model = apps.get_model(model_path)
        return {"pk": model.objects.order_by("pk").values_list(field, flat=True).first()}

    return make


def _lot(data):
    return {"lot_id": Lot.objects.filter(status="rejected").order_by("pk").values_list("pk", flat=True).first()}


def _batch(data):
    return {"pk": BatchRelease.objects.order_by("pk").values_list("batch_id", flat=True).first()}


def _rework_disposition(data):
    return {"disposition_id": Disposition.objects.order_by("pk").values_list("pk", flat=True).first() or 1}


ACCESS = {
    "quality:spec_list": Rule(SPEC_READERS),
    "quality:spec_create": Rule(frozenset({"qc"})),
    "quality:spec_detail": Rule(SPEC_READERS, make_kwargs=_spec),
    "quality:spec_item_add": Rule(frozenset({"qc"}), method="post", make_kwargs=_spec),
    "quality:spec_item_remove": Rule(frozenset({"qc"}), method="post"),
    "quality:spec_new_version": Rule(frozenset({"qc"}), method="post", make_kwargs=_spec),
    "quality:spec_action": Rule(SPEC_READERS, method="post"),
    "quality:deviation_list": Rule(DEV_READERS),
    "quality:deviation_create": Rule(DEV_RAISERS),
    "quality:deviation_detail": Rule(DEV_READERS, make_kwargs=_deviation),
    "quality:deviation_action": Rule(DEV_READERS, method="post"),
    "quality:capa_create": Rule(QC_QA, method="post", make_kwargs=_deviation),
    "quality:capa_board": Rule(CAPA_READERS),
    "quality:capa_detail": Rule(CAPA_READERS, make_kwargs=_capa),
    "quality:capa_action": Rule(CAPA_READERS, method="post"),
    "quality:worklist": Rule(QC_READERS),
    "quality:inspection_create": Rule(frozenset({"qc"})),
    "quality:inspection_detail": Rule(QC_READERS, make_kwargs=_first("quality.Inspection")),
    "quality:sample_take": Rule(frozenset({"qc"}), method="post"),
    "quality:result_enter": Rule(frozenset({"qc"}), method="post"),
    "quality:result_correct": Rule(frozenset({"qc"}), method="post"),
    "quality:inspection_action": Rule(frozenset({"qc"}), method="post"),
    "quality:release_list": Rule(RELEASE_READERS),
    "quality:release_detail": Rule(RELEASE_READERS, make_kwargs=_batch),
    "quality:release_action": Rule(RELEASE_READERS, method="post"),
    "quality:disposition_list": Rule(DISPOSITION_READERS),
    "quality:disposition_create": Rule(frozenset({"qc"}), make_kwargs=_lot),
    "quality:disposition_detail": Rule(DISPOSITION_READERS, make_kwargs=_first("quality.Disposition")),
    "quality:disposition_action": Rule(DISPOSITION_READERS, method="post"),
    # The supervisor starts the rework batch of an approved rework disposition (a signed POST). The
    # page is the batches app's; its object is a disposition, so the rule is declared here.
    "batches:rework_start": Rule(frozenset({"supervisor"}), method="post", make_kwargs=_rework_disposition),
}
