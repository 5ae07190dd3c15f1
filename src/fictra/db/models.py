"""Imports every domain's ORM models so ``metadata`` knows all tables (Alembic autogenerate, tests)."""

from __future__ import annotations

import fictra.alerting.models  # noqa: F401  (alerts, alert_events)
from fictra.audit import models as _audit_models  # noqa: F401  (audit_entries, audit_head, audit_checkpoints)
from fictra.auth import models as _auth_models  # noqa: F401  (users, sessions, tokens, access_attempts)
from fictra.chain import models as _chain_models  # noqa: F401  (chain follower tables)
from fictra.changes import models as _change_models  # noqa: F401  (change_requests, _approvals, _steps, _events)
from fictra.compliance import case_models as _compliance_cases  # noqa: F401  (compliance_cases, _sars)
from fictra.compliance import filing_models as _compliance_filings  # noqa: F401  (compliance_filings, ...)
from fictra.compliance import models as _compliance_models  # noqa: F401  (compliance_*)
from fictra.compliance import report_models as _compliance_reports  # noqa: F401  (compliance_transfers, ...)
from fictra.db.base import Base
from fictra.emergency import models as _emergency_models  # noqa: F401  (emergency_actions, action_*)
from fictra.incidents import models as _incident_models  # noqa: F401  (incidents, incident_* tables)
from fictra.jobs import models as _job_models  # noqa: F401  (job_runs, job_leases)
from fictra.maintenance import models as _maintenance_models  # noqa: F401  (maintenance_*)
from fictra.monitors import models as _monitor_models  # noqa: F401  (anomaly_baselines)
from fictra.notify import models as _notify_models  # noqa: F401  (notify_outbox, notify_attempts)
from fictra.procedures import models as _procedure_models  # noqa: F401  (procedure_runs, procedure_steps)
from fictra.proposals import models as _proposal_models  # noqa: F401  (gov_proposals, _events, _links)
from fictra.reserve import models as _reserve_models  # noqa: F401  (reserve_proofs, reserve_por_updates)
from fictra.response import models as _response_models  # noqa: F401  (alert_response, silences, ...)
from fictra.series import models as _series_models  # noqa: F401  (series_samples: chart series)
from fictra.support import models as _support_models  # noqa: F401  (support_tickets, _comments, _links)

metadata = Base.metadata
