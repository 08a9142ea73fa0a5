"""OPC UA node ids and status codes in the words an engineer reads.

A node id is checked when a tag is saved (form and model validation) and again before each read,
so one malformed id can only ever fail its own tag, never the whole endpoint's batched read.
"""

from __future__ import annotations

from asyncua import ua
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

PUSHED_PREFIX = "mqtt:"  # tags fed by messages the equipment publishes itself, not read from a server


def parse_node_id(text: str) -> ua.NodeId:
    """The NodeId of `text`; ValueError with a reason in words when it is not a usable node id."""
    text = (text or "").strip()
    if not text:
        raise ValueError(_("The node id is empty."))
    if text.startswith("nsu="):
        raise ValueError(_("Give the namespace index (ns=2;s=...), not the namespace URI."))
    if "=" not in text.split(";", 1)[0]:
        raise ValueError(
            _("“%(text)s” is not an OPC UA node id: write it as ns=<index>;s=<name> (or i=, g=, b=).") % {"text": text}
        )
    try:
        node = ua.NodeId.from_string(text)
    except Exception as exc:  # noqa: BLE001 - asyncua raises several kinds for a malformed id
        raise ValueError(
            _("“%(text)s” is not a valid OPC UA node id (%(why)s).") % {"text": text, "why": exc}
        ) from None
    if node.Identifier in ("", None):
        raise ValueError(_("The node id “%(text)s” has no identifier after the type.") % {"text": text})
    return node


def validate_node_id(value: str) -> None:
    """Django validator of EquipmentTag.node_id (pushed tags, mqtt:<key>, are not read from a server)."""
    if (value or "").startswith(PUSHED_PREFIX):
        return
    try:
        parse_node_id(value)
    except ValueError as exc:
        raise ValidationError(str(exc), code="node_id") from None


def status_words(code: int) -> str:
    """`BadNodeIdUnknown: The node id refers to a node that does not exist…` for a status code."""
    try:
        name, doc = ua.status_codes.get_name_and_doc(code)
    except Exception:  # noqa: BLE001 - an unknown code is shown as a number
        return f"0x{code:08X}"
    return f"{name}: {doc}" if doc else name


def is_good(code: int) -> bool:
    return (code >> 30) == 0


# Statuses that say the tag itself is configured wrong: it will never read, so it is a tag error.
CONFIG_ERRORS = frozenset(
    {
        ua.StatusCodes.BadNodeIdUnknown,
        ua.StatusCodes.BadNodeIdInvalid,
        ua.StatusCodes.BadAttributeIdInvalid,
        ua.StatusCodes.BadNotReadable,
        ua.StatusCodes.BadUserAccessDenied,
        ua.StatusCodes.BadTypeMismatch,
        ua.StatusCodes.BadDataTypeIdUnknown,
    }
)
