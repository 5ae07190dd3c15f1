"""`fictra config` commands: check the config-as-code with the service's own loader (the registry of
:mod:`fictra.platform.config_set`), show it, document it from the same registry's models."""

from __future__ import annotations

from pathlib import Path

import typer
import yaml

from fictra.chain.manifest import Manifest
from fictra.cli._common import settings
from fictra.platform.config_set import ConfigSet, load_config_set, reference

app = typer.Typer(help="Check and show the config-as-code (monitors, rules, networks).", no_args_is_help=True)

CONFIG_DIR = typer.Option(
    None, "--config-dir", help="Config directory (default: FICTRA_CONFIG_DIR or config/)."
)
MANIFEST = typer.Option(None, "--manifest", help="Deployment manifest: also check contract and event names.")


def _load(config_dir: Path | None, manifest: Path | None) -> ConfigSet:
    directory = config_dir if config_dir is not None else settings().config_dir
    return load_config_set(directory, manifest=Manifest.load(manifest) if manifest is not None else None)


CHAIN = typer.Option(
    False,
    "--chain",
    help="Also read the tokens' total supply and decimals from network.yaml's first endpoint (at the "
    "manifest's addresses) and refuse amount thresholds that can never fire.",
)


@app.command("check")
def check(
    config_dir: Path | None = CONFIG_DIR, manifest: Path | None = MANIFEST, chain: bool = CHAIN
) -> None:
    """Validate every file; print 'OK: N monitors, M rules' or every problem (exit 2)."""
    loaded = _load(config_dir, manifest)
    for note in loaded.notes:
        typer.echo(f"note: {note}")
    if chain:
        from fictra.cli.config_chain import check_against_chain

        check_against_chain(loaded, manifest)
    typer.echo(f"OK: {len(loaded.monitors)} monitors, {len(loaded.rules)} rules")


@app.command("show")
def show(config_dir: Path | None = CONFIG_DIR, manifest: Path | None = MANIFEST) -> None:
    """Print the effective config (defaults filled in) as YAML, secrets redacted."""
    loaded = _load(config_dir, manifest)
    typer.echo(yaml.safe_dump(loaded.redacted(), sort_keys=False, width=110).rstrip())


@app.command("docs")
def docs(
    output: Path | None = typer.Option(None, "--output", "-o", help="Write here instead of stdout."),
) -> None:
    """Generate the configuration reference (docs/configuration.md) from the models."""
    text = reference()
    if output is None:
        typer.echo(text)
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    typer.echo(f"wrote {output}")
