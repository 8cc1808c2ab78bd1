"""Values that would poison memory are refused at every entrance, and a store that already
holds one loads with that node quarantined (kept in the store, left out of the memory)."""

from __future__ import annotations

import math
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from memory_core import (
    Box3D,
    ChangeSet,
    InvalidInputError,
    Layer,
    Memory,
    ObjectObservation,
    SceneNode,
    SQLiteStore,
)
from memory_core.service import MemoryService


def _memory_with_apple() -> Memory:
    mem = Memory()
    mem.observe([ObjectObservation("Apple", (1.0, 0.9, 2.0), object_id="Apple|1")])
    return mem


@pytest.mark.parametrize("bad", [1e300, -1e300, 1.5e7, float("inf"), float("nan")])
def test_impossible_coordinates_are_refused_by_the_value_types(bad: float) -> None:
    with pytest.raises(InvalidInputError):
        ObjectObservation("Apple", (bad, 0.0, 0.0))
    with pytest.raises(InvalidInputError):
        ObjectObservation("Apple", (0.0, 0.0, 0.0), box=Box3D((0, 0, 0), (bad, 1, 1)))
    with pytest.raises(InvalidInputError):
        SceneNode("a", Layer.OBJECT, "Apple", (0.0, bad, 0.0))


def test_implausible_coordinates_are_refused_by_observe_and_memory_is_unchanged() -> None:
    mem = _memory_with_apple()
    before = mem.snapshot()
    far = ObjectObservation("Mug", (2.0e5, 0.0, 0.0))  # a valid float, beyond the config bound
    with pytest.raises(InvalidInputError, match="max_abs_coordinate_m"):
        mem.observe([ObjectObservation("Mug", (1.0, 0.9, 2.5)), far])
    assert mem.snapshot() == before
    # Queries keep working, including unbounded radii.
    assert [n.id for _d, n in mem.graph.within_radius((1, 1, 2), 1e300)] == ["Apple|1"]
    with pytest.raises(InvalidInputError, match="radius"):
        mem.graph.within_radius((1, 1, 2), math.inf)
    with pytest.raises(InvalidInputError, match="query point"):
        mem.graph.nearest((1e300, 0, 0))


def test_commit_of_an_implausible_node_is_refused() -> None:
    mem = _memory_with_apple()
    node = SceneNode("far", Layer.OBJECT, "Mug", (5.0e5, 0.0, 0.0))
    with pytest.raises(InvalidInputError, match="plausible extent"):
        mem.apply_changes(ChangeSet(nodes=(node,), edge_nodes=("far",)))
    assert "far" not in mem.graph


def test_query_service_refuses_infinite_radius(tmp_path: Path) -> None:
    service = MemoryService(_memory_with_apple(), tmp_path / "m.db")
    with pytest.raises(InvalidInputError, match="radius"):
        service.query("near", point=(1.0, 1.0, 2.0), radius=math.inf)
    assert [n.id for n in service.query("near", point=(1.0, 1.0, 2.0), radius=2.0).nodes] == [
        "Apple|1"
    ]
    service.close()


def test_numpy_scalars_are_stored_as_plain_values(tmp_path: Path) -> None:
    mem = Memory()
    mem.observe(
        [
            ObjectObservation(
                "Apple",
                (np.float32(1.0), np.float64(0.9), 2),
                confidence=np.float64(0.5),
                timestamp=np.float32(3.0),
                state={"isSliced": np.bool_(True), "temperature": np.float64(4.5)},
                object_id="Apple|1",
            )
        ]
    )
    with SQLiteStore(tmp_path / "m.db") as store:
        mem.save(store)
    again = Memory()
    with SQLiteStore(tmp_path / "m.db") as store:
        again.load(store)
    node = again.graph.node("Apple|1")
    assert node.state == {"isSliced": True, "temperature": 4.5}
    assert type(node.state["isSliced"]) is bool
    assert again.snapshot() == mem.snapshot()


def _poison(db: Path, node_id: str, **columns: object) -> None:
    sets = ", ".join(f"{k} = ?" for k in columns)
    with sqlite3.connect(db) as conn:
        conn.execute(f"UPDATE nodes SET {sets} WHERE id = ?", (*columns.values(), node_id))


@pytest.mark.parametrize(
    "columns",
    [
        {"x": 1e300},
        {"y": float("inf")},
        {"z": "abc"},
        {"data": "[1, 2, 3]"},
        {"data": "'abc'"},
        {"data": '{"f": 0, "s": 0, "c": 0, "n": 1, "q": 1, "m": 0, "p": true, '
                 '"b": [[0, 0, 0], [1e300, 1, 1]]}'},
        {"data": '{"f": 0, "s": 0, "c": 0, "n": 1, "q": 7, "m": 0, "p": true}'},
        {"layer": "nonsense"},
    ],
)  # fmt: skip
def test_a_store_holding_a_poisoned_node_loads_with_it_quarantined(
    tmp_path: Path, columns: dict[str, object]
) -> None:
    mem = _memory_with_apple()
    mem.observe([ObjectObservation("Mug", (1.5, 0.9, 2.0), object_id="Mug|1")])
    db = tmp_path / "m.db"
    with SQLiteStore(db) as store:
        mem.commit(store)  # as rows (a save writes columns: see the tests below)
    _poison(db, "Mug|1", **columns)
    loaded = Memory()
    with SQLiteStore(db) as store:
        loaded.load(store)
        assert [i for i, _why in loaded.quarantined] == ["Mug|1"]
        assert "Mug|1" not in loaded.graph and "Apple|1" in loaded.graph
        # The memory works: observe, query, save.
        loaded.observe([ObjectObservation("Apple", (1.1, 0.9, 2.0), object_id="Apple|1")])
        assert loaded.graph.nearest((1, 1, 2), 3)[0][1].id == "Apple|1"
        loaded.save(store)
    # Saving kept the quarantined row as it was: nothing the store held is lost.
    with sqlite3.connect(db) as conn:
        row = conn.execute("SELECT * FROM nodes WHERE id = 'Mug|1'").fetchone()
    assert row is not None
    again = Memory()
    with SQLiteStore(db) as store:
        again.load(store)
    assert [i for i, _why in again.quarantined] == ["Mug|1"]


def test_a_new_node_of_a_quarantined_id_replaces_the_stored_row(tmp_path: Path) -> None:
    mem = _memory_with_apple()
    db = tmp_path / "m.db"
    with SQLiteStore(db) as store:
        mem.commit(store)
    _poison(db, "Apple|1", x=1e300)
    loaded = Memory()
    with SQLiteStore(db) as store:
        loaded.load(store)
        loaded.observe([ObjectObservation("Apple", (1.0, 0.9, 2.0), object_id="Apple|1")])
        loaded.save(store)
    again = Memory()
    with SQLiteStore(db) as store:
        again.load(store)
    assert again.quarantined == () and again.graph.node("Apple|1").position == (1.0, 0.9, 2.0)
