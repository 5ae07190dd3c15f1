"""The collateral-ratio chart as server-rendered SVG points (no script: the console's CSP forbids inline
script, and a polyline needs none)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["RatioChart", "ratio_chart"]


@dataclass(frozen=True)
class RatioChart:
    width: int
    height: int
    points: str  # "x,y x,y ..." for <polyline points>
    threshold_y: float  # where the 100% line is drawn
    low: float
    high: float
    first_block: int
    last_block: int


def ratio_chart(
    series: list[tuple[int, float | None]], *, width: int = 720, height: int = 180, threshold: float = 1.0
) -> RatioChart | None:
    """Scale (block, ratio) points into the box; None without two points that have a ratio."""
    pts = [(b, r) for b, r in series if r is not None]
    if len(pts) < 2:
        return None
    low = min(min(r for _, r in pts), threshold) * 0.95
    high = max(max(r for _, r in pts), threshold) * 1.05
    b0, b1 = pts[0][0], pts[-1][0]
    span_b, span_r = max(b1 - b0, 1), max(high - low, 1e-9)

    def y(r: float) -> float:
        return round(height - (r - low) / span_r * height, 1)

    points = " ".join(f"{round((b - b0) / span_b * width, 1)},{y(r)}" for b, r in pts)
    return RatioChart(width, height, points, y(threshold), low, high, b0, b1)
