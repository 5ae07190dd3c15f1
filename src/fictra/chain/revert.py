"""Decode revert data into readable messages and :class:`~fictra.errors.ContractError` values.

Knows every custom error in the shipped ABIs (``fictra.chain.artifacts``), plus the built-in
``Error(string)`` and ``Panic(uint256)``. Example: ``PaymentTokenFeeAboveMaximum(fee=500, max=100)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_abi.exceptions import DecodingError
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from fictra.chain import artifacts
from fictra.errors import ContractError

ERROR_STRING_SELECTOR = "0x08c379a0"
PANIC_SELECTOR = "0x4e487b71"

PANIC_CODES: dict[int, str] = {
    0x00: "generic compiler panic",
    0x01: "assert failed",
    0x11: "arithmetic overflow or underflow",
    0x12: "division or modulo by zero",
    0x21: "invalid enum value",
    0x22: "invalid storage byte array",
    0x31: "pop on an empty array",
    0x32: "array index out of bounds",
    0x41: "out of memory",
    0x51: "call to an invalid internal function",
}


@dataclass(frozen=True)
class ErrorDef:
    name: str
    arg_names: tuple[str, ...]
    arg_types: tuple[str, ...]

    @property
    def signature(self) -> str:
        return f"{self.name}({','.join(self.arg_types)})"


def abi_type(param: dict[str, Any]) -> str:
    """The canonical ABI type of a JSON-ABI parameter (tuples spelled out: ``(uint256,address)[]``)."""
    kind = str(param["type"])
    if kind.startswith("tuple"):
        inner = ",".join(abi_type(c) for c in param.get("components", []))
        return f"({inner}){kind[len('tuple') :]}"
    return kind


@cache
def known_errors() -> dict[str, ErrorDef]:
    """Selector (0x-hex, 4 bytes) -> error definition, over every shipped ABI."""
    table: dict[str, ErrorDef] = {}
    for abi in artifacts.all_abis().values():
        for entry in abi:
            if entry.get("type") != "error":
                continue
            inputs = entry.get("inputs", [])
            definition = ErrorDef(
                name=str(entry["name"]),
                arg_names=tuple(str(p.get("name") or f"arg{i}") for i, p in enumerate(inputs)),
                arg_types=tuple(abi_type(p) for p in inputs),
            )
            selector = "0x" + keccak(text=definition.signature)[:4].hex()
            table.setdefault(selector, definition)
    return table


def _normalise(data: bytes | str | None) -> bytes:
    if data is None:
        return b""
    if isinstance(data, bytes):
        return data
    text = data[2:] if data.startswith(("0x", "0X")) else data
    try:
        return bytes.fromhex(text)
    except ValueError:
        return b""


def _format(value: object, abi_type: str) -> str:
    if abi_type == "address" and isinstance(value, str):
        return to_checksum_address(value)
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_format(v, abi_type.rstrip("[]0123456789")) for v in value) + "]"
    if isinstance(value, str):
        return repr(value)
    return str(value)


def _convert(value: object, abi_type: str) -> object:
    if abi_type == "address" and isinstance(value, str):
        return to_checksum_address(value)
    return value


def decode_revert(data: bytes | str | None, *, context: str = "") -> ContractError:
    """A :class:`ContractError` for revert ``data``; ``context`` (e.g. "PaymentToken.setFee") prefixes
    the message. Unknown or empty data still gives a readable error (``error_name`` None)."""
    raw = _normalise(data)
    prefix = f"{context} reverted: " if context else "Reverted: "
    if len(raw) < 4:
        return ContractError(prefix + "no reason given (empty revert data).")
    selector, body = "0x" + raw[:4].hex(), raw[4:]
    try:
        if selector == ERROR_STRING_SELECTOR:
            (reason,) = abi_decode(["string"], body)
            return ContractError(prefix + f"Error({reason!r})", error_name="Error", error_args=(reason,))
        if selector == PANIC_SELECTOR:
            (code,) = abi_decode(["uint256"], body)
            meaning = PANIC_CODES.get(int(code), "unknown panic code")
            return ContractError(
                prefix + f"Panic(0x{int(code):02x}: {meaning})", error_name="Panic", error_args=(int(code),)
            )
        definition = known_errors().get(selector)
        if definition is None:
            return ContractError(prefix + f"unknown custom error {selector} (data 0x{raw.hex()}).")
        values = abi_decode(list(definition.arg_types), body)
    except (DecodingError, OverflowError, ValueError):
        return ContractError(prefix + f"undecodable revert data 0x{raw.hex()}.")
    args = tuple(_convert(v, t) for v, t in zip(values, definition.arg_types, strict=True))
    shown = ", ".join(
        f"{n}={_format(v, t)}"
        for n, v, t in zip(definition.arg_names, values, definition.arg_types, strict=True)
    )
    return ContractError(prefix + f"{definition.name}({shown})", error_name=definition.name, error_args=args)


def revert_data_from(error: object) -> str | None:
    """The 0x-hex revert data carried by a JSON-RPC error object or a web3 exception, if any."""
    if isinstance(error, dict):
        data = error.get("data")
        if isinstance(data, dict):
            data = data.get("data")
        return data if isinstance(data, str) and data.startswith("0x") else None
    data = getattr(error, "data", None)
    if isinstance(data, str) and data.startswith("0x"):
        return data
    if isinstance(data, bytes):
        return "0x" + data.hex()
    for arg in getattr(error, "args", ()):
        found = revert_data_from(arg) if isinstance(arg, dict) else None
        if found:
            return found
    return None
