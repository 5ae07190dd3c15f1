from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fictra.clock import FakeClock
from fictra.notify.config import ReceiversConfig
from fictra.notify.message import Message
from fictra.notify.service import enqueue
from fictra.notify.worker import Outbox


def config(*channels: dict[str, Any], receiver: str = "ops", **delivery: Any) -> ReceiversConfig:
    return ReceiversConfig.model_validate(
        {
            "receivers": [{"name": receiver, "channels": list(channels)}],
            "delivery": {"initial_backoff": "10s", "max_backoff": "5m", "jitter": 0.2, **delivery},
            "console_url": "http://console.test",
        }
    )


def message(**kw: Any) -> Message:
    return Message.model_validate(
        {
            "subject": "Reserve ratio below floor",
            "severity": "P0",
            "alert_id": 42,
            "evidence": {"observed": "0.91", "floor": "0.95"},
            "fields": {"network": "devnet", "monitor": "reserve-ratio"},
            **kw,
        }
    )


async def put(
    sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock,
    *keys: str,
    receiver: str = "ops",
    channel: str = "hook",
    **kw: Any,
) -> list[int]:
    ids = []
    async with sessions.begin() as s:
        for key in keys:
            nid = await enqueue(
                s, receiver=receiver, channel=channel, message=message(**kw), idempotency_key=key, clock=clock
            )
            assert nid is not None
            ids.append(nid)
    return ids


def outbox(
    sessions: async_sessionmaker[AsyncSession],
    cfg: ReceiversConfig,
    clock: FakeClock,
    base_dir: Path,
    seed: int = 7,
) -> Outbox:
    return Outbox(sessions=sessions, config=cfg, clock=clock, base_dir=base_dir, rng=random.Random(seed))
