"""The live terminal view of ``fictra up``: blocks processed, lag, endpoints, firing alerts."""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from fictra.chain.follower import FollowerStatus
from fictra.platform.run import AlertSummary

SEVERITY_STYLE = {"P0": "bold white on red", "P1": "bold red", "P2": "yellow", "P3": "cyan"}


@dataclass
class ViewState:
    where: list[tuple[str, str]] = field(default_factory=list)  # (what, where) lines printed at start
    follower: FollowerStatus | None = None
    alerts: AlertSummary = field(default_factory=AlertSummary)
    simulator: str = ""
    blocks_per_s: float = 0.0


def render(state: ViewState) -> Group:
    top = Table.grid(padding=(0, 2))
    top.add_column(style="bold")
    top.add_column()
    for what, where in state.where:
        top.add_row(what, where)
    chain = Table(title="Chain", expand=True, show_edge=False)
    for col in ("network", "head", "processed", "lag", "blocks/s", "txs", "reorgs"):
        chain.add_column(col, justify="right" if col != "network" else "left")
    f = state.follower
    if f is not None:
        chain.add_row(
            f.network,
            str(f.head),
            str(f.last_block if f.last_block is not None else "-"),
            Text(str(f.lag), style="red" if f.lag > 5 else ""),
            f"{state.blocks_per_s:.1f}",
            str(f.counters.get("txs", 0)),
            str(f.counters.get("reorgs", 0)),
        )
    endpoints = Table(title="Endpoints", expand=True, show_edge=False)
    for col in ("endpoint", "state", "head", "latency ms", "errors"):
        endpoints.add_column(col)
    for ep in f.endpoints if f else []:
        style = {"healthy": "green", "degraded": "yellow"}.get(str(ep.state), "red")
        endpoints.add_row(
            ep.url,
            Text(str(ep.state), style=style),
            str(ep.last_head if ep.last_head is not None else "-"),
            f"{ep.latency_ewma * 1000:.1f}" if ep.latency_ewma else "-",
            str(ep.consecutive_errors),
        )
    counts = Text("Firing: ")
    for sev in ("P0", "P1", "P2", "P3"):
        n = state.alerts.firing.get(sev, 0)
        prov = state.alerts.provisional.get(sev, 0)
        counts.append(f" {sev} {n} ", style=SEVERITY_STYLE[sev] if n else "dim")
        if prov:
            counts.append(f"({prov} provisional) ", style="dim")
    recent = Table(expand=True, show_edge=False, show_header=True)
    for col in ("sev", "status", "last seen", "summary"):
        recent.add_column(col)
    for sev, status, summary, seen in state.alerts.recent:  # firing, most severe first
        recent.add_row(
            Text(sev, style=SEVERITY_STYLE.get(sev, "")), status, f"{seen:%Y-%m-%d %H:%M:%S}", summary
        )
    shown = len(state.alerts.recent)
    if state.alerts.total_firing > shown:
        recent.add_row(
            "", "", "", Text(f"... and {state.alerts.total_firing - shown} more firing", style="dim")
        )
    parts: list[object] = [top, chain, endpoints, Panel(Group(counts, recent), title="Alerts")]
    if state.alerts.operations:
        ops = Text()
        for i, (label, value, attention) in enumerate(state.alerts.operations):
            ops.append("  " if i else "")
            ops.append(f"{label}: ", style="bold")
            ops.append(value, style="yellow" if attention else "")
        parts.append(Panel(ops, title="Operations"))
    if state.simulator:
        parts.append(Text(f"Simulated activity: {state.simulator}", style="dim"))
    parts.append(Text("Ctrl-C to stop.", style="dim"))
    return Group(*parts)  # type: ignore[arg-type]


def one_line(state: ViewState) -> str:
    """The same facts on one line, for logs and non-terminal output."""
    f = state.follower
    chain = f"head {f.head} processed {f.last_block} lag {f.lag}" if f else "starting"
    sev = " ".join(f"{s}={state.alerts.firing.get(s, 0)}" for s in ("P0", "P1", "P2", "P3"))
    ops = "".join(f" | {label} {value}" for label, value, _ in state.alerts.operations)
    return f"{chain} | firing {sev}{ops}"
