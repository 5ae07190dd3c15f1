"""Procedures: the runbooks' routine lists (daily, weekly, monthly) as scheduled checklists.

A procedure (``config/procedures.yaml``, :mod:`fictra.procedures.config`) has a schedule, a grace period,
an owner and ordered steps: automated checks (:mod:`fictra.procedures.checks`) whose result and data are
recorded as evidence, manual steps signed off by a permitted role, and reports. Runs and step results are
rows (:mod:`fictra.procedures.models`) whose evidence is hashed into the audit log
(:mod:`fictra.procedures.service`); :mod:`fictra.procedures.jobs` opens runs on schedule and turns a run
not completed within its grace into ``missed`` with an alert. See ``docs/procedures.md``.
"""
