"""The audit tests' platform key, registered as the seal key of the test's database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fictra.audit import seal
from fictra.audit.signing import AuditSigner


@pytest.fixture
def signer(database_url: str) -> Iterator[AuditSigner]:
    """The platform's audit key for this test: signs checkpoints and seals every entry recorded."""
    key = AuditSigner.generate()
    seal.register(database_url=database_url, signer=key)
    yield key
    seal.forget(database_url)
