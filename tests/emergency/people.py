"""Actors with the runbook's roles, as the auth layer builds them."""

from __future__ import annotations

from fictra.auth.actor import Actor
from fictra.auth.permissions import default_roles


def person(name: str, *roles: str) -> Actor:
    return Actor(None, name, tuple(roles), default_roles().permissions_of(list(roles)), "session")


SECURITY = person("sam", "security_officer")
LEAD = person("lee", "technical_lead")
ARCHITECT = person("ari", "system_architect")
OPS = person("olga", "operations_manager")
OPS2 = person("otto", "operations_manager")
VIEWER = person("vic", "viewer")
