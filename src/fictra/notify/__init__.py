"""Notifications that are never lost: a persisted outbox, a delivery worker, channels and templates.

Callers (routing, escalation) add rows with :func:`fictra.notify.service.enqueue` inside their own
transaction; :class:`fictra.notify.worker.Outbox` delivers them at least once, with retries, backoff,
per-channel rate limits and a dead-letter state. Inbound alerts (Alertmanager webhooks, generic JSON)
arrive through :mod:`fictra.api.routes.notify`.
"""
