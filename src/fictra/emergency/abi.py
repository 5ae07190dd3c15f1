"""Encoding calls, decoding results and events with the shipped artifacts (offline: no provider).

The emergency code talks to the chain through :class:`fictra.chain.pool.RpcPool` with raw JSON-RPC;
this module turns (artifact, function, args) into call data and answers back into Python values, and
names the events a simulation or a receipt emitted.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode
from eth_abi.exceptions import DecodingError
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from fictra.chain import artifacts
from fictra.chain.revert import abi_type
from fictra.errors import ConfigError

__all__ = ["decode_log", "decode_output", "encode_call", "function_names", "selector"]


@cache
def _function(artifact: str, fn: str) -> dict[str, Any]:
    for entry in artifacts.load(artifact).entries("function"):
        if entry.get("name") == fn:
            return entry
    raise ConfigError(f"Artifact '{artifact}' has no function '{fn}'.")


def selector(artifact: str, fn: str) -> str:
    entry = _function(artifact, fn)
    signature = f"{fn}({','.join(abi_type(p) for p in entry.get('inputs', []))})"
    return "0x" + keccak(text=signature)[:4].hex()


def function_names(artifact: str, fns: tuple[str, ...]) -> dict[str, str]:
    """{selector: name} for ``fns`` of ``artifact`` (a signer's allow-list)."""
    return {selector(artifact, fn): fn for fn in fns}


def encode_call(artifact: str, fn: str, *args: Any) -> str:
    entry = _function(artifact, fn)
    types = [abi_type(p) for p in entry.get("inputs", [])]
    return selector(artifact, fn) + abi_encode(types, list(args)).hex()


def decode_output(artifact: str, fn: str, data: str) -> tuple[Any, ...]:
    entry = _function(artifact, fn)
    types = [abi_type(p) for p in entry.get("outputs", [])]
    raw = bytes.fromhex(data.removeprefix("0x"))
    return tuple(abi_decode(types, raw))


@cache
def _events() -> dict[str, tuple[str, dict[str, Any]]]:
    table: dict[str, tuple[str, dict[str, Any]]] = {}
    for name in artifacts.names():
        for entry in artifacts.load(name).entries("event"):
            signature = f"{entry['name']}({','.join(abi_type(p) for p in entry.get('inputs', []))})"
            table.setdefault("0x" + keccak(text=signature).hex(), (name, entry))
    return table


def _show(value: Any, typ: str) -> Any:
    if typ == "address" and isinstance(value, str):
        return to_checksum_address(value)
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, tuple | list):
        return [_show(v, typ.rstrip("[]0123456789")) for v in value]
    return value


def decode_log(topics: list[str], data: str) -> tuple[str, dict[str, Any]] | None:
    """(event name, {arg: value}) for a log whose first topic is a known event; None otherwise."""
    if not topics:
        return None
    found = _events().get(topics[0].lower())
    if found is None:
        return None
    _, entry = found
    inputs = entry.get("inputs", [])
    indexed = [p for p in inputs if p.get("indexed")]
    plain = [p for p in inputs if not p.get("indexed")]
    args: dict[str, Any] = {}
    try:
        for param, topic in zip(indexed, topics[1:], strict=False):
            typ = abi_type(param)
            if typ in ("string", "bytes") or typ.endswith("]") or typ.startswith("("):
                args[param["name"]] = topic  # hashed in the topic
            else:
                (value,) = abi_decode([typ], bytes.fromhex(topic.removeprefix("0x")))
                args[param["name"]] = _show(value, typ)
        values = abi_decode([abi_type(p) for p in plain], bytes.fromhex(data.removeprefix("0x")))
    except (DecodingError, ValueError):
        return str(entry["name"]), {"undecoded": data}
    for param, value in zip(plain, values, strict=True):
        args[param["name"]] = _show(value, abi_type(param))
    return str(entry["name"]), args
