"""Server-rendered SVG charts (no JavaScript, no CDN): the same markup in pages and in PDFs."""

from __future__ import annotations

import math

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

W, H = 640, 240
PAD_L, PAD_R, PAD_T, PAD_B = 48, 12, 14, 42
LIMIT_LABEL_W = 76  # room right of a control chart for "UCL 101.25"
COLOURS = ("#2563eb", "#16a34a", "#d97706", "#dc2626", "#7c3aed", "#0891b2")


def _fmt(v: float) -> str:
    return f"{v:.4g}"


def _nice_top(top: float) -> float:
    """The smallest round value at or above `top` whose quarters (the axis ticks) are round too."""
    scale = 10 ** math.floor(math.log10(top))
    return next(m * scale for m in (1, 1.2, 1.6, 2, 2.4, 3, 4, 6, 8, 10) if m * scale >= top)


def _tick(v: float) -> str:
    """An axis label short enough for the left margin (60000 -> 60k, never 6e+04)."""
    for threshold, unit, suffix in ((1e6, 1e6, "M"), (1e4, 1e3, "k")):
        if abs(v) >= threshold:
            return f"{round(v / unit, 3):g}{suffix}"
    return f"{round(v, 6):g}"


def _frame(body: list[str], title: str) -> SafeString:
    # Every text placed in the markup above went through escape(); numbers are formatted floats.
    return mark_safe(  # noqa: S308
        f'<svg class="chart" viewBox="0 0 {W} {H}" width="100%" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg" font-family="Noto Sans CJK SC, sans-serif" font-size="13">'
        f"<title>{escape(title)}</title>{''.join(body)}</svg>"
    )


def bar_chart(title: str, labels: list[str], series: list[tuple[str, list[float | None]]]) -> SafeString:
    """Grouped bars: one group per label, one bar per series (legend at the bottom)."""
    values = [v for _, vals in series for v in vals if v is not None]
    top = _nice_top(max(values + [0.0]) or 1.0)
    inner_w, inner_h = W - PAD_L - PAD_R, H - PAD_T - PAD_B
    body = [f'<line x1="{PAD_L}" y1="{PAD_T + inner_h}" x2="{W - PAD_R}" y2="{PAD_T + inner_h}" stroke="#94a3b8"/>']
    for k in range(5):
        y = PAD_T + inner_h - inner_h * k / 4
        body.append(
            f'<text x="{PAD_L - 4}" y="{y + 4:.1f}" text-anchor="end" fill="#475569">{_tick(top * k / 4)}</text>'
        )
    n = max(len(labels), 1)
    group_w = inner_w / n
    bar_w = max(group_w * 0.8 / max(len(series), 1), 1)
    for i, label in enumerate(labels):
        x0 = PAD_L + i * group_w + group_w * 0.1
        for s, (_, vals) in enumerate(series):
            v = vals[i] if i < len(vals) else None
            if v is None:
                continue
            h = inner_h * v / top
            body.append(
                f'<rect x="{x0 + s * bar_w:.1f}" y="{PAD_T + inner_h - h:.1f}" width="{bar_w * 0.92:.1f}" '
                f'height="{h:.1f}" fill="{COLOURS[s % len(COLOURS)]}"><title>{escape(label)}: {_fmt(v)}</title></rect>'
            )
        if n <= 24:
            body.append(
                f'<text x="{x0 + group_w * 0.4:.1f}" y="{PAD_T + inner_h + 14}" text-anchor="middle" '
                f'fill="#334155">{escape(str(label)[:14])}</text>'
            )
    for s, (name, _) in enumerate(series):
        x = PAD_L + s * 150
        body.append(f'<rect x="{x}" y="{H - 14}" width="10" height="10" fill="{COLOURS[s % len(COLOURS)]}"/>')
        body.append(f'<text x="{x + 14}" y="{H - 5}" fill="#334155">{escape(str(name))}</text>')
    return _frame(body, title)


def control_chart(
    title: str,
    values: list[float],
    centre: float,
    lcl: float,
    ucl: float,
    flagged: set[int],
    lsl: float | None = None,
    usl: float | None = None,
) -> SafeString:
    """Points joined by a line, centre line, control limits (dashed) and spec limits (red)."""
    limits = [v for v in (lcl, ucl, lsl, usl) if v is not None]
    lo, hi = min(values + limits), max(values + limits)
    span = (hi - lo) or 1.0
    lo, hi = lo - span * 0.05, hi + span * 0.05
    right = W - PAD_R - LIMIT_LABEL_W  # the limits' labels sit right of the plot, clear of the points
    inner_w, inner_h = right - PAD_L, H - PAD_T - PAD_B

    def y(v: float) -> float:
        return PAD_T + inner_h - inner_h * (v - lo) / (hi - lo)

    def x(i: int) -> float:
        return PAD_L + inner_w * (i + 0.5) / max(len(values), 1)

    body = []
    for label, v, colour, dash in (
        ("UCL", ucl, "#d97706", "5,4"),
        ("CL", centre, "#16a34a", ""),
        ("LCL", lcl, "#d97706", "5,4"),
        ("USL", usl, "#dc2626", ""),
        ("LSL", lsl, "#dc2626", ""),
    ):
        if v is None:
            continue
        body.append(
            f'<line x1="{PAD_L}" y1="{y(v):.1f}" x2="{right}" y2="{y(v):.1f}" stroke="{colour}" '
            f'stroke-dasharray="{dash}"/><text x="{right + 4}" y="{y(v) + 4:.1f}" '
            f'fill="{colour}">{label} {_fmt(v)}</text>'
        )
    points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values))
    body.append(f'<polyline points="{points}" fill="none" stroke="#2563eb" stroke-width="1.2"/>')
    for i, v in enumerate(values):
        bad = i in flagged
        body.append(
            f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="{4 if bad else 2.5}" fill="{"#dc2626" if bad else "#2563eb"}"'
            f' class="{"ooc" if bad else "pt"}"><title>#{i + 1}: {_fmt(v)}</title></circle>'
        )
    return _frame(body, title)
