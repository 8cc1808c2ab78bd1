from __future__ import annotations

import pytest

from sim import SceneRegistry
from tests.conftest import DATA


@pytest.fixture(scope="session")
def registry() -> SceneRegistry:
    return SceneRegistry(DATA)
