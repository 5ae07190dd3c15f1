"""Conditions by severity, day of week and time of day (escalation policies and levels)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from fictra.response.config import DAYS, Condition, window


def holds(condition: Condition | None, *, severity: str, at: datetime) -> bool:
    if condition is None:
        return True
    if condition.severities and severity not in condition.severities:
        return False
    local = at.astimezone(ZoneInfo(condition.timezone))
    if condition.days and DAYS[local.weekday()] not in condition.days:
        return False
    if condition.hours is not None:
        start, end = window(condition.hours)
        now = local.time().replace(tzinfo=None)
        inside = start <= now < end if start <= end else (now >= start or now < end)
        if not inside:
            return False
    return True
