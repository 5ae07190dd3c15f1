"""The registry of automated checks: each is computed from platform state passed in (:class:`CheckContext`).

A check returns a :class:`CheckResult`: ``ok``, a one-line summary and the data recorded as the step's
evidence. Daily health: ``endpoints_healthy``, ``follower_lag``, ``head_age``, ``contracts_status``,
``oracle_fresh``, ``alerts_acknowledged``. Security: ``access_control`` (on-chain role holders against
``expected_roles``: a diff; needs a chain view that reads role holders, :class:`RoleReader`). Reports:
``transaction_volume`` (from the chart samples the follower stores: it counts what the platform followed)
and ``operations_agenda`` (the last 24 h: alerts,
unacknowledged ones, failed or missed procedures). Backups (:mod:`fictra.procedures.backup_tools`, the
functions of fictra.backup passed in as ``CheckContext.backups``): ``backup_fresh`` (the newest backup
younger than ``max_age_h`` and its sha256 equal to its manifest's) and ``restore_drill`` (the newest backup
verified by restoring it into a scratch database; the verification's summary is the evidence).
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fictra.alerting.models import Alert, AlertStatus
from fictra.chain.follower import FollowerStatus
from fictra.chain.manifest import Manifest
from fictra.clock import Clock
from fictra.errors import FictraError
from fictra.procedures.backup_tools import BackupTools
from fictra.procedures.chainview import ChainView
from fictra.procedures.models import Outcome, ProcedureRun
from fictra.procedures.roles import RoleHolders, expected_holders, role_diff
from fictra.series.models import SeriesSample

__all__ = ["CHECKS", "CheckContext", "CheckFn", "CheckResult", "RoleReader", "run_check"]

DAY = timedelta(hours=24)
DEFAULT_BACKUP_MAX_AGE_H = 26.0


AgendaFn = Callable[[AsyncSession, datetime], Awaitable[list[str]]]


@dataclass(frozen=True)
class CheckContext:
    """Platform state the checks read. ``chain`` None: the on-chain checks fail saying so."""

    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    network: str = "devnet"
    chain: ChainView | None = None
    follower_status: Callable[[], FollowerStatus | None] | None = None
    backups: BackupTools | None = None  # fictra.backup's functions (backup_fresh, restore_drill)
    data_dir: Path | None = None  # the audit keys (<data_dir>/keys) for audit_log / audit_proofs
    config_dir: Path | None = None  # the config directory: config_drift, patch_assessment's base
    # (name, V3 keystore path, expected address or None) of each signer (emergency config): keystores
    signer_paths: Callable[[], Sequence[tuple[str, Path, str | None]]] | None = None
    # more lines for the daily meeting's agenda from the other domains (open incidents, SLA breaches,
    # changes today, tickets over SLA), passed in by the integrator: procedures imports none of them
    agenda: tuple[AgendaFn, ...] = ()


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    summary: str
    data: dict[str, Any] = field(default_factory=dict)


CheckFn = Callable[[CheckContext, dict[str, Any]], Awaitable[CheckResult]]


def _chain(ctx: CheckContext) -> ChainView:
    if ctx.chain is None:
        raise FictraError("no RPC pool and manifest were given to the procedures: the chain cannot be read")
    return ctx.chain


async def endpoints_healthy(ctx: CheckContext, params: dict[str, Any]) -> CheckResult:
    allowed = {"healthy", "degraded"} if params.get("allow_degraded") else {"healthy"}
    health = _chain(ctx).endpoints()
    rows = [{"name": h.name, "state": str(h.state), "last_error": h.last_error} for h in health]
    bad = [str(r["name"]) for r in rows if r["state"] not in allowed]
    if not rows:
        return CheckResult(False, "no RPC endpoint is configured", {"endpoints": rows})
    summary = f"{len(rows) - len(bad)}/{len(rows)} endpoints healthy" + (
        f"; not: {', '.join(bad)}" if bad else ""
    )
    return CheckResult(not bad, summary, {"endpoints": rows})


async def follower_lag(ctx: CheckContext, params: dict[str, Any]) -> CheckResult:
    limit = int(params.get("max_lag_blocks", 5))
    status = ctx.follower_status() if ctx.follower_status is not None else None
    if status is None:
        return CheckResult(False, "the chain follower is not running here", {"max_lag_blocks": limit})
    data = {"lag": status.lag, "head": status.head, "last_block": status.last_block, "max_lag_blocks": limit}
    ok = status.lag <= limit
    return CheckResult(ok, f"follower lag {status.lag} blocks (max {limit})", data)


async def head_age(ctx: CheckContext, params: dict[str, Any]) -> CheckResult:
    limit = float(params.get("max_age_s", 120))
    head = await _chain(ctx).head()
    age = ctx.clock.now().timestamp() - head.timestamp
    data = {"head": head.number, "head_time": head.timestamp, "age_s": round(age, 1), "max_age_s": limit}
    return CheckResult(age <= limit, f"head block {head.number} is {age:.0f}s old (max {limit:.0f}s)", data)


async def contracts_status(ctx: CheckContext, params: dict[str, Any]) -> CheckResult:
    expected: dict[str, bool] = {str(k): bool(v) for k, v in dict(params.get("paused", {})).items()}
    observed = await _chain(ctx).paused()
    diffs = [
        {"contract": name, "paused": value, "expected": expected.get(name, False)}
        for name, value in sorted(observed.items())
        if value != expected.get(name, False)
    ]
    missing = sorted(set(expected) - set(observed))
    data = {"observed": observed, "expected": expected, "unexpected": diffs, "unreadable": missing}
    ok = not diffs and not missing
    if ok:
        return CheckResult(True, f"{len(observed)} pausable contracts as expected", data)
    parts = [f"{d['contract']} paused={d['paused']}" for d in diffs] + [f"{m} unreadable" for m in missing]
    return CheckResult(False, "contract status not as expected: " + ", ".join(parts), data)


async def oracle_fresh(ctx: CheckContext, params: dict[str, Any]) -> CheckResult:
    grace = float(params.get("grace_s", 300))
    chain = _chain(ctx)
    head = await chain.head()
    feeds = await chain.feeds()
    rows, stale = [], []
    for feed in feeds:
        limit = float(params.get("max_age_s", feed.heartbeat + grace))
        age = None if feed.updated_at is None else head.timestamp - feed.updated_at
        rows.append({"feed": feed.name, "updated_at": feed.updated_at, "age_s": age, "max_age_s": limit})
        if age is None or age >= limit:  # as the oracle monitor: at the deadline the update is overdue
            stale.append(feed.name)
    data = {"head": head.number, "head_time": head.timestamp, "feeds": rows, "stale": stale}
    if not feeds:
        return CheckResult(False, "no price feed in the deployment manifest", data)
    if stale:
        return CheckResult(False, f"stale feeds (by the head block's time): {', '.join(stale)}", data)
    return CheckResult(True, f"{len(feeds)} feeds fresh", data)


async def alerts_acknowledged(ctx: CheckContext, params: dict[str, Any]) -> CheckResult:
    severities = [str(s) for s in params.get("severities", ["P0", "P1"])]
    async with ctx.sessions() as session:
        rows = (
            await session.execute(
                select(Alert.id, Alert.severity, Alert.summary)
                .where(Alert.status == AlertStatus.FIRING.value)
                .where(Alert.severity.in_(severities))
                .where(Alert.acknowledged_at.is_(None))
                .order_by(Alert.id)
            )
        ).all()
    alerts = [{"id": r.id, "severity": r.severity, "summary": r.summary} for r in rows]
    data = {"severities": severities, "unacknowledged": alerts}
    if alerts:
        ids = ", ".join(f"#{a['id']}" for a in alerts[:10])
        return CheckResult(
            False, f"{len(alerts)} {'/'.join(severities)} alerts firing unacknowledged: {ids}", data
        )
    return CheckResult(True, f"no {'/'.join(severities)} alert firing unacknowledged", data)


@runtime_checkable
class RoleReader(Protocol):
    """A chain view that also reads AccessControl role holders (:class:`PoolChainView` does)."""

    manifest: Manifest

    async def role_holders(self) -> RoleHolders: ...


async def access_control(ctx: CheckContext, params: dict[str, Any]) -> CheckResult:
    """Access control verification: every on-chain holder of every role of the manifest's AccessControl
    contracts equals ``expected_roles`` (``{contract or glob: {role: [contract | manifest role |
    address]}}``; a contract no key matches expects no holder). Fails with the diff."""
    chain = _chain(ctx)
    if not isinstance(chain, RoleReader):
        return CheckResult(False, "this chain view cannot read role holders", {})
    spec = params.get("expected_roles")
    if not isinstance(spec, dict) or not spec:
        return CheckResult(False, "no expected_roles in the check's params: nothing to compare with", {})
    expected = expected_holders(spec, manifest=chain.manifest)
    observed = await chain.role_holders()
    diff = role_diff(observed=observed, expected=expected, manifest=chain.manifest)
    data = {"observed": observed, "expected": expected, "diff": diff}
    holders = sum(len(v) for roles in observed.values() for v in roles.values())
    if not diff:
        return CheckResult(True, f"{holders} role holders in {len(observed)} contracts as expected", data)
    parts = [f"{d['change']} {d['contract']} {d['role']} {d['account']} ({d['known_as']})" for d in diff[:5]]
    more = f" and {len(diff) - 5} more" if len(diff) > 5 else ""
    return CheckResult(False, f"role holders differ from config: {'; '.join(parts)}{more}", data)


async def _series_sum(
    session: AsyncSession, *, network: str, name: str, start: int, end: int
) -> tuple[float, int]:
    row = (
        await session.execute(
            select(func.coalesce(func.sum(SeriesSample.value), 0.0), func.count(SeriesSample.id))
            .where(SeriesSample.network == network, SeriesSample.name == name)
            .where(SeriesSample.t > start, SeriesSample.t <= end)
        )
    ).one()
    return float(row[0]), int(row[1])


async def transaction_volume(ctx: CheckContext, params: dict[str, Any]) -> CheckResult:
    """Transactions and reverted transactions in the blocks the follower stored with a block time in the
    last 24 h (``series_samples`` ``tx_count`` / ``tx_reverted``), against the daily mean of the 7 days
    before. Blocks the platform did not follow, or pruned, are not counted."""
    end = int(ctx.clock.now().timestamp())
    start = end - int(DAY.total_seconds())
    async with ctx.sessions() as session:
        txs, blocks = await _series_sum(session, network=ctx.network, name="tx_count", start=start, end=end)
        reverted, _ = await _series_sum(
            session, network=ctx.network, name="tx_reverted", start=start, end=end
        )
        week, _ = await _series_sum(
            session,
            network=ctx.network,
            name="tx_count",
            start=start - 7 * int(DAY.total_seconds()),
            end=start,
        )
    baseline = week / 7
    data = {
        "window": {"from": start, "to": end},
        "counts": "series_samples tx_count/tx_reverted of the blocks followed, by block time",
        "blocks": blocks,
        "transactions": int(txs),
        "reverted": int(reverted),
        "failed_share": (reverted / txs) if txs else 0.0,
        "baseline_daily_mean": baseline,
    }
    summary = (
        f"{int(txs)} transactions in {blocks} blocks over 24 h, {int(reverted)} reverted "
        f"({data['failed_share']:.1%}); 7-day daily mean {baseline:.0f}"
    )
    return CheckResult(True, summary, data)


async def operations_agenda(ctx: CheckContext, params: dict[str, Any]) -> CheckResult:
    """The daily meeting's agenda from the last 24 h: alerts fired by severity, alerts firing
    unacknowledged, failed or missed procedure runs, and the lines of ``ctx.agenda`` (open incidents,
    SLA breaches, changes today, tickets over SLA)."""
    since = ctx.clock.now() - DAY
    async with ctx.sessions() as session:
        fired = dict(
            (
                await session.execute(
                    select(Alert.severity, func.count(Alert.id))
                    .where(Alert.fired_at >= since)
                    .group_by(Alert.severity)
                )
            ).all()
        )
        unacked = (
            await session.execute(
                select(func.count(Alert.id))
                .where(Alert.status == AlertStatus.FIRING.value)
                .where(Alert.acknowledged_at.is_(None))
            )
        ).scalar_one()
        bad_runs = (
            await session.execute(
                select(ProcedureRun.procedure, ProcedureRun.due_at, ProcedureRun.outcome)
                .where(ProcedureRun.due_at >= since)
                .where(ProcedureRun.outcome.in_([Outcome.FAILED.value, Outcome.MISSED.value]))
                .order_by(ProcedureRun.due_at)
            )
        ).all()
        more = [line for source in ctx.agenda for line in await source(session, ctx.clock.now())]
    by_severity = ", ".join(f"{k} {v}" for k, v in sorted(fired.items())) or "none"
    items = [f"alerts fired in 24 h: {sum(fired.values())} ({by_severity})"]
    items.append(f"alerts firing unacknowledged: {unacked}")
    items += [f"procedure {r.procedure} due {r.due_at.isoformat()}: {r.outcome}" for r in bad_runs]
    items += more
    data = {"agenda": items, "alerts_fired": fired, "unacknowledged": unacked}
    return CheckResult(True, f"{len(items)} agenda items", data)


def _tools(ctx: CheckContext) -> BackupTools:
    if ctx.backups is None:
        raise FictraError("no backup tools were given to the procedures: backups cannot be checked")
    return ctx.backups


async def _newest(tools: BackupTools) -> tuple[Path | None, int]:
    found = await asyncio.to_thread(tools.list_backups, tools.directory)
    return (found[-1] if found else None), len(found)


def _parse(value: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


async def backup_fresh(ctx: CheckContext, params: dict[str, Any]) -> CheckResult:
    """The daily backup: the newest backup under the backups directory is younger than ``max_age_h``
    hours (by its manifest's ``created_at``) and hashes to its manifest's sha256."""
    tools = _tools(ctx)
    limit = float(params.get("max_age_h", DEFAULT_BACKUP_MAX_AGE_H))
    newest, count = await _newest(tools)
    data: dict[str, Any] = {"directory": str(tools.directory), "backups": count, "max_age_h": limit}
    if newest is None:
        return CheckResult(False, f"no backup in {tools.directory}", data)
    manifest = tools.manifest_of(newest)
    digest = await asyncio.to_thread(tools.sha256_of, newest)
    created = _parse(manifest.created_at)
    age_h = None if created is None else (ctx.clock.now() - created).total_seconds() / 3600
    data |= {
        "backup": newest.name,
        "created_at": manifest.created_at,
        "age_h": None if age_h is None else round(age_h, 2),
        "sha256_manifest": manifest.sha256,
        "sha256_file": digest,
    }
    problems = []
    if age_h is None:
        problems.append(f"its manifest's created_at '{manifest.created_at}' is not a time")
    elif age_h > limit:
        problems.append(f"it is {age_h:.1f} h old (max {limit:g} h)")
    if digest != manifest.sha256:
        problems.append(
            f"its sha256 {digest[:16]}… differs from the manifest's {manifest.sha256[:16]}… "
            "(changed after it was made)"
        )
    if problems:
        return CheckResult(False, f"newest backup {newest.name}: " + "; ".join(problems), data)
    return CheckResult(
        True, f"newest backup {newest.name} is {age_h:.1f} h old (max {limit:g} h), sha256 matches", data
    )


async def restore_drill(ctx: CheckContext, params: dict[str, Any]) -> CheckResult:
    """The restore drill: the newest backup restored into a scratch database and verified (integrity,
    row counts, audit chain, seals, signed checkpoints); refused with the reason otherwise."""
    tools = _tools(ctx)
    newest, count = await _newest(tools)
    data: dict[str, Any] = {"directory": str(tools.directory), "backups": count}
    if newest is None:
        return CheckResult(False, f"no backup in {tools.directory} to restore", data)
    result = await tools.verify(newest)
    summary = result.summary()
    data |= {"backup": newest.name, "verified": result.ok, "summary": summary}
    return CheckResult(result.ok, summary, data)


def _later(module: str, name: str) -> CheckFn:
    """A check of a sibling module that imports this one (checks_security, checks_patches, checks_review),
    imported on first use so that neither import order makes a cycle."""

    async def run(ctx: CheckContext, params: dict[str, Any]) -> CheckResult:
        fn: CheckFn = getattr(importlib.import_module(f"fictra.procedures.{module}"), name)
        return await fn(ctx, params)

    return run


CHECKS: dict[str, CheckFn] = {
    "endpoints_healthy": endpoints_healthy,
    "follower_lag": follower_lag,
    "head_age": head_age,
    "contracts_status": contracts_status,
    "oracle_fresh": oracle_fresh,
    "alerts_acknowledged": alerts_acknowledged,
    "access_control": access_control,
    "transaction_volume": transaction_volume,
    "operations_agenda": operations_agenda,
    "backup_fresh": backup_fresh,
    "restore_drill": restore_drill,
    "login_failures": _later("checks_security", "login_failures"),
    "new_places": _later("checks_security", "new_places"),
    "tokens_expiring": _later("checks_security", "tokens_expiring"),
    "role_changes": _later("checks_security", "role_changes"),
    "audit_log": _later("checks_security", "audit_log"),
    "patch_assessment": _later("checks_patches", "patch_assessment"),
    "audit_proofs": _later("checks_review", "audit_proofs"),
    "permission_review": _later("checks_review", "permission_review"),
    "config_drift": _later("checks_review", "config_drift"),
    "keystores": _later("checks_review", "keystores"),
    "performance": _later("checks_review", "performance"),
}


async def run_check(name: str, *, ctx: CheckContext, params: dict[str, Any]) -> CheckResult:
    """Run the named check; an expected failure (RPC, missing input) is a failed result saying why."""
    fn = CHECKS.get(name)
    if fn is None:
        return CheckResult(False, f"unknown check '{name}'", {})
    try:
        return await fn(ctx, params)
    except FictraError as exc:
        return CheckResult(False, f"{name} could not run: {exc.user_message}", {"error": exc.user_message})
