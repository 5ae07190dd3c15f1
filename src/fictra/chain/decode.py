"""Decode logs and calldata against an ABI into the plain values CEL rules see.

Ints stay ints, addresses become lower-case 0x-hex, bytes become 0x-hex, arrays and tuples become
lists. Indexed dynamic values (string, bytes, arrays) are only a hash in the topic: they stay 0x-hex.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from eth_abi.abi import decode as abi_decode
from eth_abi.exceptions import DecodingError
from eth_utils.abi import collapse_if_tuple, event_abi_to_log_topic, function_abi_to_4byte_selector

from fictra.chain.types import Log

AbiEntry = dict[str, Any]
_STATIC_INDEXABLE = ("address", "bool", "int", "uint", "bytes")


class DecodeError(ValueError):
    """A log or calldata does not match the ABI entry chosen for it."""


def _tuple_types(abi_type: str) -> list[str]:
    """``(address,(uint256,bytes)[])`` -> ``["address", "(uint256,bytes)[]"]``."""
    inner, depth, parts, current = abi_type[1:-1], 0, [], ""
    for ch in inner:
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
            continue
        depth += ch == "("
        depth -= ch == ")"
        current += ch
    return [*parts, current] if current else parts


def normalize(value: Any, abi_type: str) -> Any:
    """A decoded ABI value as CEL sees it (see the module docstring)."""
    if abi_type.endswith("]"):
        inner = abi_type[: abi_type.rindex("[")]
        return [normalize(v, inner) for v in value]
    if abi_type.startswith("("):
        return [normalize(v, t) for v, t in zip(value, _tuple_types(abi_type), strict=False)]
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    if abi_type == "address":
        return str(value).lower()
    return value


_WORD_TYPES = re.compile(r"^(address|bool|u?int\d*|bytes([1-9]|[12]\d|3[0-2]))$")


def _word(abi_type: str, word: str) -> Any:
    """Decode one 32-byte word (64 hex chars) of a simple static type without eth_abi (hot path)."""
    if abi_type == "address":
        return "0x" + word[24:].lower()
    if abi_type == "bool":
        return int(word, 16) != 0
    if abi_type.startswith("uint"):
        return int(word, 16)
    if abi_type.startswith("int"):
        value = int(word, 16)
        return value - (1 << 256) if value >> 255 else value
    size = int(abi_type[5:])
    return "0x" + word[: size * 2].lower()


def _is_static_topic(abi_type: str) -> bool:
    return (
        not abi_type.endswith("]")
        and not abi_type.startswith("(")
        and (abi_type.startswith(_STATIC_INDEXABLE) and abi_type not in ("bytes",))
    )


@dataclass(frozen=True, slots=True)
class EventDecoder:
    name: str
    topic0: str
    indexed: tuple[tuple[str, str], ...]
    data_names: tuple[str, ...]
    data_types: tuple[str, ...]
    simple: bool = False  # every topic and data value is one word of a simple static type

    @classmethod
    def from_abi(cls, entry: AbiEntry) -> EventDecoder:
        inputs = entry.get("inputs", [])
        indexed = tuple(
            (i["name"] or f"arg{n}", collapse_if_tuple(i)) for n, i in enumerate(inputs) if i.get("indexed")
        )
        data = [
            (i["name"] or f"arg{n}", collapse_if_tuple(i))
            for n, i in enumerate(inputs)
            if not i.get("indexed")
        ]
        topic = "0x" + event_abi_to_log_topic(cast(Any, entry)).hex()
        simple = all(_WORD_TYPES.match(t) for _, t in (*indexed, *data))
        return cls(
            entry["name"], topic, indexed, tuple(n for n, _ in data), tuple(t for _, t in data), simple
        )

    def decode(self, log: Log) -> dict[str, Any]:
        if len(log.topics) != len(self.indexed) + 1:
            raise DecodeError(f"{self.name}: {len(log.topics)} topics, expected {len(self.indexed) + 1}")
        if self.simple:
            return self._decode_words(log)
        args: dict[str, Any] = {}
        try:
            for (name, abi_type), topic in zip(self.indexed, log.topics[1:], strict=True):
                if _is_static_topic(abi_type):
                    (value,) = abi_decode([abi_type], bytes.fromhex(topic[2:]))
                    args[name] = normalize(value, abi_type)
                else:
                    args[name] = topic.lower()
            if self.data_types:
                values = abi_decode(list(self.data_types), bytes.fromhex(log.data[2:]))
                for name, abi_type, value in zip(self.data_names, self.data_types, values, strict=True):
                    args[name] = normalize(value, abi_type)
        except (DecodingError, ValueError, OverflowError) as exc:
            raise DecodeError(f"{self.name}: {exc}") from None
        return args

    def _decode_words(self, log: Log) -> dict[str, Any]:
        data = log.data[2:]
        if len(data) != 64 * len(self.data_types):
            raise DecodeError(
                f"{self.name}: {len(data) // 2} data bytes, expected {32 * len(self.data_types)}"
            )
        try:
            args = {
                name: _word(t, topic[2:].rjust(64, "0"))
                for (name, t), topic in zip(self.indexed, log.topics[1:], strict=True)
            }
            for i, (name, t) in enumerate(zip(self.data_names, self.data_types, strict=True)):
                args[name] = _word(t, data[64 * i : 64 * (i + 1)])
        except ValueError as exc:
            raise DecodeError(f"{self.name}: {exc}") from None
        return args


@dataclass(frozen=True, slots=True)
class FunctionDecoder:
    name: str
    selector: str
    names: tuple[str, ...]
    types: tuple[str, ...]

    @classmethod
    def from_abi(cls, entry: AbiEntry) -> FunctionDecoder:
        inputs = entry.get("inputs", [])
        selector = "0x" + function_abi_to_4byte_selector(cast(Any, entry)).hex()
        names = tuple(i["name"] or f"arg{n}" for n, i in enumerate(inputs))
        return cls(entry["name"], selector, names, tuple(collapse_if_tuple(i) for i in inputs))

    def decode(self, calldata: str) -> dict[str, Any]:
        try:
            values = abi_decode(list(self.types), bytes.fromhex(calldata[10:])) if self.types else ()
        except (DecodingError, ValueError, OverflowError) as exc:
            raise DecodeError(f"{self.name}: {exc}") from None
        return {n: normalize(v, t) for n, t, v in zip(self.names, self.types, values, strict=True)}


def event_decoders(abi: Sequence[AbiEntry]) -> list[EventDecoder]:
    return [EventDecoder.from_abi(e) for e in abi if e.get("type") == "event" and not e.get("anonymous")]


def function_decoders(abi: Sequence[AbiEntry]) -> list[FunctionDecoder]:
    return [FunctionDecoder.from_abi(e) for e in abi if e.get("type") == "function"]
