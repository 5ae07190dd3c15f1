"""Read models of the reserve domain: the latest proof, the ratio series, the feed updates."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.reserve.models import PorUpdate, ReserveProof

__all__ = ["ProofRow", "latest_proof", "live_text", "por_updates", "ratio_series"]

E18 = 10**18


@dataclass(frozen=True)
class ProofRow:
    block: int
    block_time: int
    supply: int
    value: int
    ratio: float | None
    assets: list[dict[str, Any]]

    @property
    def stale(self) -> list[str]:
        return [str(a["symbol"]) for a in self.assets if a.get("stale")]

    def as_dict(self) -> dict[str, Any]:
        return {
            "block": self.block, "block_time": self.block_time, "supply": str(self.supply),
            "value": str(self.value), "ratio": self.ratio, "stale": self.stale, "assets": self.assets,
        }  # fmt: skip


def _row(r: ReserveProof) -> ProofRow:
    return ProofRow(r.block_number, r.block_time, int(r.supply), int(r.value), r.ratio, list(r.assets))


async def latest_proof(session: AsyncSession, *, network: str) -> ProofRow | None:
    row = await session.scalar(
        select(ReserveProof)
        .where(ReserveProof.network == network)
        .order_by(ReserveProof.block_number.desc(), ReserveProof.id.desc())
        .limit(1)
    )
    return None if row is None else _row(row)


async def ratio_series(
    session: AsyncSession, *, network: str, limit: int = 500
) -> list[tuple[int, float | None]]:
    """(block, ratio) of the last ``limit`` proofs, oldest first."""
    rows = (
        await session.execute(
            select(ReserveProof.block_number, ReserveProof.ratio)
            .where(ReserveProof.network == network)
            .order_by(ReserveProof.block_number.desc(), ReserveProof.id.desc())
            .limit(limit)
        )
    ).all()
    return [(int(b), r) for b, r in reversed(rows)]


async def por_updates(session: AsyncSession, *, network: str, limit: int = 20) -> list[dict[str, Any]]:
    rows = (
        await session.scalars(
            select(PorUpdate).where(PorUpdate.network == network).order_by(PorUpdate.id.desc()).limit(limit)
        )
    ).all()
    return [
        {"answer": r.answer, "block": r.block_number, "tx_hash": r.tx_hash, "status": r.status,
         "created_at": r.created_at.isoformat()}
        for r in rows
    ]  # fmt: skip


def live_text(proof: ProofRow | None) -> tuple[str, bool]:
    """The live view's reserve line and whether it needs attention."""
    if proof is None:
        return "no proof yet", False
    ratio = "n/a (no PT supply)" if proof.ratio is None else f"{proof.ratio * 100:.1f}%"
    stale = f"; stale: {', '.join(proof.stale)}" if proof.stale else ""
    text = (
        f"collateral {ratio} at block {proof.block} ({proof.value / E18:,.0f} USD vs "
        f"{proof.supply / E18:,.0f} PT{stale})"
    )
    return text, bool(proof.stale) or (proof.ratio is not None and proof.ratio < 1.0)
