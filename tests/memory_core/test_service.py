"""MemoryService: a store-backed memory that resumes after a restart, merges planners'
change sets, and answers queries; bad input changes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from memory_core import (
    Box3D,
    InvalidInputError,
    Memory,
    MemoryConfig,
    ObjectObservation,
    SceneGraphConfig,
)
from memory_core.service import MemoryService
from memory_core.transfer import changes_to_json, snapshot_from_json


def _obs(label: str, x: float, oid: str) -> ObjectObservation:
    return ObjectObservation(
        label, (x, 0.5, 0.0), Box3D((x, 0.5, 0.0), (0.1, 0.1, 0.1)), object_id=oid
    )


def _memory() -> Memory:
    return Memory(MemoryConfig(scene_graph=SceneGraphConfig(up_axis="y")))


def test_resume_merge_and_queries(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    service = MemoryService(_memory(), db)
    service.observe([_obs("Apple", 0.0, "a"), _obs("Mug", 1.0, "m")], t=1.0)
    assert service.revision == 1
    # A planner's copy, changed, committed back.
    base, text = service.snapshot_json()
    copy = _memory()
    copy.restore(snapshot_from_json(text))
    copy.observe([_obs("Apple", 3.0, "a"), _obs("Book", 5.0, "b")], t=2.0)
    service.observe([_obs("Fork", 7.0, "f")], t=2.5)  # meanwhile
    _changes, note = service.commit_json(base, changes_to_json(copy.pending_changes()))
    assert "merged over 1" in note
    service.close()
    # A new process on the same file resumes everything.
    again = MemoryService(_memory(), db)
    labels = {n.label: n.position[0] for n in again.memory.graph.nodes()}
    assert labels == {"Apple": 3.0, "Mug": 1.0, "Book": 5.0, "Fork": 7.0}
    assert [n.label for n in again.query("label", "Mug").nodes] == ["Mug"]
    near = again.query("near", point=(3.1, 0.5, 0.0), k=1).nodes
    assert [n.label for n in near] == ["Apple"]
    assert "Apple" in again.query("context", "bring the apple").context
    with pytest.raises(InvalidInputError, match="unknown query kind"):
        again.query("teleport")
    with pytest.raises(InvalidInputError, match="no node"):
        again.query("in", "nowhere")
    before = again.memory.snapshot()
    with pytest.raises(InvalidInputError, match="malformed"):
        again.commit_json(again.revision, '{"nodes": 5}')
    assert again.memory.snapshot() == before
    again.close()


def test_apply_changes_removes_and_refuses_what_does_not_fit(tmp_path: Path) -> None:
    import dataclasses

    from memory_core import ChangeSet, Episode, Event, Relation, SceneEdge

    db = tmp_path / "m.db"
    service = MemoryService(_memory(), db)
    service.observe([_obs("Apple", 0.0, "a"), _obs("Mug", 1.0, "m")], t=1.0)
    _rev, text = service.snapshot_json()
    copy = _memory()
    copy.restore(snapshot_from_json(text))
    copy.graph.remove_node("m")  # outside observe: found by comparing ids
    copy.episodic.begin_episode("ep", "tidy", 2.0)
    copy.record(Event(2.0, "ep", "pickup", "success", ("a",)))
    service.commit_json(service.revision, changes_to_json(copy.pending_changes()))
    service.close()
    again = MemoryService(_memory(), db)
    assert {n.id for n in again.memory.graph.nodes()} == {"a"}
    assert [e.action for e in again.memory.episodic.events()] == ["pickup"]
    before = again.memory.snapshot()
    for bad in (
        ChangeSet(edges=(SceneEdge("a", "ghost", Relation.ON),)),
        ChangeSet(events=(Event(3.0, "no-such-episode", "look"),)),
        ChangeSet(events=(Event(0.5, "ep", "look"),)),  # older than the newest event
        ChangeSet(episodes=(Episode("ep2"),), events=(Event(1.0, "ep2", "look"),)),
    ):
        with pytest.raises(InvalidInputError):
            again.memory.apply_changes(bad)
        assert again.memory.snapshot() == before
    ok = ChangeSet(nodes=(dataclasses.replace(again.memory.graph.node("a"), label="Apple"),))
    assert again.memory.apply_changes(ok).nodes[0].id == "a"
    again.close()


@pytest.mark.parametrize(
    "meta",
    [
        {"graph_meta": [1, 2, 3]},
        {"graph_meta": {"id_counter": "abc"}},
        {"graph_meta": {"id_counter": -1}},
        {"graph_meta": {"room_polygons": [1]}},
        {"graph_meta": {"room_polygons": {"r": [[0, 0], [1, 0]]}}},
        {"graph_meta": {"room_polygons": {"r": [[0, 0], [1, 0], ["a", 1]]}}},
        {"graph_meta": {"room_polygons": {"r": [[0, 0], [1, 0], [1e300, 1]]}}},
        {"stm_meta": "abc"},
    ],
    ids=range(8),
)
def test_malformed_meta_in_a_commit_is_refused_and_changes_nothing(
    tmp_path: Path, meta: dict[str, object]
) -> None:
    from memory_core import InvalidInputError, Memory, ObjectObservation
    from memory_core.service import MemoryService
    from memory_core.transfer import changes_to_json

    memory = Memory()
    memory.observe([ObjectObservation("Apple", (1.0, 0.9, 2.0), object_id="Apple|1")])
    service = MemoryService(memory, tmp_path / "m.db")
    try:
        before = service.memory.snapshot()
        payload = json.loads(changes_to_json(service.memory.pending_changes()))
        payload.update(meta)
        with pytest.raises(InvalidInputError, match="meta"):
            service.commit_json(service.revision, json.dumps(payload))
        assert service.memory.snapshot() == before
    finally:
        service.close()
