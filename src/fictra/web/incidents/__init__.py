"""Incident pages, one module per concept: :mod:`.listing` (the list and the declare form),
:mod:`.detail` (one incident), :mod:`.forms` (the forms that change it), :mod:`.outreach` (evidence,
stakeholder updates, meetings, evidence documents, the report); :mod:`.common` holds what they share.

Every form posts to its own route behind its own permission (``incidents.declare``, ``incidents.manage``,
``incidents.communicate``), declared with :func:`fictra.api.deps.guarded` like the API's routes; the
incident services do the work in one transaction with their audit entry. A refusal from a service (an
output missing, a closed incident, an unknown user) is shown on the page with the service's message and
the status the API gives it (409/422/404...), never as a stack trace.
"""

from __future__ import annotations

from fastapi import APIRouter

from fictra.web.access import ConsoleRoute
from fictra.web.incidents import detail, forms, listing, outreach
from fictra.web.incidents.detail import render_detail

__all__ = ["render_detail", "router"]

router = APIRouter(include_in_schema=False, route_class=ConsoleRoute)
for part in (listing, detail, forms, outreach):  # the list's /incidents/new before /incidents/{id}
    router.include_router(part.router)
