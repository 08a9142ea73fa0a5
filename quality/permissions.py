"""Least privilege: QC writes specifications and investigates; QA approves and closes major issues."""

_SPEC_READ = ["quality.view_specification", "quality.view_testitem"]
_DEV_READ = ["quality.view_deviation", "quality.view_deviationlink", "quality.view_capa"]
_RAISE = ["quality.add_deviation"]

ROLE_PERMISSIONS = {
    "qc": [
        *_SPEC_READ,
        *_DEV_READ,
        *_RAISE,
        "quality.add_specification",
        "quality.change_specification",
        "quality.investigate_deviation",
        "quality.close_deviation",
        "quality.add_capa",
        "quality.change_capa",
    ],
    "qa": [
        *_SPEC_READ,
        *_DEV_READ,
        *_RAISE,
        "quality.approve_specification",
        "quality.investigate_deviation",
        "quality.close_deviation",
        "quality.approve_major_deviation",
        "quality.add_capa",
        "quality.change_capa",
        "quality.verify_capa",
    ],
    "supervisor": [*_DEV_READ, *_RAISE, "quality.change_capa"],
    "operator": ["quality.view_deviation", *_RAISE],
    "maintenance": [*_DEV_READ, *_RAISE, "quality.change_capa"],
    "warehouse": ["quality.view_deviation", *_RAISE],
    "auditor": [*_SPEC_READ, *_DEV_READ],
}
