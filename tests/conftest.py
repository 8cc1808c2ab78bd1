from __future__ import annotations

from pathlib import Path

import pytest

from memory_core import ObjectCatalog

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"


def pytest_configure(config: pytest.Config) -> None:
    if not DATA.is_dir():
        raise pytest.UsageError(f"real test data not found at {DATA} (expected ../shared/data)")


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA


@pytest.fixture(scope="session")
def catalog() -> ObjectCatalog:
    return ObjectCatalog.from_ai2thor_metadata(DATA / "ai2thor_object_metadata")
