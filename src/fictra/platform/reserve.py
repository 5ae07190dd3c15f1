"""Build the reserve domain from its config section and the core: the proof-of-reserve block monitor
and, when ``reserve.yaml:publisher.enabled``, the publisher job with its key opened now (a wrong
passphrase stops the start-up with one line)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from fictra.chain.keystore import KeystoreError, Signer, open_keystore
from fictra.chain.manifest import Manifest
from fictra.chain.pool import RpcPool
from fictra.chain.sender import TxSender
from fictra.clock import Clock
from fictra.config.fields import resolve_secret
from fictra.emergency import service
from fictra.emergency.config import EmergencyConfig, expand_dirs, expand_path
from fictra.emergency.types import ActionView
from fictra.errors import ConfigError, ConflictError
from fictra.monitors.common import selector
from fictra.reserve.config import FILE, ReserveConfig
from fictra.reserve.context import ReserveContext
from fictra.reserve.monitor import ProofOfReserveMonitor
from fictra.reserve.policy import drift, rebalance_trades
from fictra.reserve.publish import Publisher
from fictra.reserve.reads import ReserveReader

__all__ = ["build_reserve", "open_publisher_key", "request_rebalance"]


async def open_publisher_key(
    config: ReserveConfig, *, manifest: Manifest, config_dir: Path, data_dir: Path
) -> Signer:
    """The publisher's key, restricted to ``updateAnswer`` on the proof-of-reserve feed."""
    pub = config.publisher
    path = expand_path(pub.keystore, config_dir=config_dir, data_dir=data_dir)
    expected = None
    if pub.role is not None:
        holders = manifest.roles.get(pub.role) or []
        if not holders:
            raise ConfigError(f"{FILE}:publisher.role: the manifest names no '{pub.role}' account.")
        expected = holders[0]
    ref = expand_dirs(pub.passphrase, data_dir=data_dir)
    secret = resolve_secret(ref, base_dir=config_dir, where=f"{FILE}:publisher.passphrase")
    try:
        signer = await open_keystore(
            path, secret, role="reserve publisher", expected_address=expected, secret_name=pub.passphrase
        )
    except KeystoreError as exc:
        raise ConfigError(f"{FILE}:publisher: {exc.user_message}") from None
    feed = manifest.address(pub.feed)
    return signer.restricted({feed: {selector("updateAnswer(int256)"): "updateAnswer"}})


async def build_reserve(
    config: ReserveConfig,
    *,
    manifest: Manifest,
    pool: RpcPool,
    clock: Clock,
    network: str,
    sender: TxSender | None,
    config_dir: Path,
    data_dir: Path,
) -> ReserveContext | None:
    """The reserve domain, or None when neither the monitor nor the publisher runs (or the manifest has
    no Reserve)."""
    proof = config.proof
    if not (proof.enabled or config.publisher.enabled) or proof.reserve not in manifest.contracts:
        return None
    max_age = int(proof.max_price_age.total_seconds()) if proof.max_price_age is not None else None
    reader = ReserveReader(
        manifest=manifest, pool=pool, reserve=proof.reserve, token=proof.token, max_age=max_age
    )
    ctx = ReserveContext(config=config, reader=reader)
    if proof.enabled:
        ctx.monitor = ProofOfReserveMonitor(
            config=proof, reader=reader, network=network, clock=clock, allocation=dict(config.allocation),
            drift_severity=config.drift_severity, liquidity=config.liquidity,
        )  # fmt: skip
    if config.publisher.enabled and sender is not None:
        key = await open_publisher_key(config, manifest=manifest, config_dir=config_dir, data_dir=data_dir)
        ctx.publisher = Publisher(
            config=config.publisher,
            reader=reader,
            pool=pool,
            sender=sender,
            signer=lambda: key,
            feed=manifest.address(config.publisher.feed),
            network=network,
            clock=clock,
        )
    return ctx


async def request_rebalance(
    session: AsyncSession,
    *,
    config: ReserveConfig,
    emergency: EmergencyConfig,
    manifest: Manifest,
    pool: RpcPool,
    actor: object,
    clock: Clock,
    on_event: service.OnEvent | None = None,
) -> ActionView:
    """The proof at the head, the trades back to the policy's targets, proposed as ``reserve_rebalance``.
    ConflictError when there is no policy or no asset is out of its band."""
    if not config.allocation:
        raise ConflictError(f"{FILE}:allocation is empty: there is no allocation policy to rebalance to.")
    proof_cfg = config.proof
    max_age = int(proof_cfg.max_price_age.total_seconds()) if proof_cfg.max_price_age is not None else None
    reader = ReserveReader(
        manifest=manifest, pool=pool, reserve=proof_cfg.reserve, token=proof_cfg.token, max_age=max_age
    )
    head: dict[str, Any] = await pool.call("eth_getBlockByNumber", ["latest", False])
    proof = await reader.read(block=int(head["number"], 16), timestamp=int(head["timestamp"], 16))
    breaches = [d for d in drift(proof, config.allocation) if d.breach]
    if not breaches:
        raise ConflictError("Every policy asset is within its band: nothing to rebalance.")
    trades = rebalance_trades(proof, config.allocation)
    specs = {s.symbol: s for s in reader.assets}
    params = {
        "trades": [t.as_dict() for t in trades],
        "policy": [
            {
                "symbol": sym,
                "token": specs[sym].token,
                "feed": specs[sym].feed,
                "target": t.target,
                "band": t.band,
            }
            for sym, t in config.allocation.items()
            if sym in specs
        ],
        "block": proof.block,
    }
    reason = "; ".join(
        f"{d.symbol} at {d.weight * 100:.1f}% (target {d.target * 100:.0f}% ± {d.band * 100:.0f}%)"
        for d in breaches
    )
    return await service.propose(
        session, kind="reserve_rebalance", params=params, actor=actor, clock=clock,
        reason=f"Allocation drift: {reason}", rules=emergency.rules, on_event=on_event,
    )  # fmt: skip
