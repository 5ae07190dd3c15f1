"""fictra.chain.revert: custom errors from the shipped ABIs, Error(string), Panic(uint256), bad data."""

from __future__ import annotations

import pytest
from contractkit import Actors, System
from eth_abi.abi import encode
from eth_utils.crypto import keccak

from fictra.chain.revert import decode_revert, known_errors, revert_data_from

ADDR = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


def _error(signature: str, types: list[str], values: list[object]) -> bytes:
    return keccak(text=signature)[:4] + encode(types, values)


def test_custom_error_with_named_args() -> None:
    data = _error("PaymentTokenFeeAboveMaximum(uint16,uint16)", ["uint16", "uint16"], [500, 100])
    error = decode_revert(data, context="PaymentToken.setFee")
    assert error.user_message == "PaymentToken.setFee reverted: PaymentTokenFeeAboveMaximum(fee=500, max=100)"
    assert (error.error_name, error.error_args) == ("PaymentTokenFeeAboveMaximum", (500, 100))


def test_openzeppelin_error_with_address_and_bytes32_from_hex_string() -> None:
    role = keccak(text="RESERVE_ROLE")
    data = _error("AccessControlUnauthorizedAccount(address,bytes32)", ["address", "bytes32"], [ADDR, role])
    error = decode_revert("0x" + data.hex())
    assert error.error_name == "AccessControlUnauthorizedAccount"
    assert error.error_args == (ADDR, role)
    assert f"account={ADDR}" in error.user_message and "neededRole=0x" + role.hex() in error.user_message


def test_error_without_args_and_bytes32_sovereign() -> None:
    assert decode_revert(keccak(text="PaymentTokenTradingHalted()")[:4]).error_args == ()
    sid = b"SOVEREIGN-1".ljust(32, b"\x00")
    data = _error(
        "FoundationTokenAllocationExceeded(bytes32,uint256,uint256)",
        ["bytes32", "uint256", "uint256"],
        [sid, 5, 3],
    )
    error = decode_revert(data)
    assert error.error_args == (sid, 5, 3)
    assert "requested=5, remaining=3" in error.user_message


def test_error_string_and_panic() -> None:
    error = decode_revert(bytes.fromhex("08c379a0") + encode(["string"], ["UniswapV2: TRANSFER_FAILED"]))
    assert (error.error_name, error.error_args) == ("Error", ("UniswapV2: TRANSFER_FAILED",))
    assert "UniswapV2: TRANSFER_FAILED" in error.user_message
    panic = decode_revert(bytes.fromhex("4e487b71") + encode(["uint256"], [0x11]))
    assert (panic.error_name, panic.error_args) == ("Panic", (0x11,))
    assert "overflow" in panic.user_message


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (None, "no reason given"),
        ("0x", "no reason given"),
        ("0x1234", "no reason given"),
        ("0xdeadbeef", "unknown custom error 0xdeadbeef"),
        ("0x08c379a0ff", "undecodable revert data"),
        ("nothex", "no reason given"),
    ],
)
def test_unknown_or_broken_data_still_reads_well(data: str | None, expected: str) -> None:
    error = decode_revert(data)
    assert expected in error.user_message
    assert error.error_name is None


def test_known_errors_cover_every_fictra_contract() -> None:
    names = {d.name for d in known_errors().values()}
    for name in (
        "FoundationTokenUnauthorizedTransfer", "PaymentTokenBlockedAddress", "ReserveInsufficientCollateral",
        "CommodityFeedAlreadySubmitted", "CommodityFeedInvalidRound", "EmergencyControllerTradingNotHalted",
        "TimelockUnexpectedOperationState", "GovernorUnexpectedProposalState", "EnforcedPause",
        "OwnableUnauthorizedAccount", "ERC20InsufficientBalance",
    ):  # fmt: skip
        assert name in names, name


def test_revert_data_from_rpc_errors_and_exceptions() -> None:
    assert (
        revert_data_from({"code": 3, "message": "execution reverted", "data": "0xabcdef01"}) == "0xabcdef01"
    )
    assert revert_data_from({"code": 3, "data": {"data": "0x01020304"}}) == "0x01020304"
    assert revert_data_from({"code": -32000, "message": "out of gas"}) is None

    class Reverted(Exception):
        data = "0xcafebabe"

    assert revert_data_from(Reverted()) == "0xcafebabe"
    assert revert_data_from(ValueError({"data": "0x11223344"})) == "0x11223344"
    assert revert_data_from(ValueError("plain")) is None


async def test_decodes_the_error_web3_raises_for_a_reverting_call(system: System, who: Actors) -> None:
    with pytest.raises(Exception) as caught:
        await system.c("PaymentToken").functions.setFee(500).call({"from": who.fee_manager})
    data = revert_data_from(caught.value)
    assert data is not None, repr(caught.value)
    error = decode_revert(data, context="PaymentToken.setFee")
    assert (error.error_name, error.error_args) == ("PaymentTokenFeeAboveMaximum", (500, 100))
