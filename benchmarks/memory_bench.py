"""Memory-core benchmark on synthetic scenes tiled from the real ProcTHOR object mix.

Scenes of 10k and 100k objects are built by tiling the 20 real ProcTHOR houses
(their rooms, objects and asset sizes) on a grid, each copy shifted so rooms
never overlap. Prints a few readable lines and, as the last line, one JSON
object with the figures (medians over many repetitions).

Run: ``.venv/bin/python benchmarks/memory_bench.py`` (or ``make bench``).
"""

from __future__ import annotations

import copy
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from memory_core import (  # noqa: E402
    Layer,
    Memory,
    ObjectCatalog,
    ObjectObservation,
    SceneGraph,
    SQLiteStore,
    ingest,
)
from memory_core.importers import import_procthor_house  # noqa: E402

DATA = REPO.parent / "shared" / "data"
SPACING_M = 16.0


def _shift(obj: dict[str, Any], dx: float, dz: float, tag: str) -> None:
    obj["id"] = f"{tag}/{obj['id']}"
    obj["position"] = {
        **obj["position"],
        "x": obj["position"]["x"] + dx,
        "z": obj["position"]["z"] + dz,
    }
    for child in obj.get("children") or []:
        _shift(child, dx, dz, tag)


def _count(objs: list[dict[str, Any]]) -> int:
    return sum(1 + _count(o.get("children") or []) for o in objs)


def tiled_scene(n_objects: int, catalog: ObjectCatalog) -> SceneGraph:
    houses = [
        json.loads(p.read_text())
        for p in sorted((DATA / "procthor_houses/houses_20").glob("*.json"))
    ]
    combined: dict[str, Any] = {
        "name": f"tiled-{n_objects}",
        "rooms": [],
        "doors": [],
        "objects": [],
    }
    total, k = 0, 0
    side = 60
    while total < n_objects:
        h = copy.deepcopy(houses[k % len(houses)])
        dx, dz = (k % side) * SPACING_M, (k // side) * SPACING_M
        tag = f"h{k}"
        for room in h["rooms"]:
            room["id"] = f"{tag}/{room['id']}"
            room["floorPolygon"] = [
                {**p, "x": p["x"] + dx, "z": p["z"] + dz} for p in room["floorPolygon"]
            ]
            combined["rooms"].append(room)
        for door in h["doors"]:
            door.update(
                id=f"{tag}/{door['id']}",
                room0=f"{tag}/{door['room0']}",
                room1=f"{tag}/{door['room1']}",
            )
            combined["doors"].append(door)
        for obj in h["objects"]:
            _shift(obj, dx, dz, tag)
            combined["objects"].append(obj)
        total += _count(h["objects"])
        k += 1
    return import_procthor_house(combined, catalog)


def _ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1e3, 4)


def bench_ingest(
    graph: SceneGraph, catalog: ObjectCatalog, rng: random.Random, reps: int = 200
) -> float:
    things = graph.nodes(Layer.OBJECT) + graph.nodes(Layer.RECEPTACLE)
    times = []
    for rep in range(reps):
        centre = rng.choice(things).position
        local = [n for _d, n in graph.nearest(centre, 30)]
        batch = [
            ObjectObservation(
                n.label,
                tuple(c + rng.gauss(0, 0.02) for c in n.position),  # type: ignore[arg-type]
                box=n.box,
                timestamp=float(rep + 1),
            )
            for n in local
        ]
        t0 = time.perf_counter()
        ingest(graph, batch, t=float(rep + 1), catalog=catalog)
        times.append(time.perf_counter() - t0)
    return _ms(times)


def bench_big_batch(
    graph: SceneGraph, catalog: ObjectCatalog, reps: int = 3
) -> tuple[float, float]:
    """Every object and receptacle of a tiled 10k scene as ONE batch of observations (no
    ids) into an empty memory, then the same batch again (everything matched): median
    seconds of each. The association and relation updates must stay near-linear."""
    things = graph.nodes(Layer.OBJECT) + graph.nodes(Layer.RECEPTACLE)
    batch = [ObjectObservation(n.label, n.position, box=n.box, layer=n.layer) for n in things]
    first, second = [], []
    for _ in range(reps):
        memory = Memory(catalog=catalog)
        t0 = time.perf_counter()
        memory.observe(batch, t=1.0)
        first.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        memory.observe(batch, t=2.0)
        second.append(time.perf_counter() - t0)
    return round(statistics.median(first), 3), round(statistics.median(second), 3)


