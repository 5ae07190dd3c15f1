"""Performance impact for the post-implementation review: the affected components' metric series before
the implementation started vs after it ended (count, mean, min, max and the change of the mean), read from
the chart series the platform records per block (:mod:`fictra.series`), and an SVG bar chart of the
means (one pair of bars per metric, each on its own scale) for the console and the document.

The series are the chain's (latency: block interval; gas: used/limit; errors: reverted transactions per
block; throughput: transactions per block), the ones a contract or RPC component's users feel; the review
may name other recorded series (``metrics``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from html import escape
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from fictra.series.queries import query_series

__all__ = ["DEFAULT_METRICS", "SPAN", "Period", "compare", "period_of", "svg_chart"]

DEFAULT_METRICS = {
    "block_interval_s": "latency: block interval (s)",
    "gas_used_ratio": "gas: used / limit per block",
    "tx_reverted": "errors: reverted transactions per block",
    "tx_count": "throughput: transactions per block",
}
SPAN = timedelta(hours=1)


@dataclass(frozen=True)
class Period:
    start: datetime  # implementation started (the "start" event, else the planned start)
    end: datetime  # implementation ended (complete / fail / rollback, else now)


def period_of(
    events: Sequence[tuple[str, datetime]], planned_start: datetime | None, now: datetime
) -> Period:
    started = next((at for kind, at in events if kind == "start"), None) or planned_start or now
    ended = [at for kind, at in events if kind in ("complete", "fail", "rollback")]
    return Period(started, ended[-1] if ended else now)


@dataclass(frozen=True)
class Stat:
    count: int
    mean: float | None
    min: float | None
    max: float | None


async def _stat(session: AsyncSession, network: str, name: str, lo: datetime, hi: datetime) -> Stat:
    start, end = int(lo.timestamp()), int(hi.timestamp())
    if end <= start:
        return Stat(0, None, None, None)
    points = await query_series(session, network=network, name=name, start=start, end=end, step=end - start)
    count = sum(p.count for p in points)
    if not count:
        return Stat(0, None, None, None)
    return Stat(
        count, sum(p.sum for p in points) / count, min(p.min for p in points), max(p.max for p in points)
    )


async def compare(
    session: AsyncSession, *, network: str, period: Period, names: Sequence[str] = (), span: timedelta = SPAN
) -> dict[str, Any]:
    """``{"before": [lo, hi], "after": [lo, hi], "metrics": [{name, label, before, after, change_pct}]}``:
    the ``span`` before the start and the ``span`` after the end."""
    wanted = list(names) or list(DEFAULT_METRICS)
    before = (period.start - span, period.start)
    after = (period.end, period.end + span)
    rows = []
    for name in wanted:
        b = await _stat(session, network, name, *before)
        a = await _stat(session, network, name, *after)
        pct = None
        if b.mean is not None and a.mean is not None and b.mean != 0:
            pct = round((a.mean - b.mean) / abs(b.mean) * 100, 1)
        rows.append(
            {"name": name, "label": DEFAULT_METRICS.get(name, name), "before": asdict(b), "after": asdict(a),
             "change_pct": pct}
        )  # fmt: skip
    return {
        "network": network,
        "before": [before[0].isoformat(), before[1].isoformat()],
        "after": [after[0].isoformat(), after[1].isoformat()],
        "metrics": rows,
    }


def _fmt(value: float | None) -> str:
    if value is None:
        return "no data"
    return f"{value:.4g}"


def svg_chart(performance: dict[str, Any]) -> str:
    """Before (grey) vs after (blue) means, one row per metric scaled to the larger of the two."""
    rows = performance.get("metrics", [])
    width, label_w, bar_w, row_h = 640, 250, 300, 44
    height = 30 + row_h * max(1, len(rows))
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="Performance before and after the change" '
        'font-family="sans-serif" font-size="12" class="perf-chart">',
        '<rect x="0" y="0" width="14" height="10" fill="#9aa5b1"/><text x="18" y="10">before</text>',
        '<rect x="80" y="0" width="14" height="10" fill="#2f6fde"/><text x="98" y="10">after</text>',
    ]
    for i, r in enumerate(rows):
        y = 24 + i * row_h
        b, a = r["before"]["mean"], r["after"]["mean"]
        top = max(abs(b or 0), abs(a or 0)) or 1.0
        out.append(f'<text x="0" y="{y + 14}">{escape(str(r["label"]))}</text>')
        for j, (value, color) in enumerate(((b, "#9aa5b1"), (a, "#2f6fde"))):
            w = 0 if value is None else max(1, round(abs(value) / top * bar_w))
            yy = y + 4 + j * 17
            out.append(f'<rect x="{label_w}" y="{yy}" width="{w}" height="14" fill="{color}"/>')
            out.append(f'<text x="{label_w + w + 6}" y="{yy + 11}">{escape(_fmt(value))}</text>')
    out.append("</svg>")
    return "".join(out)
