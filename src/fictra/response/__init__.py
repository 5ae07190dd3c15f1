"""Alert response: SLA clocks, escalation, on-call, routing, grouping, inhibition, silences, actions.

The stage order lives in :func:`fictra.response.pipeline.build_stages`; the periodic escalation/SLA
tick in :mod:`fictra.response.scheduled`.
"""
