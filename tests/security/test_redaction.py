"""Finding 7: provider keys in RPC URL paths (/v2/KEY, /v3/KEY) were shown in messages and metric labels."""

from __future__ import annotations

import pytest
from prometheus_client import generate_latest

from fictra.devnet.anvil import AnvilNode
from fictra.errors import RpcError, redact_url


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


async def test_metric_labels_are_endpoint_names_not_urls(anvil: AnvilNode) -> None:
    """Finding 7: endpoint URLs (keys in the path, hosts) were metric labels; the names from
    network.yaml are."""
    from fictra.chain.pool import RpcPool
    from fictra.clock import SystemClock
    from fictra.metrics import new_registry

    metrics = new_registry()
    key = "k" * 32
    pool = RpcPool(
        network="mainnet",
        urls=[f"{anvil.rpc_url.rstrip('/')}/v3/{key}"],
        names=["alchemy-primary"],
        clock=SystemClock(),
        metrics=metrics,
    )
    try:  # Anvil answers 404 on a keyed path: the failure is counted under the endpoint's name
        with pytest.raises(RpcError):
            await pool.start()
            await pool.call("eth_blockNumber", [])
    finally:
        await pool.aclose()
    exposed = generate_latest(metrics.registry).decode()
    assert 'endpoint="alchemy-primary"' in exposed
    assert key not in exposed and "127.0.0.1" not in exposed and "fictra_endpoint_up" in exposed
    assert pool.endpoints[0].health.name == "alchemy-primary" and key not in pool.endpoints[0].health.url
