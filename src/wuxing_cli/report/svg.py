"""Pure inline-SVG charts for the HTML bulletin (bars, columns, trend lines): no scripts, no external fonts,
deterministic text.

Every function returns one ``<svg>`` element as a string. Text is XML-escaped here, so the result can
be inserted into an autoescaped template as markup. Coordinates are written with one decimal so the
same data always gives byte-identical output. CJK labels use a system font stack (installed fonts
such as Noto Sans CJK render them offline).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

FONT_STACK = ('"Noto Sans CJK SC","Source Han Sans SC","Microsoft YaHei","PingFang SC",'
              '"WenQuanYi Micro Hei",sans-serif')

CURRENT = "#b22222"      # this period: the red of official documents
PREVIOUS = "#b8b8b8"     # the previous period: grey
HIGHLIGHT = "#d9822b"    # bars to draw attention to (e.g. groups ranked at the bottom)
INK = "#333333"
GRID = "#e3e3e3"


@dataclass(frozen=True)
class Series:
    """One data series: a legend name, one value per category (None: no bar) and a colour."""

    name: str
    values: Sequence[float | None]
    color: str = CURRENT


def _f(value: float) -> str:
    """A coordinate with one decimal, never ``-0.0``."""
    text = f"{value:.1f}"
    return "0.0" if text == "-0.0" else text


def _attr(text: str) -> str:
    return escape(text, {'"': "&quot;"})


def _text_width(text: str, size: float) -> float:
    """Approximate rendered width: CJK and full-width characters are one em, others about half."""
    wide = sum(1 for ch in text if ord(ch) >= 0x2E80)
    return (wide + (len(text) - wide) * 0.55) * size


def value_text(value: float, decimals: int = 1, unit: str = "") -> str:
    """A bar label: integers without decimals, others with ``decimals`` places."""
    text = f"{value:.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{'0' if text == '-0' else text}{unit}"


def nice_max(value: float) -> tuple[float, float]:
    """An axis maximum ≥ value and a tick step (1, 2 or 5 × 10^k, about five ticks)."""
    if value <= 0 or math.isnan(value):
        return 1.0, 1.0
    raw = value / 5
    power = 10 ** math.floor(math.log10(raw))
    for mult in (1, 2, 2.5, 5, 10):
        step = mult * power
        if step >= raw:
            break
    top = math.ceil(value / step - 1e-9) * step
    return float(top), float(step)


def _open(width: float, height: float, title: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_f(width)}" height="{_f(height)}" '
        f'viewBox="0 0 {_f(width)} {_f(height)}" role="img" aria-label="{_attr(title)}" '
        f"style=\"font-family:{_attr(FONT_STACK)}\">",
        f"<title>{escape(title)}</title>",
        f'<text x="{_f(width / 2)}" y="20.0" text-anchor="middle" font-size="15" font-weight="bold" '
        f'fill="{INK}">{escape(title)}</text>',
    ]


def _legend(series: Sequence[Series], right: float, y: float) -> list[str]:
    """Legend swatches right-aligned at ``right``; nothing for a single series."""
    if len(series) < 2:
        return []
    parts: list[str] = []
    x = right
    for item in reversed(series):
        label_w = _text_width(item.name, 12)
        x -= label_w
        parts.append(f'<text x="{_f(x)}" y="{_f(y + 10)}" font-size="12" fill="{INK}">{escape(item.name)}</text>')
        x -= 16
        parts.append(f'<rect x="{_f(x)}" y="{_f(y)}" width="12" height="12" fill="{item.color}"/>')
        x -= 14
    return parts


def column_chart(
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    title: str,
    unit: str = "",
    width: float = 720,
    height: float = 280,
    decimals: int = 1,
) -> str:
    """Vertical grouped columns: one group per category, one column per series, values on top."""
    left, right, top, bottom = 48.0, 16.0, 48.0, 40.0
    plot_w = width - left - right
    plot_h = height - top - bottom
    values = [v for s in series for v in s.values if v is not None]
    vmax, step = nice_max(max(values, default=0.0))
    out = _open(width, height, title)
    out += _legend(series, width - right, 28)
    # grid and axis labels
    ticks = round(vmax / step)
    for n in range(ticks + 1):
        v = step * n
        y = top + plot_h - plot_h * v / vmax
        out.append(f'<line x1="{_f(left)}" y1="{_f(y)}" x2="{_f(width - right)}" y2="{_f(y)}" '
                   f'stroke="{GRID if n else INK}" stroke-width="1"/>')
        out.append(f'<text x="{_f(left - 6)}" y="{_f(y + 4)}" text-anchor="end" font-size="11" '
                   f'fill="{INK}">{escape(value_text(v, decimals))}</text>')
    n_cat = max(len(categories), 1)
    slot = plot_w / n_cat
    n_ser = max(len(series), 1)
    bar_w = min(36.0, slot * 0.7 / n_ser)
    group_w = bar_w * n_ser
    for i, category in enumerate(categories):
        x0 = left + slot * i + (slot - group_w) / 2
        for j, item in enumerate(series):
            value = item.values[i] if i < len(item.values) else None
            if value is None:
                continue
            h = plot_h * max(value, 0.0) / vmax
            x = x0 + bar_w * j
            y = top + plot_h - h
            out.append(f'<rect x="{_f(x)}" y="{_f(y)}" width="{_f(bar_w - 2)}" height="{_f(h)}" '
                       f'fill="{item.color}"><title>{escape(item.name)} {escape(category)}: '
                       f'{escape(value_text(value, decimals, unit))}</title></rect>')
            out.append(f'<text x="{_f(x + (bar_w - 2) / 2)}" y="{_f(y - 4)}" text-anchor="middle" '
                       f'font-size="11" fill="{INK}">{escape(value_text(value, decimals, unit))}</text>')
        out.append(f'<text x="{_f(left + slot * i + slot / 2)}" y="{_f(top + plot_h + 18)}" '
                   f'text-anchor="middle" font-size="12" fill="{INK}">{escape(category)}</text>')
    out.append("</svg>")
    return "\n".join(out)


def bar_chart(
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    title: str,
    unit: str = "",
    max_value: float | None = None,
    highlight: Collection[int] = (),
    width: float = 720,
    decimals: int = 1,
) -> str:
    """Horizontal grouped bars, one row per label (top to bottom in the given order).

    ``highlight`` holds row indexes whose first-series bar is drawn in the highlight colour.
    """
    label_w = min(max((_text_width(t, 12) for t in labels), default=40.0) + 12, 220.0)
    n_ser = max(len(series), 1)
    bar_h = 14.0 if n_ser > 1 else 16.0
    row_h = bar_h * n_ser + 8
    left, right, top, bottom = label_w, 64.0, 48.0, 24.0
    height = top + row_h * max(len(labels), 1) + bottom
    plot_w = width - left - right
    values = [v for s in series for v in s.values if v is not None]
    vmax, step = nice_max(max_value if max_value is not None else max(values, default=0.0))
    out = _open(width, height, title)
    out += _legend(series, width - right, 28)
    plot_bottom = top + row_h * max(len(labels), 1)
    ticks = round(vmax / step)
    for n in range(ticks + 1):
        v = step * n
        x = left + plot_w * v / vmax
        out.append(f'<line x1="{_f(x)}" y1="{_f(top)}" x2="{_f(x)}" y2="{_f(plot_bottom)}" '
                   f'stroke="{INK if n == 0 else GRID}" stroke-width="1"/>')
        out.append(f'<text x="{_f(x)}" y="{_f(plot_bottom + 14)}" text-anchor="middle" font-size="11" '
                   f'fill="{INK}">{escape(value_text(v, decimals, unit))}</text>')
    for i, label in enumerate(labels):
        y0 = top + row_h * i + 4
        out.append(f'<text x="{_f(left - 8)}" y="{_f(y0 + bar_h * n_ser / 2 + 4)}" text-anchor="end" '
                   f'font-size="12" fill="{INK}">{escape(label)}</text>')
        for j, item in enumerate(series):
            value = item.values[i] if i < len(item.values) else None
            if value is None:
                continue
            w = plot_w * max(min(value, vmax), 0.0) / vmax
            y = y0 + bar_h * j
            color = HIGHLIGHT if j == 0 and i in highlight else item.color
            out.append(f'<rect x="{_f(left)}" y="{_f(y)}" width="{_f(w)}" height="{_f(bar_h - 2)}" '
                       f'fill="{color}"><title>{escape(label)} {escape(item.name)}: '
                       f'{escape(value_text(value, decimals, unit))}</title></rect>')
            out.append(f'<text x="{_f(left + w + 4)}" y="{_f(y + bar_h - 4)}" font-size="11" '
                       f'fill="{INK}">{escape(value_text(value, decimals, unit))}</text>')
    out.append("</svg>")
    return "\n".join(out)


def trend_chart(groups: Sequence[tuple[str, Sequence[float | None]]], labels: Sequence[str], title: str,
                columns: int = 4) -> str:
    """Small multiples: one line chart per group on a shared vertical scale (inline SVG, deterministic)."""
    if not groups or not labels:
        return ""
    values = [v for _, series in groups for v in series if v is not None]
    low, high = (min(values), max(values)) if values else (0.0, 1.0)
    if high - low < 1e-9:
        low, high = low - 1, high + 1
    pad = (high - low) * 0.1
    low, high = low - pad, high + pad
    cell_w, cell_h, top = 170.0, 110.0, 36.0
    cols = max(1, min(columns, len(groups)))
    rows = (len(groups) + cols - 1) // cols
    width, height = cols * cell_w + 10, top + rows * cell_h + 10
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{_f(width)}" height="{_f(height)}" '
           f'viewBox="0 0 {_f(width)} {_f(height)}" role="img" aria-label="{_attr(title)}" '
           f"style=\"font-family:{_attr(FONT_STACK)}\">",
           f"<title>{escape(title)}</title>",
           f'<text x="{_f(width / 2)}" y="20.0" text-anchor="middle" font-size="15" font-weight="bold" '
           f'fill="{INK}">{escape(title)}</text>']
    n = len(labels)
    for k, (name, series) in enumerate(groups):
        x0 = 10 + (k % cols) * cell_w
        y0 = top + (k // cols) * cell_h
        px0, px1, py0, py1 = x0 + 8, x0 + cell_w - 14, y0 + 24, y0 + cell_h - 22
        out.append(f'<text x="{_f(x0 + 8)}" y="{_f(y0 + 14)}" font-size="12" fill="{INK}">{escape(name)}</text>')
        out.append(f'<line x1="{_f(px0)}" y1="{_f(py1)}" x2="{_f(px1)}" y2="{_f(py1)}" stroke="{GRID}"/>')

        def xy(i: int, v: float, px0: float = px0, px1: float = px1, py0: float = py0, py1: float = py1
               ) -> tuple[float, float]:
            x = px0 + (px1 - px0) * (i / (n - 1) if n > 1 else 0.5)
            y = py1 - (py1 - py0) * (v - low) / (high - low)
            return x, y

        points = [(i, v) for i, v in enumerate(series) if v is not None]
        segments: list[list[tuple[float, float]]] = []
        for i, v in points:
            if segments and segments[-1] and i - 1 in [p for p, _ in points] and series[i - 1] is not None:
                segments[-1].append(xy(i, v))
            else:
                segments.append([xy(i, v)])
        for seg in segments:
            if len(seg) > 1:
                coords = " ".join(f"{_f(x)},{_f(y)}" for x, y in seg)
                out.append(f'<polyline points="{coords}" fill="none" stroke="{CURRENT}" stroke-width="2"/>')
        for i, v in points:
            x, y = xy(i, v)
            out.append(f'<circle cx="{_f(x)}" cy="{_f(y)}" r="2.5" fill="{CURRENT}"/>')
        if points:
            i, v = points[-1]
            x, y = xy(i, v)
            out.append(f'<text x="{_f(x)}" y="{_f(y - 6)}" text-anchor="end" font-size="10" '
                       f'fill="{INK}">{v:.1f}</text>')
        out.append(f'<text x="{_f(px0)}" y="{_f(py1 + 14)}" font-size="9" fill="{INK}">{escape(labels[0])}</text>')
        if n > 1:
            out.append(f'<text x="{_f(px1)}" y="{_f(py1 + 14)}" text-anchor="end" font-size="9" '
                       f'fill="{INK}">{escape(labels[-1])}</text>')
    out.append("</svg>")
    return "\n".join(out)
