"""Material master data under change control (mes.changecontrol): one line per model."""

from materials.services.master import MATERIAL_FIELDS
from mes.changecontrol import controlled

CONTROLLED = [controlled("materials.Material", MATERIAL_FIELDS)]
