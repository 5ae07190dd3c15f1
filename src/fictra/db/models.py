"""Imports every domain's ORM models so ``metadata`` knows all tables (Alembic autogenerate, tests)."""

from __future__ import annotations

import fictra.alerting.models  # noqa: F401  (alerts, alert_events, anomaly_baselines)
from fictra.chain import models as _chain_models  # noqa: F401  (chain follower tables)
from fictra.db.base import Base

metadata = Base.metadata
