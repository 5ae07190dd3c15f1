"""`fictra config check --chain`: the amount thresholds against the tokens' real supply and decimals."""

from __future__ import annotations

from pathlib import Path

import httpx
import typer

from fictra.chain.manifest import Manifest
from fictra.config.problems import ConfigProblems
from fictra.errors import ConfigError
from fictra.monitors.thresholds import Token, check_thresholds
from fictra.platform.config_set import ConfigSet

TOKENS = ("PaymentToken", "FoundationToken")
TOTAL_SUPPLY, DECIMALS = "0x18160ddd", "0x313ce567"


def _manifest(loaded: ConfigSet, given: Path | None) -> Manifest:
    if given is not None:
        return Manifest.load(given)
    if not loaded.network.manifest:
        raise ConfigError(
            "config check --chain needs the deployment manifest: give --manifest PATH or set "
            "network.yaml:manifest."
        )
    path = Path(loaded.network.manifest)
    return Manifest.load(path if path.is_absolute() else loaded.config_dir / path)


def _call(url: str, address: str, data: str) -> int:
    payload = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "eth_call",
        "params": [{"to": address, "data": data}, "latest"],
    }
    try:
        answer = httpx.post(url, json=payload, timeout=10).json()
    except (httpx.HTTPError, ValueError) as exc:
        raise ConfigError(f"Cannot read {address} from the endpoint ({type(exc).__name__}: {exc}).") from None
    result = answer.get("result") if isinstance(answer, dict) else None
    if not isinstance(result, str) or result in ("", "0x"):
        raise ConfigError(f"The endpoint gave no answer for {address} ({answer!r}); is the manifest current?")
    return int(result, 16)


def check_against_chain(loaded: ConfigSet, manifest_path: Path | None) -> None:
    """Read every token's supply and decimals and judge the thresholds; problems exit 2."""
    from fictra.platform.assemble import endpoint_urls

    manifest = _manifest(loaded, manifest_path)
    url = endpoint_urls(loaded)[0]
    tokens = {
        name: Token(
            name=name,
            total_supply=_call(url, manifest.contracts[name].address, TOTAL_SUPPLY),
            decimals=_call(url, manifest.contracts[name].address, DECIMALS),
        )
        for name in TOKENS
        if name in manifest.contracts
    }
    report = check_thresholds(loaded.monitors, loaded.rules, tokens)
    for name, token in tokens.items():
        typer.echo(
            f"chain: {name} total supply {token.units(token.total_supply)} ({token.decimals} decimals)"
        )
    for warning in report.warnings:
        typer.echo(f"warning: {warning}")
    if report.problems:
        raise ConfigProblems(loaded.config_dir, report.problems)
