"""AML typologies planted by the generator (AMLSim parameters) into 2,400 blocks of normal traffic, read
by the screening monitor from PaymentToken Transfer logs through the real alert pipeline and store:
per-typology recall ≥ 0.95 at precision ≥ 0.9 against the generator's labels, computed from the alerts.
(The stream is built in memory and fed as blocks; it is not written to a devnet: docs/compliance.md.)"""

from __future__ import annotations

from datetime import timedelta
from itertools import islice

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from compliance.helpers import PT, batch, manifest
from fictra.alerting.models import Alert
from fictra.clock import FakeClock
from fictra.compliance.config import AmlConfig, ComplianceConfig
from fictra.compliance.monitor import AML, ScreeningMonitor
from fictra.compliance.typologies import TYPOLOGIES
from fictra.devnet.typologies import blocks_of, generate
from fictra.monitors.pipeline import AlertPipeline

DORMANT = 1_800  # seconds of silence before "dormant then active" (the stream spans 80 minutes)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # storage is covered elsewhere
async def test_recall_and_precision_per_typology(sessions: async_sessionmaker[AsyncSession]) -> None:
    gen = generate(seed=11, blocks=2_400, dormant_after=DORMANT)
    config = ComplianceConfig(aml=AmlConfig(dormant_after=timedelta(seconds=DORMANT)))
    monitor = ScreeningMonitor(config=config, manifest=manifest(), clock=FakeClock())
    pipeline = AlertPipeline(monitors=[monitor], clock=FakeClock())
    blocks = blocks_of(gen, token_address=PT)
    while chunk := tuple(islice(blocks, 400)):
        async with sessions.begin() as session:
            await pipeline.on_batch(batch(*chunk), session)
    async with sessions() as session:
        rows = (await session.execute(select(Alert.labels).where(Alert.monitor == AML))).scalars().all()
    found: dict[str, set[str]] = {t: set() for t in TYPOLOGIES}
    for labels in rows:
        found[labels["typology"]].add(labels["subject"])
    assert monitor.aml is not None and monitor.aml.transfers > 5_000  # besides the 5,000 mints
    for typology in TYPOLOGIES:
        planted, detected = gen.labels[typology], found[typology]
        assert len(planted) >= 8, typology
        hits = len(planted & detected)
        recall, precision = hits / len(planted), hits / max(1, len(detected))
        assert recall >= 0.95 and precision >= 0.9, (
            typology,
            recall,
            precision,
            sorted(detected - planted)[:3],
        )
