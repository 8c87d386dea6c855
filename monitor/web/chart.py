"""A small stacked bar chart of matches over time, as numbers for a server-rendered SVG (no JavaScript).

Buckets are days, weeks or months, whichever keeps the chart readable for the span of the data.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from monitor.catalog.queries import VERDICT_ORDER

WIDTH = 600
HEIGHT = 160
_AXIS = 20  # room under the bars for the first and last bucket's label
_MAX_BUCKETS = 60
_MAX_BAR_WIDTH = 28.0


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    verdict: str
    label: str  # the tooltip: bucket, verdict and count


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    first_label: str
    last_label: str
    peak: int
    unit: str  # "day", "week" or "month"


def _bucket_start(day: date, unit: str) -> date:
    if unit == "month":
        return day.replace(day=1)
    if unit == "week":
        return day - timedelta(days=day.weekday())
    return day


def _next_bucket(day: date, unit: str) -> date:
    if unit == "month":
        return (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return day + timedelta(days=7 if unit == "week" else 1)


def _unit_for(span_days: int) -> str:
    if span_days <= 45:
        return "day"
    if span_days <= 7 * 45:
        return "week"
    return "month"


def _label(day: date, unit: str) -> str:
    return day.strftime("%Y-%m") if unit == "month" else day.isoformat()


def matches_chart(points: Sequence[tuple[date, str]]) -> Chart | None:
    """Bars per bucket, stacked by verdict (strongest on top); None when there are no points."""
    if not points:
        return None
    first, last = min(day for day, _ in points), max(day for day, _ in points)
    unit = _unit_for((last - first).days)
    buckets: list[date] = [_bucket_start(first, unit)]
    while _next_bucket(buckets[-1], unit) <= last:
        buckets.append(_next_bucket(buckets[-1], unit))
    buckets = buckets[-_MAX_BUCKETS:]
    counts = Counter((_bucket_start(day, unit), verdict) for day, verdict in points)
    totals = Counter(_bucket_start(day, unit) for day, _ in points)
    peak = max(totals[bucket] for bucket in buckets) or 1
    slot = WIDTH / len(buckets)
    scale = (HEIGHT - _AXIS) / peak
    bars = []
    for index, bucket in enumerate(buckets):
        baseline_y = float(HEIGHT - _AXIS)
        width = min(slot * 0.8, _MAX_BAR_WIDTH)
        for verdict in reversed(VERDICT_ORDER):
            count = counts[(bucket, verdict)]
            if not count:
                continue
            height = count * scale
            baseline_y -= height
            bars.append(
                Bar(
                    x=round(index * slot + (slot - width) / 2, 2),
                    y=round(baseline_y, 2),
                    width=round(max(width, 1.0), 2),
                    height=round(height, 2),
                    verdict=verdict,
                    label=f"{unit} of {_label(bucket, unit)}: {count} {verdict}",
                )
            )
    return Chart(WIDTH, HEIGHT, bars, _label(buckets[0], unit), _label(buckets[-1], unit), peak, unit)
