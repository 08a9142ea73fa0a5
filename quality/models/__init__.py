"""Quality records: specifications, deviations and CAPA, inspections, dispositions and release."""

from quality.models.common import Counter, DispositionKind
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
from quality.models.inspections import (
    INSPECTION_MACHINE,
    Inspection,
    InspectionOrigin,
    InspectionSample,
    InspectionStatus,
    LotDecision,
    Result,
)
from quality.models.release import (
    DISPOSITION_MACHINE,
    RELEASE_MACHINE,
    BatchRelease,
    Disposition,
    DispositionStatus,
    ReleaseStatus,
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
    "BatchRelease",
    "DISPOSITION_MACHINE",
    "Disposition",
    "DispositionKind",
    "DispositionStatus",
    "INSPECTION_MACHINE",
    "Inspection",
    "InspectionOrigin",
    "InspectionStatus",
    "LotDecision",
    "RELEASE_MACHINE",
    "ReleaseStatus",
    "Result",
    "InspectionSample",
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
