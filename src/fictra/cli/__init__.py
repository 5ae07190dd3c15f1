"""The ``fictra`` command. One module per command group; this module only wires them together.

Command modules are imported lazily: ``fictra --help`` lists every group from the table below without
importing any of them, and ``fictra alerts list`` imports only ``fictra.cli.alerts`` (and what it needs).
The heavy stacks (web3, eth_account, py_ecc, the devnet) are imported inside the commands that use
them, so starting the CLI stays fast (``tests/cli/test_startup.py`` checks which modules ``--help``
imports; ``docs/performance.md`` has the figures).

Expected failures (:class:`fictra.errors.FictraError`) print their ``user_message`` on one line to
stderr and exit with the error's exit code (2 for usage/config errors) — never a stack trace.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from difflib import get_close_matches
from types import ModuleType
from typing import NamedTuple

import typer
from typer import _click as click  # typer's own click (typer >= 0.29 vendors it)
from typer._click.exceptions import UsageError
from typer.core import TyperCommand, TyperGroup

from fictra.errors import FictraError


class LazyCommand(NamedTuple):
    """Where a top-level command lives; ``help`` is what ``fictra --help`` shows without importing it."""

    module: str
    attr: str
    help: str
    also: tuple[str, ...] = ()  # modules that register more commands on the same app


# Order = order in ``fictra --help``. The help texts equal the modules' own (tests/cli/test_startup.py).
COMMANDS: dict[str, LazyCommand] = {
    "up": LazyCommand(
        "fictra.cli.up",
        "up",
        "Run FICTRA Ops: follow the chain, run every monitor, keep the alerts, serve /metrics.",
    ),
    "status": LazyCommand(
        "fictra.cli.up",
        "status",
        "Show the follower's checkpoint and the firing alerts from the database, and the devnet.",
    ),
    "devnet": LazyCommand(
        "fictra.cli.devnet",
        "app",
        "Run the local FICTRA devnet: Anvil with the reference contracts deployed.\n\n"
        "Typical session: `fictra devnet up`, then `fictra devnet simulate` (or `up --simulate`), "
        "`fictra devnet scenario oracle-stall`, ... and finally `fictra devnet down`.",
    ),
    "config": LazyCommand(
        "fictra.cli.config", "app", "Check and show the config-as-code (monitors, rules, networks)."
    ),
    "alerts": LazyCommand(
        "fictra.cli.alerts", "app", "List and inspect alerts.", also=("fictra.cli.alert_actions",)
    ),
    "audit": LazyCommand(
        "fictra.cli.audit", "app", "The tamper-evident audit log: verify, checkpoint, show, prove, anchor."
    ),
    "users": LazyCommand("fictra.cli.users", "app", "Manage users and their API tokens."),
    "oncall": LazyCommand(
        "fictra.cli.oncall",
        "app",
        "On-call schedules: who is on call now and next, overrides, iCalendar import.",
    ),
    "silences": LazyCommand(
        "fictra.cli.silences",
        "app",
        "Silences: mute alerts matching label matchers for a while (still recorded).",
    ),
    "incidents": LazyCommand(
        "fictra.cli.incidents",
        "app",
        "Declare and run incidents: phases, outputs, roles, tasks, updates, report.",
    ),
    "actions": LazyCommand(
        "fictra.cli.actions", "app", "Emergency and recovery actions: propose, approve, dry-run, execute."
    ),
    "keystore": LazyCommand("fictra.cli.actions", "keystore_app", "Encrypted V3 keystores for the signers."),
    "backup": LazyCommand("fictra.cli.backup", "app", "Backups: create, verify (a restore drill), restore."),
    "procedures": LazyCommand(
        "fictra.cli.procedures",
        "app",
        "Routine procedures: today's list, runs with their evidence, sign-off, run now.",
    ),
    "tickets": LazyCommand(
        "fictra.cli.tickets",
        "app",
        "Support tickets: list, show, reply to the requester, internal notes, assign, change state.",
    ),
    "changes": LazyCommand(
        "fictra.cli.changes",
        "app",
        "Change requests: list, show, new, edit, submit, approve, acknowledge conflicts, schedule, steps.",
    ),
    "maintenance": LazyCommand(
        "fictra.cli.maintenance",
        "app",
        "Maintenance windows: list, show, log, create (one-off, RRULE, emergency), end, done, cancel.",
    ),
    "proposals": LazyCommand(
        "fictra.cli.proposals",
        "app",
        "Governance proposals: list, show, simulate on a fork, review (sign off, verify), link a change.",
    ),
    "economics": LazyCommand(
        "fictra.cli.economics",
        "app",
        "Economics: the fee impact of a proposed PT fee, replayed over recent transfers.",
    ),
    "tokens": LazyCommand(
        "fictra.cli.tokens",
        "app",
        "Foundation token: the sovereign allocation registry against the chain, FT issuance requests.",
    ),
    "reserve": LazyCommand(
        "fictra.cli.reserve", "app", "Reserve: proof of reserve from the chain (prices, ratio), history."
    ),
    "compliance": LazyCommand(
        "fictra.cli.compliance", "app", "Compliance: sanctions and threat lists, screening hits, KYC records."
    ),
}


def lazy_import(name: str) -> ModuleType:
    """Module ``name``, executed on first attribute access (for modules only some commands need)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ImportError(f"no module named {name!r}")
    spec.loader = importlib.util.LazyLoader(spec.loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def load_command(name: str) -> click.Command:
    """Import the module of command ``name`` and build its click command (a group for a sub-app)."""
    spec = COMMANDS[name]
    module = importlib.import_module(spec.module)
    for extra in spec.also:
        importlib.import_module(extra)
    target = getattr(module, spec.attr)
    if isinstance(target, typer.Typer):
        command: click.Command = typer.main.get_group(target)
    else:
        holder = typer.Typer(add_completion=False)
        holder.command(name)(target)
        command = typer.main.get_group(holder).commands[name]
    command.name = name
    return command


class _Listed(TyperCommand):
    """A command as ``--help`` lists it: name and help only, its module not imported."""


class LazyGroup(TyperGroup):
    """The top-level group: commands from :data:`COMMANDS`, imported on first use."""

    _listing = False

    def list_commands(self, ctx: click.Context) -> list[str]:
        eager = super().list_commands(ctx)
        return [*eager, *(n for n in COMMANDS if n not in self.commands)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is not None or cmd_name not in COMMANDS:
            return command
        if self._listing:
            return _Listed(name=cmd_name, help=COMMANDS[cmd_name].help)
        command = load_command(cmd_name)
        self.add_command(command, cmd_name)
        return command

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        try:
            return super().resolve_command(ctx, args)
        except UsageError as exc:
            if args and self.suggest_commands and "Did you mean" not in exc.message:
                matches = get_close_matches(args[0], self.list_commands(ctx))
                if matches:
                    exc.message = (
                        exc.message.rstrip(".") + ". Did you mean " + ", ".join(map(repr, matches)) + "?"
                    )
            raise


app = typer.Typer(
    name="fictra",
    help="FICTRA Ops: monitor and operate the FICTRA token system.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=LazyGroup,
)


@app.callback()
def _root() -> None:
    """FICTRA Ops: monitor and operate the FICTRA token system."""


def main() -> None:
    try:
        app()
    except FictraError as exc:
        from rich.console import Console

        err = Console(stderr=True, highlight=False, soft_wrap=True)
        err.print(f"[bold red]error:[/] {exc.user_message}", markup=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
