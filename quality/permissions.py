"""Least privilege: QC writes specifications, tests and QC-releases; QA approves and closes major issues;
the production supervisor gives the production release; the warehouse carries out scrap."""

_SPEC_READ = ["quality.view_specification", "quality.view_testitem"]
_DEV_READ = ["quality.view_deviation", "quality.view_deviationlink", "quality.view_capa"]
_QC_READ = [
    "quality.view_inspection",
    "quality.view_inspectionsample",
    "quality.view_result",
    "quality.view_batchrelease",
    "quality.view_disposition",
]
_RAISE = ["quality.add_deviation"]

ROLE_PERMISSIONS = {
    "qc": [
        *_SPEC_READ,
        *_DEV_READ,
        *_QC_READ,
        *_RAISE,
        "quality.add_specification",
        "quality.change_specification",
        "quality.investigate_deviation",
        "quality.close_deviation",
        "quality.add_capa",
        "quality.change_capa",
        "quality.add_inspection",
        "quality.enter_result",
        "quality.complete_inspection",
        "quality.qc_release_batch",
        "quality.add_disposition",
    ],
    "qa": [
        *_SPEC_READ,
        *_DEV_READ,
        *_QC_READ,
        *_RAISE,
        "quality.approve_specification",
        "quality.investigate_deviation",
        "quality.close_deviation",
        "quality.approve_major_deviation",
        "quality.add_capa",
        "quality.change_capa",
        "quality.verify_capa",
        "quality.approve_disposition",
    ],
    "supervisor": [
        *_DEV_READ,
        *_RAISE,
        "quality.change_capa",
        "quality.view_batchrelease",
        "quality.production_release_batch",
        "quality.view_disposition",  # starts the rework batch of an approved rework disposition
    ],
    "operator": ["quality.view_deviation", *_RAISE],
    "maintenance": [*_DEV_READ, *_RAISE, "quality.change_capa"],
    "warehouse": ["quality.view_deviation", *_RAISE, "quality.view_disposition", "quality.execute_disposition"],
    "auditor": [*_SPEC_READ, *_DEV_READ, *_QC_READ],
}
