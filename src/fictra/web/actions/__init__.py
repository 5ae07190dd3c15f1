"""Emergency action pages, one module per concept: :mod:`.listing` (the list, the policies, proposing),
:mod:`.detail` (one action, live), :mod:`.steps` (approve, dry run, execute, amend, cancel);
:mod:`.common` holds the runner lookup and the config in force.

Each step has its own route and permission, declared with :func:`fictra.api.deps.guarded` like the API's
routes; a refusal is shown on the page with the service's message and the status the API gives it.
"""

from __future__ import annotations

from fastapi import APIRouter

from fictra.web.access import ConsoleRoute
from fictra.web.actions import detail, listing, steps

__all__ = ["router"]

router = APIRouter(include_in_schema=False, route_class=ConsoleRoute)
for part in (listing, detail, steps):
    router.include_router(part.router)
