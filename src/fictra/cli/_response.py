"""What the response commands share: a DB session in one transaction, the response context, the actor."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from fictra.auth.actor import Actor, cli_actor
from fictra.cli._common import settings
from fictra.clock import SystemClock
from fictra.config.fields import parse_duration
from fictra.db.engine import make_engine, migrate, session_factory
from fictra.errors import UsageError

if TYPE_CHECKING:
    from fictra.response.context import ResponseContext

T = TypeVar("T")


OPERATOR_ENV = "FICTRA_OPERATOR"


def actor(as_user: str | None) -> Actor:
    """Who acts from the terminal: ``--as NAME``, else the configured identity ``FICTRA_OPERATOR``; never
    silently the Unix user (on a shared host that is ``root`` for everyone)."""
    import os

    name = (as_user or os.environ.get(OPERATOR_ENV, "")).strip()
    if not name:
        raise UsageError(
            "Who is acting? Give --as NAME, or set FICTRA_OPERATOR=NAME in your shell; the change is "
            "recorded under that name (never silently under the Unix user)."
        )
    return cli_actor(name)


def response_context() -> ResponseContext:
    from fictra.cli._common import config_set
    from fictra.response.context import ResponseContext

    config = config_set()
    return ResponseContext(config=config.response, clock=SystemClock(), alert_policy=config.policy)


async def in_transaction(fn: Callable[[AsyncSession], Awaitable[T]]) -> T:
    url = settings().resolved_database_url()
    migrate(url)
    engine = make_engine(url)
    try:
        async with session_factory(engine).begin() as session:
            return await fn(session)
    finally:
        await engine.dispose()


def when(value: str, option: str) -> datetime:
    """An ISO time (zone required; Z accepted) or a duration from now ('2h')."""
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        try:
            return SystemClock().now() + parse_duration(value)
        except ValueError:
            raise UsageError(
                f"{option} '{value}' is neither an ISO time (2026-01-05T09:00:00Z) nor a duration (30m, 2h)."
            ) from None
    if parsed.tzinfo is None:
        raise UsageError(f"{option} '{value}' has no time zone; add Z or +00:00.")
    return parsed.astimezone(UTC)


def duration(value: str, option: str) -> timedelta:
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise UsageError(f"{option} '{value}': {exc}.") from None


def stamp(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "-"


def countdown(seconds: float) -> str:
    sign = "-" if seconds < 0 else ""
    s = int(abs(seconds))
    return f"{sign}{s // 3600}h{(s % 3600) // 60:02d}m"


def say(text: str) -> None:
    """Print user data as is (no rich markup: '[escalate_now]' or a matcher like 'a=~"[0-9]"' stay text)."""
    from fictra.cli._common import console

    console.print(text, markup=False)


def add_row(table: Any, *cells: str) -> None:
    """A table row of user data, escaped from rich markup."""
    from rich.markup import escape

    table.add_row(*(escape(c) for c in cells))
