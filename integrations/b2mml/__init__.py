"""ISA-95 B2MML (V0700): OperationsSchedule in (as production orders), OperationsPerformance out
(for a closed batch), and an ISA-88 style BatchML batch record export.

"The Business To Manufacturing Markup Language (B2MML) is used courtesy of MESA International."
The official V0700 schemas are shipped in integrations/b2mml/xsd/: imports are validated against
them before anything is mapped, and the tests validate what we produce.
"""

from __future__ import annotations

from pathlib import Path

from lxml import etree

NS = "http://www.mesa.org/xml/B2MML"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XSD_DIR = Path(__file__).resolve().parent / "xsd"


def q(tag: str) -> str:
    return f"{{{NS}}}{tag}"


def safe_parser() -> etree.XMLParser:
    """No entities, no network, no huge trees: the XML comes from another system."""
    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_comments=True)


def sub(parent, tag: str, text=None, **attrs):
    element = etree.SubElement(parent, q(tag), **attrs)
    if text is not None:
        element.text = str(text)
    return element
