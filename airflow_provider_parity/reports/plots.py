"""Small inline SVG plots for the HTML reports: no plotting library, no scripts.

Reports open offline (MLflow artifacts, Airflow extra links), so a plot is a
self-contained ``<svg>`` element whose text is escaped like any other cell.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

PALETTE = ("#3b82f6", "#f97316", "#10b981", "#a855f7")


def bar_chart(
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    *,
    title: str = "",
    width: int = 640,
    height: int = 240,
    value_format: str = "{:.1%}",
) -> str:
    """A grouped bar chart: one group per label, one bar per series.

    Args:
        labels: the category (bin) of each group.
        series: ``(name, values)`` pairs, each with one value per label.
        title: shown above the plot and as the SVG's accessible title.
        width: width in pixels.
        height: height in pixels.
        value_format: formats a value in the bar's tooltip.

    Returns:
        An ``<svg>`` element as a string.

    Raises:
        ValueError: a series does not have one value per label.
    """
    for name, values in series:
        if len(values) != len(labels):
            raise ValueError(f"series {name!r} has {len(values)} values for {len(labels)} labels")
    left, right, top, bottom = 44, 8, 28, 64
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max((v for _, values in series for v in values), default=0.0) or 1.0
    group_w = plot_w / max(1, len(labels))
    bar_w = max(1.0, group_w * 0.8 / max(1, len(series)))
    opening = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">'
    )
    parts = [
        opening,
        f"<title>{escape(title)}</title>",
        f'<text x="{left}" y="16" font-size="13" font-weight="600">{escape(title)}</text>',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#9aa5b1"/>',
        f'<text x="{left - 4}" y="{top + 4}" font-size="10" text-anchor="end">{escape(value_format.format(peak))}</text>',
        f'<text x="{left - 4}" y="{top + plot_h}" font-size="10" text-anchor="end">0</text>',
    ]
    for gi, label in enumerate(labels):
        x0 = left + gi * group_w + group_w * 0.1
        for si, (name, values) in enumerate(series):
            h = plot_h * max(0.0, float(values[gi])) / peak
            x = x0 + si * bar_w
            parts.append(
                f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                f'fill="{PALETTE[si % len(PALETTE)]}"><title>{escape(name)} {escape(str(label))}: '
                f"{escape(value_format.format(values[gi]))}</title></rect>"
            )
        cx = left + (gi + 0.5) * group_w
        short = label if len(label) <= 18 else label[:17] + "…"
        parts.append(
            f'<text x="{cx:.1f}" y="{top + plot_h + 10}" font-size="9" text-anchor="end" '
            f'transform="rotate(-40 {cx:.1f} {top + plot_h + 10})">{escape(short)}</text>'
        )
    for si, (name, _) in enumerate(series):
        lx = left + plot_w - 130 + si * 70
        parts.append(f'<rect x="{lx}" y="6" width="10" height="10" fill="{PALETTE[si % len(PALETTE)]}"/>')
        parts.append(f'<text x="{lx + 14}" y="15" font-size="11">{escape(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)
