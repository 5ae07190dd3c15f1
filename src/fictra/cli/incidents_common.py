"""Shared by the `fictra incidents ...` command modules: options, the transaction runner, JSON output,
and printing user data with control and bidi characters stripped (:mod:`fictra.text`)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import typer

from fictra.cli._common import config_set
from fictra.cli._response import add_row as _add_row
from fictra.cli._response import in_transaction
from fictra.cli._response import say as _say
from fictra.clock import SystemClock
from fictra.incidents.config import IncidentsConfig
from fictra.incidents.linked_actions import ActionLedger
from fictra.text import strip_controls

AS = typer.Option(
    None,
    "--as",
    help="Record the change under this name (default: $FICTRA_OPERATOR; one of them is required).",
)
JSON = typer.Option(False, "--json", help="Print JSON instead of a table.")


def incidents_config() -> IncidentsConfig:
    return config_set().incidents


def clock() -> SystemClock:
    return SystemClock()


def run_in_transaction(fn: Any) -> Any:
    return asyncio.run(in_transaction(fn))


def dump(value: Any) -> None:
    from fictra.audit.canonical import jsonable

    typer.echo(json.dumps(jsonable(value), indent=2, sort_keys=True))


def say(text: str) -> None:
    """Print a line of user data: no rich markup, no terminal control or bidi characters."""
    _say(strip_controls(text))


def add_row(table: Any, *cells: str) -> None:
    """A table row of user data: markup escaped, control and bidi characters stripped."""
    _add_row(table, *(strip_controls(c) for c in cells))


def action_ledger() -> ActionLedger:
    """The emergency actions as the incident timeline and report read them."""
    from fictra.emergency.ledger import ActionsLedger

    return ActionsLedger()
