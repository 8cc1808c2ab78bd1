"""The Memory facade keeps the scene graph and STM consistent and restores atomically."""

from __future__ import annotations

from pathlib import Path

import pytest

from memory_core import (
    Event,
    InvalidInputError,
    Memory,
    MemorySnapshot,
    ObjectCatalog,
    ObjectObservation,
    ViewVolume,
)
from memory_core.importers import import_procthor_house

HOUSE = Path(__file__).resolve().parents[3] / "shared/data/procthor_houses/houses_20/house_5.json"


def test_observe_updates_stm_and_forgets_gone(catalog: ObjectCatalog) -> None:
    mem = Memory(graph=import_procthor_house(HOUSE, catalog), catalog=catalog)
    mem.observe([ObjectObservation("Mug", (1.0, 0.9, 1.0), object_id="mug-1", timestamp=1.0)])
    held = mem.stm.peek("mug-1")
    assert held is not None and held.position == (1.0, 0.9, 1.0)
    assert held.room == mem.graph.room_of("mug-1")
    view = ViewVolume((0.0, 0.9, 1.0), (1.0, 0.0, 0.0), max_range_m=3.0)
    for t in range(2, 6):
        report = mem.observe([], t=float(t), view=view)
    assert "mug-1" in report.gone or not mem.graph.node("mug-1").present
    assert "mug-1" not in mem.stm


def test_restore_is_atomic(catalog: ObjectCatalog) -> None:
    mem = Memory(graph=import_procthor_house(HOUSE, catalog), catalog=catalog)
    before = mem.snapshot()
    orphan = MemorySnapshot(
        nodes=before.nodes,
        edges=before.edges,
        graph_meta=before.graph_meta,
        events=(Event(0.0, "x", "look", seq=0),),
    )
    with pytest.raises(InvalidInputError, match="orphaned"):
        mem.restore(orphan)
    assert mem.snapshot() == before
