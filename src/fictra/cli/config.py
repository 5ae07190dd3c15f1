"""`fictra config` commands."""

from __future__ import annotations

import typer

app = typer.Typer(help="Check and show the config-as-code (monitors, rules, networks).", no_args_is_help=True)
