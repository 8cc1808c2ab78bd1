"""What every store must do, run on SQLite and on a real PostgreSQL server alike: exact
round trips, incremental commits equal to a full save, every batch atomic, foreign and
newer schemas refused without writing, URLs opened as the right store."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from memory_core import (
    ChangeSet,
    Event,
    ForeignStoreError,
    Layer,
    Memory,
    ObjectCatalog,
    ObjectObservation,
    Relation,
    SceneEdge,
    SceneNode,
    SchemaVersionError,
    SQLiteStore,
    StoreError,
)
from memory_core.importers import import_procthor_house
from memory_core.store import MemoryStore, open_store
from tests.memory_core.store.test_sqlite import HOUSE, _memory

Opener = Callable[[], MemoryStore]


@pytest.fixture(params=["sqlite", "postgres"])
def opener(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Opener]:
    """Opens the same store again each call (a new process would)."""
    if request.param == "sqlite":
        path = tmp_path / "m.db"
        yield lambda: SQLiteStore(path)
    else:
        url = request.getfixturevalue("pg_url")
        yield lambda: open_store(url, robot="r1")


def test_save_load_round_trips_exactly(opener: Opener, catalog: ObjectCatalog) -> None:
    mem = _memory(catalog)
    store = opener()
    mem.save(store)
    store.close()
    store = opener()
    loaded = Memory(catalog=catalog)
    loaded.load(store)
    store.close()
    assert loaded.snapshot() == mem.snapshot()
    assert [n.id for n in loaded.graph.find_by_label("Apple")] == [
        n.id for n in mem.graph.find_by_label("Apple")
    ]
    assert loaded.graph.room_path("room|4", "room|5") == mem.graph.room_path("room|4", "room|5")


def test_incremental_commits_equal_a_full_save(opener: Opener, catalog: ObjectCatalog) -> None:
    mem = Memory(graph=import_procthor_house(HOUSE, catalog), catalog=catalog)
    store = opener()
    mem.save(store)
    table = mem.graph.find_by_label("DiningTable")[0]
    for step in range(3):
        mem.observe(
            [
                ObjectObservation(
                    "Cup",
                    (table.position[0] + 0.1 * step, 0.9, table.position[2]),
                    object_id="cup",
                    timestamp=float(step + 1),
                )
            ]
        )
        if step == 0:
            mem.episodic.begin_episode("e", "", 0.0)
            mem.episodic.begin_episode("old", "", 0.0)
        mem.record(Event(float(step + 1), "e", "look"))
        if step == 2:
            mem.episodic.end_episode("e", 3.5, "success")
        sent = mem.commit(store)
        # Only episodes begun or ended since the last commit travel (all of them, every
        # commit, made a lifelong memory's commits grow without end).
        assert [e.episode_id for e in sent.episodes] == (
            ["e", "old"] if step == 0 else ["e"] if step == 2 else []
        )
        assert mem.pending_changes().episodes == ()
    store.close()
    reloaded = Memory(catalog=catalog)
    store = opener()
    reloaded.load(store)
    store.close()
    assert reloaded.snapshot() == mem.snapshot()


def test_a_batch_that_fails_midway_writes_nothing(opener: Opener) -> None:
    store = opener()
    store.write(ChangeSet(nodes=(SceneNode("a", Layer.OBJECT, "Mug", (0.0, 0.0, 0.0)),)))
    # The node is written before the edge, whose attributes cannot be encoded.
    bad = ChangeSet(
        nodes=(SceneNode("b", Layer.OBJECT, "Mug", (1.0, 0.0, 0.0), last_seen=5.0),),
        edge_nodes=("b",),
        edges=(SceneEdge("b", "a", Relation.NEAR, {"why": {1, 2}}),),
    )
    with pytest.raises(StoreError, match="nothing was written"):
        store.write(bad)
    assert {n.id for n in store.load().nodes} == {"a"}
    store.close()


def test_urls_open_the_right_store(tmp_path: Path) -> None:
    assert isinstance(open_store(tmp_path / "a.db"), SQLiteStore)
    rel = open_store(f"sqlite:///{tmp_path}/b.db")
    assert isinstance(rel, SQLiteStore) and rel.path == tmp_path / "b.db"
    rel.close()
    with pytest.raises(StoreError, match="unknown store URL"):
        open_store("mysql://somewhere/db")


def test_postgres_refuses_foreign_and_newer_schemas_without_writing(pg_url: str) -> None:
    import psycopg

    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA loci")
        conn.execute("CREATE TABLE loci.invoices(id INTEGER PRIMARY KEY, total REAL)")
    with pytest.raises(ForeignStoreError, match="another application"):
        open_store(pg_url)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        tables = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'loci'"
        ).fetchall()
        assert tables == [("invoices",)]  # not touched
        conn.execute("DROP SCHEMA loci CASCADE")
    open_store(pg_url).close()  # a fresh schema
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("UPDATE loci.meta SET value = '2' WHERE key = 'schema_version'")
        before = conn.execute("SELECT count(*) FROM loci.nodes").fetchone()
    with pytest.raises(SchemaVersionError, match="newer"):
        open_store(pg_url)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        assert conn.execute("SELECT count(*) FROM loci.nodes").fetchone() == before
        conn.execute("UPDATE loci.meta SET value = 'other' WHERE key = 'application'")
    with pytest.raises(ForeignStoreError, match="not a Loci store"):
        open_store(pg_url)
