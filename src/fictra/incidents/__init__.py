"""Incident management: declared from alerts (by hand or policy) or from scratch, run through the runbook's
phases with the outputs each requires, with a timeline, evidence, communications and a report."""
