"""Maintenance windows (issue 14 section 2): scheduled (one-off or RRULE) and emergency windows whose
label matchers hold the alerts in scope (not notified, SLA clocks paused) and release them at the end.
See docs/maintenance.md."""
