"""Checks of the daily security log review, from what the platform stores (auth and audit tables, alerts).

- ``login_failures``: failed logins (``access_attempts``) and lockouts (``login_throttles`` locked in the
  window, users locked now) in the last ``hours`` (24); fails above ``max_failures`` / ``max_lockouts``.
- ``new_places``: successful logins from a client address the same user did not log in from in the
  ``lookback_days`` (30) before the window; listed, a failure only with ``fail_on_new``.
- ``tokens_expiring``: API tokens not revoked that expire within ``days`` (7); fails when any does.
- ``role_changes``: the roles monitor's alert events (fired / refired) in the window whose condition is
  ``role_granted``, ``role_revoked``, ``unauthorized_role_grant`` or ``admin_changed``; fails on an
  unauthorized grant. What the follower did not see (blocks not followed) is not counted.
- ``audit_log``: :func:`fictra.audit.verify.verify_log` with the keys of ``CheckContext.data_dir`` (the
  public key for checkpoints; the seal key when it can be opened, else "seals not checked"); fails on any
  problem. Its latest checkpoint anchored (an anchor transaction recorded on it): without one the check
  still passes with a warning ("not anchored yet": a fresh devnet has no anchor contract) unless
  ``require_anchor``. The anchored root is compared with the chain by ``fictra audit verify``, not here.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, or_, select

from fictra.alerting.models import Alert, AlertEvent, EventKind
from fictra.audit.checkpoints import latest_checkpoint
from fictra.audit.seal import SealKey
from fictra.audit.signing import KEY_FILE, AuditVerifier, load_signer, load_verifier
from fictra.audit.verify import verify_log
from fictra.auth.models import AccessAttempt, ApiToken, LoginThrottle, User
from fictra.errors import ConfigError
from fictra.procedures.checks import CheckContext, CheckResult

__all__ = ["audit_log", "login_failures", "new_places", "role_changes", "tokens_expiring"]

ROLE_CONDITIONS = ("role_granted", "role_revoked", "unauthorized_role_grant", "admin_changed")


def _hours(params: dict[str, Any]) -> timedelta:
    return timedelta(hours=float(params.get("hours", 24)))


async def login_failures(ctx: CheckContext, params: dict[str, Any]) -> CheckResult:
    now = ctx.clock.now()
    since = now - _hours(params)
    max_failures = int(params.get("max_failures", 20))
    max_lockouts = int(params.get("max_lockouts", 0))
    async with ctx.sessions() as session:
        failed = (
            await session.execute(
                select(AccessAttempt.username, AccessAttempt.reason, func.count(AccessAttempt.id))
                .where(AccessAttempt.at >= since, AccessAttempt.success.is_(False))
                .group_by(AccessAttempt.username, AccessAttempt.reason)
                .order_by(AccessAttempt.username, AccessAttempt.reason)
            )
        ).all()
        throttles = (
            await session.execute(
                select(
                    LoginThrottle.scope, LoginThrottle.key, LoginThrottle.locked_until, LoginThrottle.locks
                )
                .where(LoginThrottle.locked_until.is_not(None), LoginThrottle.last_failed_at >= since)
                .order_by(LoginThrottle.scope, LoginThrottle.key)
            )
        ).all()
        locked_users = (
            (
                await session.execute(
                    select(User.username).where(User.locked_until.is_not(None), User.locked_until > now)
                )
            )
            .scalars()
            .all()
        )
    rows = [{"username": r[0], "reason": r[1], "count": int(r[2])} for r in failed]
    total = sum(int(r[2]) for r in failed)
    locks = [
        {"scope": t.scope, "key": t.key, "locked_until": t.locked_until.isoformat(), "locks": t.locks}
        for t in throttles
    ]
    data = {
        "since": since.isoformat(),
        "failed_logins": total,
        "failed_by_user": rows,
        "lockouts": locks,
        "users_locked_now": list(locked_users),
        "max_failures": max_failures,
        "max_lockouts": max_lockouts,
    }
    lockouts = len(locks) + len(locked_users)
    summary = f"{total} failed logins and {lockouts} lockouts since {since:%Y-%m-%d %H:%M} UTC"
    ok = total <= max_failures and lockouts <= max_lockouts
    if not ok:
        summary += f" (max {max_failures} failures, {max_lockouts} lockouts)"
    return CheckResult(ok, summary, data)


async def new_places(ctx: CheckContext, params: dict[str, Any]) -> CheckResult:
    now = ctx.clock.now()
    since = now - _hours(params)
    before = since - timedelta(days=float(params.get("lookback_days", 30)))
    async with ctx.sessions() as session:
        recent = (
            await session.execute(
                select(AccessAttempt.username, AccessAttempt.source_ip, func.min(AccessAttempt.at))
                .where(AccessAttempt.at >= since, AccessAttempt.success.is_(True))
                .where(AccessAttempt.source_ip.is_not(None))
                .group_by(AccessAttempt.username, AccessAttempt.source_ip)
            )
        ).all()
        known: set[tuple[str, str | None]] = set(
            (
                await session.execute(
                    select(AccessAttempt.username, AccessAttempt.source_ip)
                    .where(AccessAttempt.at >= before, AccessAttempt.at < since)
                    .where(AccessAttempt.success.is_(True))
                    .distinct()
                )
            ).all()
        )
    new = sorted(
        (
            {"username": u, "source_ip": ip, "first_at": at.isoformat()}
            for u, ip, at in recent
            if (u, ip) not in known
        ),
        key=lambda r: (r["username"], r["source_ip"]),
    )
    data = {"since": since.isoformat(), "compared_from": before.isoformat(), "new_places": new}
    if not new:
        return CheckResult(True, "no login from a new client address", data)
    listed = ", ".join(f"{r['username']} from {r['source_ip']}" for r in new[:5])
    more = f" and {len(new) - 5} more" if len(new) > 5 else ""
    return CheckResult(
        not params.get("fail_on_new"), f"{len(new)} logins from new places: {listed}{more}", data
    )


async def tokens_expiring(ctx: CheckContext, params: dict[str, Any]) -> CheckResult:
    now = ctx.clock.now()
    days = float(params.get("days", 7))
    until = now + timedelta(days=days)
    async with ctx.sessions() as session:
        rows = (
            await session.execute(
                select(ApiToken.id, ApiToken.prefix, ApiToken.expires_at, User.username)
                .join(User, User.id == ApiToken.user_id)
                .where(ApiToken.revoked_at.is_(None), ApiToken.expires_at > now, ApiToken.expires_at <= until)
                .order_by(ApiToken.expires_at)
            )
        ).all()
    tokens = [
        {"id": r.id, "prefix": r.prefix, "user": r.username, "expires_at": r.expires_at.isoformat()}
        for r in rows
    ]
    data = {"days": days, "expiring": tokens}
    if not tokens:
        return CheckResult(True, f"no API token expires within {days:g} days", data)
    listed = ", ".join(f"{t['prefix']}… of {t['user']} ({t['expires_at'][:10]})" for t in tokens[:5])
    return CheckResult(False, f"{len(tokens)} API tokens expire within {days:g} days: {listed}", data)


async def role_changes(ctx: CheckContext, params: dict[str, Any]) -> CheckResult:
    since = ctx.clock.now() - _hours(params)
    async with ctx.sessions() as session:
        rows = (
            await session.execute(
                select(AlertEvent.kind, AlertEvent.at, Alert.id, Alert.severity, Alert.labels, Alert.summary)
                .join(Alert, Alert.id == AlertEvent.alert_id)
                .where(AlertEvent.at >= since, Alert.network == ctx.network)
                .where(
                    or_(AlertEvent.kind == EventKind.FIRED.value, AlertEvent.kind == EventKind.REFIRED.value)
                )
                .order_by(AlertEvent.at, AlertEvent.id)
            )
        ).all()
    events = [
        {
            "alert": r.id,
            "at": r.at.isoformat(),
            "severity": r.severity,
            "condition": r.labels.get("condition"),
            "contract": r.labels.get("contract"),
            "role": r.labels.get("role"),
            "account": r.labels.get("account"),
            "summary": r.summary,
        }
        for r in rows
        if isinstance(r.labels, dict) and r.labels.get("condition") in ROLE_CONDITIONS
    ]
    counts = {c: sum(1 for e in events if e["condition"] == c) for c in ROLE_CONDITIONS}
    data = {"since": since.isoformat(), "counts": counts, "events": events}
    summary = "role changes on chain in the window (roles monitor alerts): " + ", ".join(
        f"{k} {v}" for k, v in counts.items()
    )
    return CheckResult(counts["unauthorized_role_grant"] == 0, summary, data)


def _keys(ctx: CheckContext) -> tuple[AuditVerifier | None, SealKey | None, list[str]]:
    """The checkpoint verifier and seal key of ``ctx.data_dir``; notes say what could not be loaded."""
    notes: list[str] = []
    if ctx.data_dir is None:
        return None, None, ["no data directory given: checkpoint signatures not checked"]
    if not (ctx.data_dir / "keys" / KEY_FILE).is_file():
        return None, None, ["no audit key yet: signatures and seals not checked"]
    verifier = load_verifier(ctx.data_dir)
    seal = None
    try:
        seal = SealKey.of(load_signer(ctx.data_dir, create=False))
    except ConfigError as exc:
        notes.append(f"seals not checked: {exc.user_message}")
    return verifier, seal, notes


async def audit_log(ctx: CheckContext, params: dict[str, Any]) -> CheckResult:
    verifier, seal, notes = _keys(ctx)
    async with ctx.sessions() as session:
        report = await verify_log(session, verifier=verifier, seal=seal)
        latest = await latest_checkpoint(session)
    if not report.seals_checked and report.entries and not any("seals" in n for n in notes):
        notes.append("seals not checked: no audit key")
    warnings: list[str] = []
    anchored = latest is not None and latest.anchored_at is not None
    if latest is None:
        warnings.append("no checkpoint yet: nothing to anchor")
    elif not anchored:
        warnings.append(f"latest checkpoint #{latest.id} (size {latest.tree_size}) not anchored yet")
    data: dict[str, Any] = {
        "verified": report.ok,
        "summary": report.summary(),
        "entries": report.entries,
        "checkpoints": report.checkpoints,
        "seals_checked": report.seals_checked,
        "problems": [{"kind": p.kind, "message": p.message, "index": p.index} for p in report.problems],
        "latest_checkpoint": None
        if latest is None
        else {
            "id": latest.id,
            "tree_size": latest.tree_size,
            "anchored_at": None if latest.anchored_at is None else latest.anchored_at.isoformat(),
            "anchor_tx": latest.anchor_tx,
        },
        "notes": notes,
        "warnings": warnings,
    }
    ok = report.ok and (anchored or not params.get("require_anchor"))
    extra = "; ".join(notes + warnings)
    summary = report.summary() + (
        f"; latest checkpoint anchored (tx {latest.anchor_tx})" if anchored and latest else ""
    )
    return CheckResult(ok, summary + (f"; {extra}" if extra else ""), data)
