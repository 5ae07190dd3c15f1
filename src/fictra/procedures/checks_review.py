"""Checks of the monthly comprehensive audit and of the performance / trend analyses.

- ``audit_proofs``: the audit log verified (as ``audit_log``) and inclusion proofs of ``sample`` (16)
  entries, evenly spaced with the first and the last, against the latest checkpoint's signed root.
- ``permission_review``: users holding each role, admins (``admin_roles``: [admin]), live API tokens
  scoped ``*``, disabled users still holding a live token or session (a failure).
- ``config_drift``: each file of ``CheckContext.config_dir`` against the committed one (``git ls-tree
  HEAD``: the git blob id of the file on disk against HEAD's) when the directory is in a git checkout;
  otherwise against a baseline file (``baseline``: JSON ``{relative path: sha256}``) — "no baseline" passes.
- ``keystores``: each signer keystore (``CheckContext.signer_paths``) exists, is a V3 keystore, holds
  the expected address and has mode 0600 (no group or other permission bits).
- ``performance``: this period (``days``: 7 weekly, 30 monthly) against the previous one, computed from:
  block-to-alert latency = alert ``fired_at`` − the block's time (``series_samples`` of that block), for
  alerts with a block; blocks followed (series ``tx_count`` samples) and their mean interval; reverted
  share (``tx_reverted``/``tx_count``); job runs (``job_runs``: count, failed share, mean duration per
  job); alerts fired by severity. RPC latency per endpoint is not stored per period: the check records
  the pool's current latency EWMA per endpoint (when a chain view is given). Catch-up speed is not stored
  either (Prometheus ``fictra_blocks_processed``); ``max_block_to_alert_p95_s`` and
  ``max_job_failure_share`` turn it into a pass/fail.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import stat
import subprocess
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from fictra.alerting.models import Alert
from fictra.audit.checkpoints import latest_checkpoint, prove_inclusion
from fictra.auth.models import ApiToken, AuthSession, User
from fictra.chain.keystore import KeystoreError, inspect_keystore
from fictra.jobs.models import JobRun
from fictra.jobs.models import Outcome as JobOutcome
from fictra.procedures.checks import CheckContext, CheckResult
from fictra.procedures.checks_security import audit_log
from fictra.series.models import SeriesSample

__all__ = ["audit_proofs", "config_drift", "keystores", "performance", "permission_review"]


def _sample(size: int, count: int) -> list[int]:
    if size <= count:
        return list(range(size))
    return sorted({round(i * (size - 1) / (count - 1)) for i in range(count)})


async def audit_proofs(ctx: CheckContext, params: dict[str, Any]) -> CheckResult:
    verified = await audit_log(ctx, params)
    async with ctx.sessions() as session:
        latest = await latest_checkpoint(session)
        indices = [] if latest is None else _sample(latest.tree_size, max(2, int(params.get("sample", 16))))
        proofs = [await prove_inclusion(session, index=i) for i in indices]
    bad = [p.index for p in proofs if not p.valid]
    data = dict(verified.data) | {
        "proofs": [{"index": p.index, "tree_size": p.tree_size, "valid": p.valid} for p in proofs],
        "invalid_proofs": bad,
    }
    if latest is None:
        entries = int(verified.data.get("entries", 0))
        note = "no checkpoint to prove entries against"
        return CheckResult(verified.ok and entries == 0, f"{verified.summary}; {note}", data)
    proved = f"{len(proofs) - len(bad)}/{len(proofs)} inclusion proofs valid against checkpoint #{latest.id}"
    return CheckResult(verified.ok and not bad, f"{verified.summary}; {proved}", data)


async def permission_review(ctx: CheckContext, params: dict[str, Any]) -> CheckResult:
    now = ctx.clock.now()
    admin_roles = {str(r) for r in params.get("admin_roles", ["admin"])}
    async with ctx.sessions() as session:
        users = (await session.execute(select(User).order_by(User.username))).scalars().all()
        tokens = (
            (
                await session.execute(
                    select(ApiToken).where(ApiToken.revoked_at.is_(None), ApiToken.expires_at > now)
                )
            )
            .scalars()
            .all()
        )
        live_sessions = (
            await session.execute(
                select(AuthSession.user_id, func.count(AuthSession.id))
                .where(AuthSession.revoked_at.is_(None), AuthSession.expires_at > now)
                .group_by(AuthSession.user_id)
            )
        ).all()
    name = {u.id: u.username for u in users}
    by_role: dict[str, list[str]] = {}
    for user in users:
        for role in user.roles:
            by_role.setdefault(role, []).append(user.username)
    admins = sorted(u.username for u in users if admin_roles & set(u.roles) and not u.disabled)
    wildcard = [{"user": name.get(t.user_id), "prefix": t.prefix} for t in tokens if "*" in t.scopes]
    holding: dict[int, dict[str, int]] = {}
    for t in tokens:
        holding.setdefault(t.user_id, {"tokens": 0, "sessions": 0})["tokens"] += 1
    for user_id, count in live_sessions:
        holding.setdefault(user_id, {"tokens": 0, "sessions": 0})["sessions"] += int(count)
    disabled = [{"user": u.username, **holding[u.id]} for u in users if u.disabled and u.id in holding]
    data = {
        "users": len(users),
        "by_role": by_role,
        "admins": admins,
        "wildcard_tokens": wildcard,
        "disabled_holding": disabled,
    }
    summary = (
        f"{len(users)} users in {len(by_role)} roles, {len(admins)} admins, {len(wildcard)} live '*' tokens"
    )
    if disabled:
        names = ", ".join(str(d["user"]) for d in disabled)
        return CheckResult(
            False, f"{summary}; disabled users still holding tokens or sessions: {names}", data
        )
    return CheckResult(True, summary + "; no disabled user holds a token or session", data)


def _git(cwd: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


def _blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def _drift(config_dir: Path, baseline: Path | None) -> tuple[str, dict[str, Any]]:
    """("git" | "baseline" | "none", the files changed, added and missing)."""
    files = {p.relative_to(config_dir).as_posix(): p for p in sorted(config_dir.rglob("*")) if p.is_file()}
    top = _git(config_dir, "rev-parse", "--show-toplevel")
    listing = None if top is None else _git(config_dir, "ls-tree", "-r", "--full-tree", "HEAD")
    if top is not None and listing is not None:
        prefix = config_dir.resolve().relative_to(Path(top.strip()).resolve()).as_posix() + "/"
        committed = {
            line.split("\t", 1)[1][len(prefix) :]: line.split()[2]
            for line in listing.splitlines()
            if "\t" in line and line.split("\t", 1)[1].startswith(prefix)
        }
        mine = {rel: _blob_id(p.read_bytes()) for rel, p in files.items()}
        source = "git HEAD"
    elif baseline is not None and baseline.is_file():
        committed = {str(k): str(v) for k, v in json.loads(baseline.read_text(encoding="utf-8")).items()}
        mine = {rel: hashlib.sha256(p.read_bytes()).hexdigest() for rel, p in files.items()}
        source = f"baseline {baseline}"
    else:
        return "none", {"files": len(files)}
    changed = sorted(r for r in mine if r in committed and mine[r] != committed[r])
    added = sorted(set(mine) - set(committed))
    missing = sorted(set(committed) - set(mine))
    sha = {r: hashlib.sha256(files[r].read_bytes()).hexdigest() for r in changed}
    return source, {
        "files": len(files),
        "changed": changed,
        "added": added,
        "missing": missing,
        "sha256": sha,
    }


async def config_drift(ctx: CheckContext, params: dict[str, Any]) -> CheckResult:
    if ctx.config_dir is None:
        return CheckResult(False, "no config directory was given to the procedures", {})
    baseline = Path(str(params["baseline"])) if params.get("baseline") else None
    source, data = await asyncio.to_thread(_drift, ctx.config_dir, baseline)
    data |= {"config_dir": str(ctx.config_dir), "compared_with": source}
    if source == "none":
        return CheckResult(
            True, f"no baseline: {ctx.config_dir} is not in a git checkout nor baselined", data
        )
    drift = [f"{k} {', '.join(data[k])}" for k in ("changed", "added", "missing") if data[k]]
    if drift:
        return CheckResult(False, f"config differs from {source}: " + "; ".join(drift), data)
    return CheckResult(True, f"{data['files']} config files as in {source}", data)


def _keystore(name: str, path: Path, expected: str | None) -> dict[str, Any]:
    row: dict[str, Any] = {"signer": name, "path": str(path), "expected": expected, "problems": []}
    try:
        info, _ = inspect_keystore(path)
    except KeystoreError as exc:
        row["problems"].append(exc.user_message)
        return row
    row["address"] = info.address
    if expected is not None and info.address.lower() != expected.lower():
        row["problems"].append(f"holds {info.address}, expected {expected}")
    mode = stat.S_IMODE(path.stat().st_mode)
    row["mode"] = f"{mode:04o}"
    if mode & 0o077:
        row["problems"].append(f"mode {mode:04o}, expected 0600")
    return row


async def keystores(ctx: CheckContext, params: dict[str, Any]) -> CheckResult:
    if ctx.signer_paths is None:
        return CheckResult(False, "no signer keystores were given to the procedures (emergency config)", {})
    refs = list(ctx.signer_paths())
    rows = [await asyncio.to_thread(_keystore, n, p, a) for n, p, a in refs]
    bad = [r for r in rows if r["problems"]]
    data = {"keystores": rows}
    if bad:
        parts = [f"{r['signer']}: {'; '.join(r['problems'])}" for r in bad]
        return CheckResult(False, "keystore problems: " + " | ".join(parts), data)
    return CheckResult(True, f"{len(rows)} keystores present, V3, expected address, mode 0600", data)


def _p95(values: list[float]) -> float | None:
    return sorted(values)[max(0, int(len(values) * 0.95 + 0.5) - 1)] if values else None


async def _period(ctx: CheckContext, start: datetime, end: datetime) -> dict[str, Any]:
    t0, t1 = int(start.timestamp()), int(end.timestamp())
    async with ctx.sessions() as session:
        alerts = (
            await session.execute(
                select(Alert.severity, Alert.fired_at, Alert.block_number).where(
                    Alert.network == ctx.network, Alert.fired_at >= start, Alert.fired_at < end
                )
            )
        ).all()
        blocks = {a.block_number for a in alerts if a.block_number is not None}
        times = (
            dict(
                (
                    await session.execute(
                        select(SeriesSample.block_number, SeriesSample.t)
                        .where(SeriesSample.network == ctx.network, SeriesSample.name == "tx_count")
                        .where(SeriesSample.block_number.in_(blocks))
                    )
                ).all()
            )
            if blocks
            else {}
        )
        series = dict(
            (
                await session.execute(
                    select(SeriesSample.name, func.sum(SeriesSample.value))
                    .where(SeriesSample.network == ctx.network, SeriesSample.t > t0, SeriesSample.t <= t1)
                    .where(SeriesSample.name.in_(["tx_count", "tx_reverted"]))
                    .group_by(SeriesSample.name)
                )
            ).all()
        )
        followed, interval = (
            await session.execute(
                select(func.count(SeriesSample.id), func.avg(SeriesSample.value))
                .where(SeriesSample.network == ctx.network, SeriesSample.name == "block_interval_s")
                .where(SeriesSample.t > t0, SeriesSample.t <= t1)
            )
        ).one()
        runs = (
            await session.execute(
                select(JobRun.job, JobRun.outcome, JobRun.duration_seconds).where(
                    JobRun.started_at >= start, JobRun.started_at < end
                )
            )
        ).all()
    latency = [a.fired_at.timestamp() - times[a.block_number] for a in alerts if a.block_number in times]
    txs, reverted = float(series.get("tx_count") or 0), float(series.get("tx_reverted") or 0)
    jobs: dict[str, list[float]] = {}
    for r in runs:
        jobs.setdefault(r.job, []).append(r.duration_seconds or 0.0)
    failed = sum(1 for r in runs if r.outcome == JobOutcome.FAILED.value)
    by_severity: dict[str, int] = {}
    for a in alerts:
        by_severity[a.severity] = by_severity.get(a.severity, 0) + 1
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "block_to_alert_s": {
            "alerts": len(latency),
            "mean": sum(latency) / len(latency) if latency else None,
            "p95": _p95(latency),
        },
        "blocks_followed": int(followed),
        "mean_block_interval_s": None if interval is None else float(interval),
        "transactions": int(txs),
        "reverted_share": reverted / txs if txs else 0.0,
        "job_runs": len(runs),
        "job_failure_share": failed / len(runs) if runs else 0.0,
        "job_mean_duration_s": {job: sum(d) / len(d) for job, d in sorted(jobs.items())},
        "alerts_by_severity": dict(sorted(by_severity.items())),
    }


def _fmt(value: float | None, unit: str = "") -> str:
    return "n/a" if value is None else f"{value:.1f}{unit}"


async def performance(ctx: CheckContext, params: dict[str, Any]) -> CheckResult:
    span = timedelta(days=float(params.get("days", 7)))
    end = ctx.clock.now()
    now_, before = await _period(ctx, end - span, end), await _period(ctx, end - 2 * span, end - span)
    rpc = (
        [
            {"endpoint": h.name, "state": str(h.state), "latency_ewma_s": h.latency_ewma}
            for h in ctx.chain.endpoints()
        ]
        if ctx.chain is not None
        else None
    )
    data = {"period": now_, "previous": before, "rpc_latency_now": rpc}
    b2a, prev = now_["block_to_alert_s"], before["block_to_alert_s"]
    summary = (
        f"block-to-alert p95 {_fmt(b2a['p95'], 's')} (before {_fmt(prev['p95'], 's')}); "
        f"{now_['blocks_followed']} blocks followed (before {before['blocks_followed']}); reverted share "
        f"{now_['reverted_share']:.1%} (before {before['reverted_share']:.1%}); job failures "
        f"{now_['job_failure_share']:.1%} of {now_['job_runs']} runs "
        f"(before {before['job_failure_share']:.1%})"
    )
    problems = []
    limit = params.get("max_block_to_alert_p95_s")
    if limit is not None and b2a["p95"] is not None and b2a["p95"] > float(limit):
        problems.append(f"block-to-alert p95 above {float(limit):g}s")
    share = params.get("max_job_failure_share")
    if share is not None and now_["job_failure_share"] > float(share):
        problems.append(f"job failure share above {float(share):.0%}")
    return CheckResult(not problems, summary + ("; " + "; ".join(problems) if problems else ""), data)
