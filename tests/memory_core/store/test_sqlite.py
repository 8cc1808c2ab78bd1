"""SQLite store: exact round trips, atomic batches, crash safety, refusing bad files."""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import sqlite3
from pathlib import Path

import pytest

from memory_core import (
    ChangeSet,
    CorruptStoreError,
    Event,
    ForeignStoreError,
    Layer,
    Memory,
    MemoryConfig,
    ObjectCatalog,
    ObjectObservation,
    Pose,
    SceneGraphConfig,
    SceneNode,
    SchemaVersionError,
    SQLiteStore,
    StoreError,
)
from memory_core.importers import import_procthor_house, import_spark_dsg
from memory_core.store.sqlite import APPLICATION_ID, SCHEMA_VERSION

DATA = Path(__file__).resolve().parents[4] / "shared/data"
HOUSE = DATA / "procthor_houses/houses_20/house_2.json"
DSG = DATA / "scene_graphs/spark_dsg_apartment/apartment_dsg.json"


def _memory(catalog: ObjectCatalog) -> Memory:
    mem = Memory(graph=import_procthor_house(HOUSE, catalog), catalog=catalog)
    mug = mem.graph.find_by_label("Book")[0]
    mem.observe(
        [
            ObjectObservation(
                "Book",
                (1.0, 0.9, 1.0),
                object_id=mug.id,
                timestamp=3.0,
                state={"isOpen": False, "openness": 0.25},
                embedding=(0.1, -0.2),
            ),
            ObjectObservation("Apple", (2.0, 0.9, 2.0), timestamp=3.0, confidence=0.7),
        ]
    )
    mem.episodic.begin_episode("ep", "find the book", 0.0, "house_2")
    mem.record(Event(3.0, "ep", "look", "success", (mug.id,), "room|4", Pose((1.0, 0.9, 1.0)), "x"))
    mem.episodic.end_episode("ep", 4.0, "success")
    return mem


def test_the_store_is_a_wal_database(tmp_path: Path, catalog: ObjectCatalog) -> None:
    """(Round trips, incremental commits and atomic batches are tested for every store in
    test_stores.py.)"""
    with SQLiteStore(tmp_path / "m.db") as store:
        _memory(catalog).save(store)
        assert store.integrity_check() == "ok"
    conn = sqlite3.connect(tmp_path / "m.db")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_dsg_with_poses_round_trips(tmp_path: Path) -> None:
    mem = Memory(
        MemoryConfig(scene_graph=SceneGraphConfig(up_axis="z")), graph=import_spark_dsg(DSG)
    )
    with SQLiteStore(tmp_path / "d.db") as store:
        mem.save(store)
        loaded = Memory(MemoryConfig(scene_graph=SceneGraphConfig(up_axis="z")))
        loaded.load(store)
    assert loaded.snapshot() == mem.snapshot()
    agent = loaded.graph.nodes(Layer.AGENT)[0]
    assert isinstance(agent.attrs["pose"], Pose)


def _writer(path: str, conn: mp.connection.Connection) -> None:  # runs in a child process
    store = SQLiteStore(path)
    for b in range(5):
        nodes = tuple(SceneNode(f"n{b}-{i}", Layer.OBJECT, "Mug", (b, i, 0.0)) for i in range(200))
        store.write(ChangeSet(nodes=nodes))
        conn.send(("committed", b))
    with store.batch() as batch:
        batch.write(
            ChangeSet(
                nodes=tuple(
                    SceneNode(f"open-{i}", Layer.OBJECT, "Mug", (9.0, i, 0.0)) for i in range(100)
                )
            )
        )
        batch.write(
            ChangeSet(
                nodes=tuple(
                    SceneNode(f"open2-{i}", Layer.OBJECT, "Mug", (9.0, i, 1.0)) for i in range(100)
                )
            )
        )
        conn.send(("in-batch", 5))
        signal.pause()  # the parent kills us here, mid-transaction


def test_sigkill_mid_batch_keeps_committed_batches_only(tmp_path: Path) -> None:
    path = tmp_path / "crash.db"
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_writer, args=(str(path), child))
    proc.start()
    messages = []
    for _ in range(6):
        assert parent.poll(60), f"writer stopped talking after {messages}"
        messages.append(parent.recv())
    assert messages[-1] == ("in-batch", 5)
    os.kill(proc.pid, signal.SIGKILL)
    proc.join(10)
    assert proc.exitcode == -signal.SIGKILL
    with SQLiteStore(path) as store:
        assert store.integrity_check() == "ok"
        snap = store.load()
    ids = {n.id for n in snap.nodes}
    assert ids == {f"n{b}-{i}" for b in range(5) for i in range(200)}