def bench_queries(
    graph: SceneGraph, rng: random.Random, reps: int = 300
) -> tuple[float, dict[str, float], float]:
    things = graph.nodes(Layer.OBJECT) + graph.nodes(Layer.RECEPTACLE)
    labels = graph.labels()
    receptacles = [n.id for n in graph.nodes(Layer.RECEPTACLE)]
    kinds: dict[str, list[float]] = {"label": [], "near": [], "in_receptacle": []}
    scan: list[float] = []
    pos = np.array([n.position for n in things])
    for _ in range(reps):
        lab = rng.choice(labels)
        t0 = time.perf_counter()
        graph.find_by_label(lab)
        kinds["label"].append(time.perf_counter() - t0)
        p = rng.choice(things).position
        t0 = time.perf_counter()
        graph.nearest(p, 5)
        kinds["near"].append(time.perf_counter() - t0)
        # Baseline in the same process: a vectorised brute-force scan for the same answer.
        t0 = time.perf_counter()
        d = np.linalg.norm(pos - np.asarray(p), axis=1)
        np.argpartition(d, 5)[:5]
        scan.append(time.perf_counter() - t0)
        r = rng.choice(receptacles)
        t0 = time.perf_counter()
        graph.contents(r)
        kinds["in_receptacle"].append(time.perf_counter() - t0)
    mixed = kinds["label"] + kinds["near"] + kinds["in_receptacle"]
    near_ratio = statistics.median(scan) / statistics.median(kinds["near"])
    return _ms(mixed), {k: _ms(v) for k, v in kinds.items()}, round(near_ratio, 2)


def bench_save_load(graph: SceneGraph, catalog: ObjectCatalog, rounds: int = 3) -> dict[str, float]:
    """Save a graph built in memory (every node encoded), load it (nodes, edges and the
    spatial grids stay columns until first used), then what loading deferred: the first
    `near` query (hashes the grid of its layer) and 100 sightings + a save again (nodes
    nobody touched are copied, not rebuilt). Medians over ``rounds`` (the machine is
    noisy, ±15% run to run)."""
    runs: dict[str, list[float]] = {}
    objects = graph.nodes(Layer.OBJECT)[:100]  # the same ids; none built in a loaded copy
    sightings = [
        ObjectObservation(n.label, n.position, object_id=n.id, timestamp=1.0) for n in objects
    ]
    mem = Memory(graph=graph, catalog=catalog)
    for _ in range(rounds):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "bench.db"
            t0 = time.perf_counter()
            with SQLiteStore(path) as store:
                mem.save(store)
            t_save = time.perf_counter() - t0
            t0 = time.perf_counter()
            again = Memory(catalog=catalog)
            with SQLiteStore(path) as store:
                again.load(store)
            t_load = time.perf_counter() - t0
            size = sum(p.stat().st_size for p in Path(tmp).iterdir())
            t0 = time.perf_counter()
            again.graph.nearest(objects[0].position, 5)
            t_first = time.perf_counter() - t0
            t0 = time.perf_counter()
            again.graph.nearest(objects[1].position, 5)
            t_second = time.perf_counter() - t0
            t0 = time.perf_counter()
            again.observe(sightings)
            with SQLiteStore(path) as store:
                again.save(store)
            t_resave = time.perf_counter() - t0
        assert len(again.graph) == len(graph)
        for key, value in (
            ("save_load_s_100k", t_save + t_load),
            ("save_s_100k", t_save),
            ("load_s_100k", t_load),
            ("first_near_after_load_s_100k", t_first),
            ("second_near_after_load_s_100k", t_second),
            ("observe_100_and_resave_s_100k", t_resave),
            ("bytes_per_object", size / len(graph)),
        ):
            runs.setdefault(key, []).append(value)
        del again
    return {k: round(statistics.median(v), 4 if "near" in k else 3) for k, v in runs.items()}


def main() -> None:
    catalog = ObjectCatalog.from_ai2thor_metadata(DATA / "ai2thor_object_metadata")
    rng = random.Random(0)
    t0 = time.perf_counter()
    g10k = tiled_scene(10_000, catalog)
    g100k = tiled_scene(100_000, catalog)
    print(f"built scenes: {len(g10k)} and {len(g100k)} nodes in {time.perf_counter() - t0:.1f} s")
    q10, kinds10, _ = bench_queries(g10k, rng)
    q100, kinds100, near_ratio = bench_queries(g100k, rng)
    print(f"queries 10k  p50 by kind (ms): {kinds10}")
    print(f"queries 100k p50 by kind (ms): {kinds100}; near vs numpy scan: {near_ratio}x faster")
    ingest_ms = bench_ingest(g10k, catalog, rng)
    big_first, big_again = bench_big_batch(g10k, catalog)
    print(f"one batch of {len(g10k)} observations: {big_first} s new, {big_again} s matched")
    sl = bench_save_load(g100k, catalog)
    print(
        f"save+load 100k: {sl['save_load_s_100k']} s (save {sl['save_s_100k']} s, load "
        f"{sl['load_s_100k']} s), {sl['bytes_per_object']} bytes/object; medians of 3"
    )
    print(
        f"after that load: first near query {sl['first_near_after_load_s_100k']} s (hashes "
        f"the grid), second {sl['second_near_after_load_s_100k']} s; 100 sightings + save "
        f"again {sl['observe_100_and_resave_s_100k']} s"
    )
    result = {
        "ingest_ms_p50": ingest_ms,
        "batch_10k_new_s": big_first,
        "batch_10k_matched_s": big_again,
        "query_ms_p50_10k": q10,
        "query_ms_p50_100k": q100,
        **sl,
        "near_speedup_vs_numpy_scan_100k": near_ratio,
        "nodes_10k": len(g10k),
        "nodes_100k": len(g100k),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
