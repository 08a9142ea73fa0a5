"""Material master data under change control (mes.changecontrol): one line per model."""

from mes.changecontrol import controlled

CONTROLLED = [
    controlled(
        "materials.Material",
        [
            "code",
            "name",
            "name_zh",
            "type",
            "unit",
            "specification",
            "storage_condition",
            "shelf_life_days",
            "retest_days",
            "active",
        ],
    ),  # fmt: skip
]
