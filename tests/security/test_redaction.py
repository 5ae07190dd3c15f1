"""Finding 7: provider keys in RPC URL paths (/v2/KEY, /v3/KEY) were shown in messages and metric labels."""

from __future__ import annotations

import pytest

from fictra.errors import redact_url


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://eth-mainnet.g.alchemy.com/v2/AbCdEf123456", "https://eth-mainnet.g.alchemy.com/v2/***"),
        ("https://mainnet.infura.io/v3/0123456789abcdef0123456789abcdef", "https://mainnet.infura.io/v3/***"),
        ("https://rpc.example/abcdefghijklmnopqrstuvwxyz0123", "https://rpc.example/***"),
        ("https://user:pw@rpc.example/path?key=1", "https://***@rpc.example/path?***"),
        ("http://127.0.0.1:8545", "http://127.0.0.1:8545"),
        ("http://127.0.0.1:8545/", "http://127.0.0.1:8545/"),
        ("https://rpc.example/eth/mainnet", "https://rpc.example/eth/mainnet"),
    ],
)
def test_keys_in_paths_are_redacted(url: str, shown: str) -> None:
    assert redact_url(url) == shown
