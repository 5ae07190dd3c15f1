"""A per-test data directory whose audit key seals the test database's entries."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from fictra.audit.seal import forget, register


@pytest.fixture
def data_dir(tmp_path: Path, database_url: str) -> Iterator[Path]:
    path = tmp_path / "data"
    path.mkdir(mode=0o700)
    register(database_url=database_url, data_dir=path)
    yield path
    forget(database_url)
