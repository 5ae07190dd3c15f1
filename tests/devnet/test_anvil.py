from __future__ import annotations

import pytest

from fictra.devnet.accounts import account
from fictra.devnet.anvil import AnvilNode, rpc_call
from fictra.errors import DevnetError


def test_anvil_starts_with_the_deterministic_accounts(anvil: AnvilNode) -> None:
    accounts = rpc_call(anvil.rpc_url, "eth_accounts")
    assert isinstance(accounts, list)
    assert accounts[0].lower() == account(0).address.lower()
    assert accounts[13].lower() == account(13).address.lower()
    assert int(str(rpc_call(anvil.rpc_url, "eth_chainId")), 16) == 31337


def test_busy_port_is_a_clear_error_and_starts_nothing(anvil: AnvilNode) -> None:
    second = AnvilNode(port=anvil.port)
    with pytest.raises(DevnetError, match=f"Port {anvil.port} .* already in use"):
        second.start()
    assert second.process is None


def test_missing_anvil_binary(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("FICTRA_ANVIL", str(tmp_path / "nope"))
    with pytest.raises(DevnetError, match="not an executable file"):
        AnvilNode().start()
