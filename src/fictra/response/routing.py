"""The routing tree, with Alertmanager's semantics.

The root matches every alert. Children are tried in order; an alert goes down every matching child
until one without ``continue: true`` matched; a node none of whose children matched is itself the
destination. Options a child leaves unset are inherited from its parent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from fictra.response.config import Route
from fictra.response.matchers import matches_all


@dataclass(frozen=True)
class RouteOpts:
    """A resolved destination: receiver and grouping options, plus a stable id of the tree node."""

    route_id: str
    receiver: str
    group_by: tuple[str, ...]
    group_wait: timedelta
    group_interval: timedelta
    repeat_interval: timedelta

    def group_labels(self, labels: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
        if "..." in self.group_by:  # Alertmanager: group by every label
            return tuple(sorted(labels.items()))
        return tuple((k, labels.get(k, "")) for k in self.group_by)


_DEFAULTS = RouteOpts("root", "log", (), timedelta(seconds=30), timedelta(minutes=5), timedelta(hours=4))


def _resolve(route: Route, parent: RouteOpts, route_id: str) -> RouteOpts:
    return RouteOpts(
        route_id=route_id,
        receiver=route.receiver or parent.receiver,
        group_by=tuple(route.group_by) if route.group_by is not None else parent.group_by,
        group_wait=route.group_wait if route.group_wait is not None else parent.group_wait,
        group_interval=route.group_interval if route.group_interval is not None else parent.group_interval,
        repeat_interval=route.repeat_interval
        if route.repeat_interval is not None
        else parent.repeat_interval,
    )


def _match(route: Route, opts: RouteOpts, labels: Mapping[str, str]) -> list[RouteOpts]:
    found: list[RouteOpts] = []
    for i, child in enumerate(route.routes):
        if not matches_all(child.matchers, labels):
            continue
        found.extend(_match(child, _resolve(child, opts, f"{opts.route_id}.{i}"), labels))
        if not child.continue_:
            break
    return found or [opts]


def match_routes(root: Route, labels: Mapping[str, str]) -> list[RouteOpts]:
    """Every destination of an alert with these labels (at least the root's)."""
    return _match(root, _resolve(root, _DEFAULTS, "root"), labels)


def route_by_id(root: Route, route_id: str) -> RouteOpts | None:
    """The destination with this id in the current tree (``root.0.1``: second child of the first child),
    or None when the tree no longer has it (the routing config changed)."""
    parts = route_id.split(".")
    if parts[0] != "root":
        return None
    route, opts = root, _resolve(root, _DEFAULTS, "root")
    for part in parts[1:]:
        if not part.isdigit() or int(part) >= len(route.routes):
            return None
        route = route.routes[int(part)]
        opts = _resolve(route, opts, f"{opts.route_id}.{part}")
    return opts
