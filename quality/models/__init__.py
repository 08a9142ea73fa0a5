"""Quality records: specifications, deviations and CAPA, inspections, dispositions and release."""

from quality.models.common import Counter
from quality.models.deviations import (
    CAPA,
    CAPA_MACHINE,
    DEVIATION_MACHINE,
    CAPAKind,
    CAPAStatus,
    Deviation,
    DeviationClass,
    DeviationLink,
    DeviationSource,
    DeviationStatus,
)
from quality.models.specs import (
    SPEC_MACHINE,
    InspectionType,
    LimitKind,
    Specification,
    SpecStatus,
    TestItem,
)

__all__ = [
    "CAPA",
    "CAPA_MACHINE",
    "CAPAKind",
    "CAPAStatus",
    "Counter",
    "DEVIATION_MACHINE",
    "Deviation",
    "DeviationClass",
    "DeviationLink",
    "DeviationSource",
    "DeviationStatus",
    "InspectionType",
    "LimitKind",
    "SPEC_MACHINE",
    "SpecStatus",
    "Specification",
    "TestItem",
]
