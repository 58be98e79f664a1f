"""Inline SVG bar charts for the dashboard: no JavaScript, no network, escaped labels."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

BAR, GAP, HEIGHT = 6, 1, 48  # pixels: bar width, gap between bars, plot height
AXIS = 14  # pixels under the plot for the date labels


def daily_bars(days: Sequence[str], counts: Sequence[int], label: str) -> Markup:
    """One bar per day, scaled to this series' busiest day; each bar says its date and count."""
    width = len(days) * (BAR + GAP)
    peak = max(counts, default=0) or 1
    bars = []
    for n, (day, count) in enumerate(zip(days, counts, strict=True)):
        height = round(HEIGHT * count / peak) if count else 0
        x = n * (BAR + GAP)
        tip = f"{day}: {count} hit{'' if count == 1 else 's'}"
        bars.append(
            f'<rect x="{x}" y="{HEIGHT - height}" width="{BAR}" height="{max(height, 1)}" '
            f'class="{"nw-bar" if count else "nw-bar-empty"}"><title>{escape(tip)}</title></rect>'
        )
    first, last = (days[0], days[-1]) if days else ("", "")
    svg = (
        f'<svg class="nw-chart" role="img" width="{width}" height="{HEIGHT + AXIS}" '
        f'viewBox="0 0 {width} {HEIGHT + AXIS}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(label)}: hits per day, {escape(first)} to {escape(last)}, "
        f"busiest day {max(counts, default=0)}</title>"
        + "".join(bars)
        + f'<text x="0" y="{HEIGHT + AXIS - 2}" class="nw-axis">{escape(first)}</text>'
        f'<text x="{width}" y="{HEIGHT + AXIS - 2}" text-anchor="end" class="nw-axis">'
        f"{escape(last)}</text></svg>"
    )
    return Markup(svg)
