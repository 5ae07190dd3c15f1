"""Log/calldata decoding: the one-word fast path agrees with eth_abi; odd inputs raise DecodeError."""

from __future__ import annotations

import dataclasses

import pytest

from fictra.chain.decode import DecodeError, EventDecoder, FunctionDecoder, event_decoders, normalize
from fictra.rules.synthetic import event_log

ABI = {
    "type": "event",
    "name": "Odd",
    "inputs": [
        {"name": "delta", "type": "int256", "indexed": True},
        {"name": "who", "type": "address", "indexed": True},
        {"name": "flag", "type": "bool", "indexed": False},
        {"name": "tag", "type": "bytes4", "indexed": False},
        {"name": "bps", "type": "uint16", "indexed": False},
        {"name": "", "type": "int8", "indexed": False},
    ],
}
WHO = "0x" + "Ab" * 20


def test_fast_path_matches_eth_abi() -> None:
    [dec] = event_decoders([ABI])
    assert dec.simple
    log = event_log(
        "0x" + "11" * 20,
        "Odd(int256,address,bool,bytes4,uint16,int8)",
        [("int256", -5), ("address", WHO)],
        [("bool", True), ("bytes4", b"\xde\xad\xbe\xef"), ("uint16", 65535), ("int8", -128)],
    )
    fast = dec.decode(log)
    slow = dataclasses.replace(dec, simple=False).decode(log)
    assert (
        fast
        == slow
        == {"delta": -5, "who": WHO.lower(), "flag": True, "tag": "0xdeadbeef", "bps": 65535, "arg5": -128}
    )


def test_dynamic_types_take_the_eth_abi_path_and_indexed_dynamic_values_stay_hashes() -> None:
    abi = {
        "type": "event",
        "name": "Named",
        "inputs": [
            {"name": "key", "type": "string", "indexed": True},
            {"name": "owners", "type": "address[]", "indexed": False},
            {"name": "blob", "type": "bytes", "indexed": False},
            {
                "name": "pair",
                "type": "tuple",
                "indexed": False,
                "components": [{"name": "a", "type": "address"}, {"name": "n", "type": "uint8"}],
            },
        ],
    }
    [dec] = event_decoders([abi])
    assert not dec.simple
    hashed = "0x" + "CD" * 32
    log = event_log(
        "0x" + "11" * 20,
        "Named(string,address[],bytes,(address,uint8))",
        [("bytes32", bytes.fromhex("cd" * 32))],
        [("address[]", [WHO]), ("bytes", b"\x01"), ("(address,uint8)", (WHO, 7))],
    )
    args = dec.decode(log)
    assert args == {"key": hashed.lower(), "owners": [WHO.lower()], "blob": "0x01", "pair": [WHO.lower(), 7]}


def test_malformed_logs_and_calldata_raise_decode_error() -> None:
    [dec] = event_decoders([ABI])
    log = event_log(
        "0x" + "11" * 20,
        "Odd(int256,address,bool,bytes4,uint16,int8)",
        [("int256", 1), ("address", WHO)],
        [("bool", True)],
    )
    with pytest.raises(DecodeError, match="Odd: 32 data bytes, expected 128"):
        dec.decode(log)
    with pytest.raises(DecodeError, match="Odd: 1 topics, expected 3"):
        dec.decode(dataclasses.replace(log, topics=log.topics[:1]))
    slow = EventDecoder.from_abi({**ABI, "inputs": [*ABI["inputs"], {"name": "s", "type": "string"}]})
    with pytest.raises(DecodeError):
        slow.decode(dataclasses.replace(log, data="0x12"))
    fn = FunctionDecoder.from_abi(
        {"type": "function", "name": "f", "inputs": [{"name": "x", "type": "uint256"}]}
    )
    with pytest.raises(DecodeError, match="f:"):
        fn.decode(fn.selector + "00")


def test_normalize_nested_values() -> None:
    assert normalize([(WHO, b"\x02")], "(address,bytes1)[]") == [[WHO.lower(), "0x02"]]
    assert normalize([[1, 2]], "uint8[2][]") == [[1, 2]]
