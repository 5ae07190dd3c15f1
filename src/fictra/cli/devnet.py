"""`fictra devnet` commands."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Run the local FICTRA devnet: Anvil with the reference contracts deployed.", no_args_is_help=True
)
