from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from fictra.auth.actor import Actor
from fictra.changes.config import ChangesConfig
from fictra.changes.schemas import ChangeInput
from fictra.db.engine import session_factory

CONFIG = Path(__file__).resolve().parents[2] / "config" / "changes.yaml"
# Tuesday 2026-01-06, inside the tue-thu 06:00-10:00 window of config/changes.yaml
START = datetime(2026, 1, 6, 7, 0, tzinfo=UTC)
END = datetime(2026, 1, 6, 8, 0, tzinfo=UTC)


def shipped_config() -> ChangesConfig:
    return ChangesConfig.model_validate(yaml.safe_load(CONFIG.read_text()))


def person(name: str, *roles: str) -> Actor:
    return Actor(user_id=None, username=name, roles=tuple(roles), permissions=frozenset({"*"}), via="cli")


REQUESTER = person("rita", "technical_lead")
TL = person("tom", "technical_lead")
SA = person("sam", "system_architect")
OM = person("olga", "operations_manager")
AUDITOR = person("ann", "auditor")


def fee_change(**kw: Any) -> ChangeInput:
    data: dict[str, Any] = {
        "title": "Lower the PaymentToken fee to 25 bps",
        "description": "Market conditions.",
        "type": "normal",
        "category": "protocol_parameter",
        "components": ["PaymentToken"],
        "implementer": "tom",
        "planned_start": START,
        "planned_end": END,
        "steps": [
            {"text": "Announce", "action_kind": None, "action_params": None},
            {"text": "Set the fee", "action_kind": "set_pt_fee", "action_params": {"fee_bps": 25}},
        ],
        "verification": [{"name": "fee is 25", "expr": "pt_fee_bps == 25"}],
        "rollback_plan": "Set the fee back to 30 bps through the Timelock.",
        "rollback_steps": [
            {"text": "Restore the fee", "action_kind": "set_pt_fee", "action_params": {"fee_bps": 30}}
        ],
        "notify": ["operations"],
        **kw,
    }
    return ChangeInput.model_validate(data)


NO = {"touches_funds": False, "irreversible": False, "untested": False}


@pytest.fixture
def cfg() -> ChangesConfig:
    return shipped_config()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return session_factory(engine)
