"""The ``fictra`` command. One module per command group; this module only wires them together.

Expected failures (:class:`fictra.errors.FictraError`) print their ``user_message`` on one line to
stderr and exit with the error's exit code (2 for usage/config errors) — never a stack trace.
"""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from fictra.cli import actions, alerts, audit, config, devnet, incidents, oncall, silences, up, users
from fictra.cli import alert_actions as _alert_actions  # noqa: F401  (registers on alerts.app)
from fictra.errors import FictraError

app = typer.Typer(
    name="fictra",
    help="FICTRA Ops: monitor and operate the FICTRA token system.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("up")(up.up)
app.command("status")(up.status)
app.add_typer(devnet.app, name="devnet")
app.add_typer(config.app, name="config")
app.add_typer(alerts.app, name="alerts")
app.add_typer(audit.app, name="audit")
app.add_typer(users.app, name="users")
app.add_typer(oncall.app, name="oncall")
app.add_typer(silences.app, name="silences")
app.add_typer(incidents.app, name="incidents")
app.add_typer(actions.app, name="actions")
app.add_typer(actions.keystore_app, name="keystore")

_err = Console(stderr=True, highlight=False, soft_wrap=True)


def main() -> None:
    try:
        app()
    except FictraError as exc:
        _err.print(f"[bold red]error:[/] {exc.user_message}", markup=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
