"""The live status of a running platform as plain data (``/api/v1/status``, the console, the live view)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fictra.platform.assemble import Platform


def status_source(
    platform: Platform, *, firing: Callable[[], dict[str, int]]
) -> Callable[[], dict[str, Any]]:
    """A function returning the follower's position, the endpoints' health (by their network.yaml name)
    and the firing alerts by severity (``firing``: the latest summary the gauges computed)."""
    names = [ep.name for ep in platform.config.network.endpoints]

    def status() -> dict[str, Any]:
        f = platform.follower.status()
        return {
            "network": f.network,
            "head": f.head,
            "last_block": f.last_block,
            "lag": f.lag,
            "counters": f.counters,
            "alerts_firing": firing(),
            "endpoints": [
                {
                    "name": name,
                    "url": e.url,
                    "state": str(e.state),
                    "head": e.last_head,
                    "latency_ms": e.latency_ewma * 1000 if e.latency_ewma is not None else None,
                    "errors": e.errors,
                    "last_error": e.last_error,
                }
                for name, e in zip(names, f.endpoints, strict=False)
            ],
        }

    return status
