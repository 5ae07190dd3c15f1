"""Fee impact assessment: replay PT transfers under the current and a proposed fee, exactly as
``PaymentToken._update`` charges it (``fee = value × feeBps / 10000``, integer division; no fee on mints,
burns or transfers sent by the fee collector), vectorized with numpy (object arrays keep the integers exact).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["FeeImpact", "Transfer", "fee_impact"]

ZERO = "0x" + "0" * 40


@dataclass(frozen=True, slots=True)
class Transfer:
    sender: str
    recipient: str
    value: int  # PT wei
    tx: str = ""  # the transaction hash (pairs a fee with its settlement)


@dataclass(frozen=True)
class FeeImpact:
    transfers: int  # settlements replayed (mints, burns and collector sends excluded)
    fee_bps_now: int
    fee_bps_new: int
    revenue_now: int  # PT wei
    revenue_new: int
    participants_affected: int  # distinct senders whose total fee changes
    median_cost_now: int  # median fee per settlement, PT wei
    median_cost_new: int

    def as_dict(self) -> dict[str, Any]:
        return {k: (str(v) if isinstance(v, int) and k not in ("transfers", "fee_bps_now", "fee_bps_new",
                "participants_affected") else v) for k, v in self.__dict__.items()}  # fmt: skip


def _median(values: np.ndarray) -> int:
    if values.size == 0:
        return 0
    s = np.sort(values)
    mid = s.size // 2
    return int(s[mid]) if s.size % 2 else int((s[mid - 1] + s[mid]) // 2)


def fee_impact(transfers: list[Transfer], *, fee_bps_now: int, fee_bps_new: int, collector: str) -> FeeImpact:
    collector_l = collector.lower()
    kept = [
        t for t in transfers
        if t.sender.lower() not in (ZERO, collector_l) and t.recipient.lower() != ZERO
    ]  # fmt: skip
    values = np.array([t.value for t in kept], dtype=object)
    now = values * fee_bps_now // 10_000 if kept else np.array([], dtype=object)
    new = values * fee_bps_new // 10_000 if kept else np.array([], dtype=object)
    per_sender: dict[str, int] = {}
    for t, a, b in zip(kept, now, new, strict=True):
        per_sender[t.sender.lower()] = per_sender.get(t.sender.lower(), 0) + int(b) - int(a)
    return FeeImpact(
        transfers=len(kept),
        fee_bps_now=fee_bps_now,
        fee_bps_new=fee_bps_new,
        revenue_now=int(now.sum()) if kept else 0,
        revenue_new=int(new.sum()) if kept else 0,
        participants_affected=sum(1 for d in per_sender.values() if d != 0),
        median_cost_now=_median(now),
        median_cost_new=_median(new),
    )
