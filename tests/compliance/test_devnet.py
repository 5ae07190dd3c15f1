"""On a real Anvil with the deployed FICTRA contracts: a PaymentToken transfer to an address of the OFAC
fixture is a P0 in its own block (decoded from the real Transfer log); the list's next version delists it,
the re-screen closes the hit and the alert resolves at the next block."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from eth_utils.address import to_checksum_address
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from compliance.helpers import DELISTED, FIXTURES
from fictra.alerting.models import Alert
from fictra.chain.fetch import fetch_blocks
from fictra.chain.manifest import Manifest
from fictra.chain.pool import RpcPool
from fictra.chain.types import BlockBatch
from fictra.clock import FakeClock, SystemClock
from fictra.compliance.config import ComplianceConfig, ScreeningConfig
from fictra.compliance.lists import import_list
from fictra.compliance.monitor import SCREENING, ScreeningMonitor
from fictra.compliance.screening import load_index, rescreen
from fictra.devnet.accounts import role
from fictra.devnet.anvil import AnvilNode, rpc_call
from fictra.devnet.chainutil import DevChain
from fictra.devnet.deploy import deploy_system
from fictra.monitors.pipeline import AlertPipeline

EVERY_BLOCK = ComplianceConfig(screening=ScreeningConfig(reload_every=0))  # look at every block


@pytest.fixture
async def deployed(shared_anvil: AnvilNode) -> AsyncIterator[tuple[str, Manifest]]:
    url = shared_anvil.rpc_url
    snap = rpc_call(url, "evm_snapshot")
    try:
        yield url, await deploy_system(url)
    finally:
        rpc_call(url, "evm_revert", [snap], timeout=10)


async def _import(session: AsyncSession, name: str, clock: FakeClock) -> None:
    data = (FIXTURES / name).read_bytes()
    await import_list(
        session, list_name="ofac-sdn", fmt="ofac_sdn_xml", data=data, file_name=name, actor="co", clock=clock
    )
    await rescreen(session, index=await load_index(session), threshold=0.9, clock=clock)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_transfer_to_listed_address_is_p0_in_its_block(
    deployed: tuple[str, Manifest], sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    url, manifest = deployed
    pool = RpcPool(network="devnet", urls=[url], clock=SystemClock(), chain_id=manifest.chain_id)
    await pool.start()
    monitor = ScreeningMonitor(config=EVERY_BLOCK, manifest=manifest, clock=clock)
    pipeline = AlertPipeline(monitors=[monitor], clock=clock)
    async with sessions.begin() as session:
        await _import(session, "sdn_advanced_v1.xml", clock)
    try:
        async with DevChain(url, manifest) as dev:
            seen = await dev.head()

            async def step() -> None:
                nonlocal seen
                head = await dev.head()
                blocks = await fetch_blocks(pool, first=seen + 1, last=head)
                seen = head
                async with sessions.begin() as session:
                    await pipeline.on_batch(BlockBatch("devnet", tuple(blocks), head, True), session)

            trader = role("traders")[0].address
            receipt = await dev.send(
                trader, "PaymentToken", "transfer", to_checksum_address(DELISTED), 10**18
            )
            await step()
            async with sessions() as session:
                alert = await session.scalar(select(Alert).where(Alert.monitor == SCREENING))
            assert alert is not None and (alert.severity, alert.status) == ("P0", "firing")
            assert alert.block_number == receipt["blockNumber"]  # within the transfer's block
            assert alert.labels["subject"] == DELISTED and alert.evidence["direction"] == "to"
            assert alert.evidence["from"] == trader.lower() and alert.tx_hashes == [
                receipt["transactionHash"].to_0x_hex()
            ]

            async with sessions.begin() as session:  # version 2 delists entry 41002
                await _import(session, "sdn_advanced_v2.xml", clock)
            await dev.send(trader, "PaymentToken", "transfer", role("traders")[1].address, 10**18)
            await step()
            async with sessions() as session:
                alert = await session.scalar(select(Alert).where(Alert.monitor == SCREENING))
            assert alert is not None and alert.status == "resolved"
    finally:
        await pool.aclose()
