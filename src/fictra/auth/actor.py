"""Who is acting: a signed-in user (session), an API token, a CLI user or the platform itself."""

from __future__ import annotations

from dataclasses import dataclass

from fictra.auth.permissions import ALL, PERMISSIONS


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    username: str
    roles: tuple[str, ...]
    permissions: frozenset[str]
    via: str  # "session" | "token" | "cli" | "system"
    must_change_password: bool = False  # signed in with a one-time password not yet changed

    def can(self, permission: str) -> bool:
        return ALL in self.permissions or permission in self.permissions

    def effective_permissions(self) -> list[str]:
        """Every permission this actor holds, ``"*"`` expanded (sorted)."""
        if ALL in self.permissions:
            return sorted(PERMISSIONS)
        return sorted(self.permissions)


SYSTEM = Actor(None, "system", ("system",), frozenset({ALL}), "system")


def cli_actor(username: str | None = None) -> Actor:
    """The operator at the terminal: CLI commands run with the rights of whoever can read the database
    (the same person who could run ``fictra up``), recorded under their OS user name."""
    import getpass

    name = username or f"cli:{getpass.getuser()}"
    return Actor(None, name, ("cli",), frozenset({ALL}), "cli")
