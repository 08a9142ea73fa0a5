"""Labels of dispensed containers (issue 19): PDF (WeasyPrint) and ZPL for a label printer on TCP 9100.

Both carry material, source lot, net (tare, gross) weight, batch, who weighed and when, the balance,
and the container code as Code 128 and QR, which is what a scanner reads at the next step.
"""

from __future__ import annotations

import socket

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from materials.labels import code128_svg, qr_svg, render_pdf
from materials.services.common import fmt


def _zpl_text(value) -> str:
    """Field data for ZPL: ^ and ~ would start commands, so they are replaced."""
    return str(value).replace("^", " ").replace("~", " ").replace("\n", " ")[:120]


def dispense_label_zpl(entry, *, printed_by, reprint: bool) -> str:
    lot, material = entry.lot, entry.lot.material
    when = timezone.localtime(entry.created_at).strftime("%Y-%m-%d %H:%M")
    lines = [
        "^XA",
        "^CI28",  # UTF-8, so Chinese material names print
        f"^FO30,20^A0N,34,34^FD{_zpl_text(material.code)} {_zpl_text(material.name)}^FS",
        f"^FO30,60^A0N,30,30^FD{_zpl_text(material.name_zh)}^FS",
        f"^FO30,100^A0N,28,28^FDLot {_zpl_text(lot.code)}  Batch {_zpl_text(entry.batch.number)}^FS",
        f"^FO30,140^A0N,40,40^FDNET {_zpl_text(fmt(entry.net, entry.unit))}^FS",
        f"^FO30,190^A0N,24,24^FDTare {_zpl_text(fmt(entry.tare, entry.unit))}  "
        f"Gross {_zpl_text(fmt(entry.gross, entry.unit))}^FS",
        f"^FO30,220^A0N,24,24^FD{_zpl_text(entry.weighed_by.get_username())} {when} "
        f"{_zpl_text(entry.balance.code if entry.balance else 'MANUAL')}{' REPRINT' if reprint else ''}^FS",
        f"^FO30,260^BY2^BCN,70,Y,N,N^FD{_zpl_text(entry.container_code)}^FS",
        f"^FO600,20^BQN,2,5^FDQA,{_zpl_text(entry.container_code)}^FS",
        "^XZ",
    ]
    return "\n".join(lines) + "\n"


def dispense_label_pdf(entry, *, printed_by, reprint: bool) -> bytes:
    return render_pdf(
        "materials/pdf/dispense_label.html",
        {
            "entry": entry,
            "lot": entry.lot,
            "material": entry.lot.material,
            "barcode": code128_svg(entry.container_code),
            "qr": qr_svg(entry.container_code),
            "printed_by": printed_by,
            "printed_at": timezone.localtime(),
            "reprint": reprint,
        },
    )


def printer_address() -> tuple[str, int] | None:
    value = getattr(settings, "MES_LABEL_PRINTER", "")
    if not value:
        return None
    host, _sep, port = value.rpartition(":")
    return host or "127.0.0.1", int(port)


def send_to_printer(zpl: str, *, timeout: float = 3.0) -> None:
    """Send ZPL to the label printer (raw TCP, port 9100 by convention); refuse in words if it fails."""
    address = printer_address()
    if address is None:
        raise ValidationError(_("No label printer is set up (MES_LABEL_PRINTER). Print the PDF label instead."))
    try:
        with socket.create_connection(address, timeout=timeout) as sock:
            sock.sendall(zpl.encode("utf-8"))
    except OSError:
        raise ValidationError(
            _("The label printer at %(addr)s cannot be reached. Check that it is on, then print again.")
            % {"addr": f"{address[0]}:{address[1]}"}
        ) from None
