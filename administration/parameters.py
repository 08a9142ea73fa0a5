"""Moved: the configuration store is the foundation's `mes.config` (issue 22). These names are
re-exported only so that branches written against the old place keep running until they are
merged; `make lint` (import-linter) reports every domain app that still imports them."""

from mes.config import (  # noqa: F401
    BY_NAME,
    PARAMETERS,
    config_get,
    config_get_or_default,
    parameter_def,
)