def test_corrupt_foreign_and_newer_files_are_refused(
    tmp_path: Path, catalog: ObjectCatalog
) -> None:
    mem = _memory(catalog)
    before = mem.snapshot()

    corrupt = tmp_path / "corrupt.db"
    corrupt.write_bytes(b"this is not a database at all" * 200)
    with pytest.raises(CorruptStoreError, match="not a readable SQLite"):
        SQLiteStore(corrupt)

    foreign = tmp_path / "foreign.db"
    c = sqlite3.connect(foreign)
    c.execute("CREATE TABLE invoices(id INTEGER PRIMARY KEY, total REAL)")
    c.commit()
    c.close()
    foreign_bytes = foreign.read_bytes()
    with pytest.raises(ForeignStoreError, match="another application"):
        SQLiteStore(foreign)
    assert foreign.read_bytes() == foreign_bytes  # not touched

    newer = tmp_path / "newer.db"
    SQLiteStore(newer).close()
    c = sqlite3.connect(newer)
    c.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    c.commit()
    c.close()
    with pytest.raises(SchemaVersionError, match="newer"):
        SQLiteStore(newer)
    c = sqlite3.connect(newer)
    assert c.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    c.close()

    # A store whose page data is damaged is detected on load, and memory is kept.
    good = tmp_path / "good.db"
    with SQLiteStore(good) as store:
        mem.save(store)
    conn = sqlite3.connect(good)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    raw = bytearray(good.read_bytes())
    page = 4096
    for off in range(2 * page, len(raw), page):
        raw[off : off + 64] = b"\xff" * 64
    good.write_bytes(bytes(raw))
    with pytest.raises((CorruptStoreError, StoreError)), SQLiteStore(good) as store:
        mem.load(store)
    assert mem.snapshot() == before


def test_failed_batch_rolls_back(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "r.db")
    store.write(ChangeSet(nodes=(SceneNode("a", Layer.OBJECT, "Mug", (0, 0, 0)),)))
    with pytest.raises(StoreError, match="rolled back"):
        store.write(
            ChangeSet(
                nodes=(SceneNode("b", Layer.OBJECT, "Mug", (0, 0, 0)),),
                events=(Event(0.0, "e", "look", seq=0), Event(0.0, "e", "look", seq=0)),
            )
        )
    assert {n.id for n in store.load().nodes} == {"a"}
    store.close()


@pytest.mark.parametrize("content", [b"", b"x"], ids=["empty", "one-byte"])
def test_an_existing_file_that_is_not_a_store_is_left_alone(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "notes.db"
    path.write_bytes(content)
    with pytest.raises(StoreError, match=r"not a Loci store|not a readable SQLite"):
        SQLiteStore(path)
    assert path.read_bytes() == content


def test_a_full_disk_at_commit_is_a_store_error_and_keeps_what_was_stored(
    tmp_path: Path, catalog: ObjectCatalog
) -> None:
    """The database may not grow (``max_page_count``: what a full disk looks like to
    SQLite): the commit is refused with a StoreError naming the problem, rolled back, and
    what the store held before is still there (issue 17, item 9)."""
    path = tmp_path / "full.db"
    mem = Memory(catalog=catalog)
    mem.observe([ObjectObservation("Apple", (1.0, 0.9, 1.0), object_id="apple")], t=1.0)
    store = SQLiteStore(path)
    mem.save(store)
    pages = store._conn.execute("PRAGMA page_count").fetchone()[0]
    store._conn.execute(f"PRAGMA max_page_count={pages}")
    big = [
        ObjectObservation("Book", (float(i % 50), 0.9, float(i // 50)), object_id=f"book-{i}")
        for i in range(3000)
    ]
    mem.observe(big, t=2.0)
    with pytest.raises(StoreError, match="full"):
        mem.commit(store)
    store.close()
    with SQLiteStore(path) as again:
        assert again.integrity_check() == "ok"
        assert {n.id for n in again.load().nodes} == {"apple"}


def test_edges_are_found_by_target_through_an_index(tmp_path: Path) -> None:
    """A commit rewires a node's edges by source and by target; without an index on the
    target every commit scanned the whole edge table (found by the soak benchmark). A
    store made before the index gets it when opened."""
    path = tmp_path / "m.db"
    SQLiteStore(path).close()
    conn = sqlite3.connect(path)
    conn.execute("DROP INDEX edges_dst")
    conn.commit()
    conn.close()
    SQLiteStore(path).close()
    conn = sqlite3.connect(path)
    plan = conn.execute("EXPLAIN QUERY PLAN DELETE FROM edges WHERE dst = 'x'").fetchall()
    conn.close()
    assert any("edges_dst" in str(row) for row in plan), plan


def test_a_schema_1_store_is_upgraded_in_place_and_loads_as_it_was(
    tmp_path: Path, catalog: ObjectCatalog
) -> None:
    mem = _memory(catalog)
    db = tmp_path / "v1.db"
    with SQLiteStore(db) as store:
        mem.commit(store)  # rows only: what schema 1 held
    c = sqlite3.connect(db)
    c.executescript("DROP TABLE base; DROP TABLE tombstones; DROP TABLE edge_dirty;")
    c.execute("PRAGMA user_version=1")
    c.commit()
    c.close()
    loaded = Memory(catalog=catalog)
    with SQLiteStore(db) as store:
        loaded.load(store)
        assert loaded.snapshot() == mem.snapshot()
        loaded.save(store)  # now as a base
    c = sqlite3.connect(db)
    assert c.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 2
    assert c.execute("SELECT count(*) FROM nodes").fetchone()[0] == 0
    c.close()
    again = Memory(catalog=catalog)
    with SQLiteStore(db) as store:
        again.load(store)
    assert again.snapshot() == mem.snapshot()
