"""Batch permissions per role (least privilege). Executing a batch is an object permission
(`batches.execute_batch`) granted per batch to its assigned operators."""

ROLE_PERMISSIONS = {
    "supervisor": ["batches.view_batch", "batches.prepare_batch", "batches.release_batch"],
    "operator": ["batches.view_batch"],
    "qc": ["batches.view_batch", "batches.review_batch", "batches.qc_release_batch"],
    "qa": ["batches.view_batch", "batches.archive_batch"],
    "auditor": ["batches.view_batch"],
}
