"""The parameter catalogue's definition rows (type, range, unit), brought in line with the catalogue
after every migrate. The store itself (catalogue, types, defaults, reading, caching) is the
foundation's: `mes.config`; the values change only through `administration.services.config`.
"""

from __future__ import annotations

from administration.models import ConfigParameter
from audit.context import audit_context
from mes.config import PARAMETERS


def parameters_sync() -> None:
    """Create or update each parameter's definition row (type, range, unit). Values are untouched."""
    with audit_context(action="administration.configparameter.define", reason="parameter catalogue sync"):
        for d in PARAMETERS:
            fields = {
                "category": d.category,
                "value_type": d.value_type,
                "min_value": d.min_value,
                "max_value": d.max_value,
                "unit": d.unit,
            }
            row = ConfigParameter.objects.filter(name=d.name).first()
            if row is None:
                ConfigParameter.objects.create(name=d.name, **fields)
            elif any(getattr(row, k) != v for k, v in fields.items()):
                for k, v in fields.items():
                    setattr(row, k, v)
                row.save()
