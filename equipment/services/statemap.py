"""Machine state values -> MES machine states, per equipment class (master data, issue 23).

A class's own MachineStateMap rows come first; the built-in meanings (codes 0/1/2 and the words
idle/running/fault/alarm, any letter case) fill what a class does not define. Anything else is
"unmapped": shown as such and alerted once by the poller.
"""

from __future__ import annotations

from equipment.models import MachineState, MachineStateMap
from equipment.models_capture import state_key

BUILT_IN = {
    "0": MachineState.IDLE,
    "1": MachineState.RUNNING,
    "2": MachineState.FAULT,
    "idle": MachineState.IDLE,
    "running": MachineState.RUNNING,
    "fault": MachineState.FAULT,
    "alarm": MachineState.FAULT,
}


class StateMaps:
    """The mappings of the classes of some equipment, loaded in one query when first needed."""

    def __init__(self, class_of: dict[int, int | None]) -> None:
        self.class_of = class_of
        self._maps: dict[int, dict[str, str]] | None = None

    def _load(self) -> dict[int, dict[str, str]]:
        if self._maps is None:
            self._maps = {}
            classes = {c for c in self.class_of.values() if c is not None}
            rows = MachineStateMap.objects.filter(equipment_class_id__in=classes).values_list(
                "equipment_class_id", "value", "state"
            )
            for cls, value, state in rows:
                self._maps.setdefault(cls, {})[value] = state
        return self._maps

    def state(self, equipment_id: int, raw: object) -> str | None:
        key = state_key(raw)
        own = self._load().get(self.class_of.get(equipment_id), {})
        return own.get(key) or BUILT_IN.get(key)
