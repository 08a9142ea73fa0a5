"""Quality services: every state change and GMP rule of the quality app, one function per action."""

from quality.services.deviations import (  # noqa: F401
    Link,
    capa_close,
    capa_create,
    capa_reopen,
    capa_start,
    capa_submit,
    deviation_close,
    deviation_close_problems,
    deviation_conclude,
    deviation_investigate,
    deviation_link_add,
    deviation_raise,
    link_for,
)
from quality.services.specs import (  # noqa: F401
    effective_spec,
    spec_approve,
    spec_create,
    spec_item_remove,
    spec_item_save,
    spec_new_version,
    spec_retire,
    spec_return,
    spec_submit,
    spec_update,
)
