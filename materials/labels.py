"""PDF documents of the materials app: lot labels (Code 128 + QR) and the recall report.

Rendered with WeasyPrint from templates; the barcodes are SVG images embedded as data URIs, so
nothing is fetched from the network. The CJK font (Noto Sans/Serif CJK) comes from the system.
"""

from __future__ import annotations

import base64
import io

import barcode
import qrcode
import qrcode.image.svg
from barcode.writer import SVGWriter
from django.template.loader import render_to_string
from django.utils import timezone


def _data_uri(svg: bytes) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")


def code128_svg(text: str) -> str:
    buf = io.BytesIO()
    barcode.get("code128", text, writer=SVGWriter()).write(
        buf, options={"write_text": False, "module_height": 12, "module_width": 0.3, "quiet_zone": 2}
    )
    return _data_uri(buf.getvalue())


def qr_svg(text: str) -> str:
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=1)
    return _data_uri(image.to_string())


def container_code(lot_code: str, number: int) -> str:
    """What a container's barcode reads: the lot number and the container number ("LOT/002")."""
    return f"{lot_code}/{number:03d}"


def render_pdf(template: str, context: dict) -> bytes:
    from weasyprint import HTML

    html = render_to_string(template, context)
    return HTML(string=html).write_pdf()


def labels_pdf(lot, containers: list[int], printed_by, reprint: bool) -> bytes:
    """One label per container: material (Chinese and English), lot, status, dates, barcodes."""
    material = lot.material
    labels = []
    for number in containers:
        code = container_code(lot.code, number)
        labels.append({"number": number, "code": code, "barcode": code128_svg(code), "qr": qr_svg(code)})
    return render_pdf(
        "materials/pdf/labels.html",
        {
            "lot": lot,
            "material": material,
            "labels": labels,
            "printed_by": printed_by,
            "reprint": reprint,
            "printed_at": timezone.localtime(),
        },
    )
