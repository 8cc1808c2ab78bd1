"""Things seen without a label (``unknown``: a segment found by geometry) and their
association with labelled sightings: named when a labelled observation of the same
place comes, recognised when seen again unlabelled, kept apart when only near; the name
persists through a real SQLite store; queries find unnamed things on/near a receptacle."""

from __future__ import annotations

from pathlib import Path

from memory_core import (
    UNKNOWN_LABEL,
    Box3D,
    Layer,
    Memory,
    MemoryConfig,
    ObjectCatalog,
    ObjectObservation,
    SceneGraphConfig,
    SQLiteStore,
)
from memory_core.service import MemoryService

TABLE = Box3D((0.0, 0.375, 0.0), (1.2, 0.75, 0.8))


def _memory(catalog: ObjectCatalog | None = None) -> Memory:
    return Memory(MemoryConfig(scene_graph=SceneGraphConfig(up_axis="y")), catalog=catalog)


def _unknown(x: float, size: float = 0.1, colour: str = "red") -> ObjectObservation:
    c = (x, 0.75 + size / 2, 0.0)
    return ObjectObservation(
        UNKNOWN_LABEL, c, Box3D(c, (size, size, size)), state={"colour": colour}, confidence=0.5
    )


def _labelled(label: str, x: float, size: float = 0.1) -> ObjectObservation:
    c = (x + 0.02, 0.75 + size / 2, 0.01)  # a detector's box, a little off the segment's
    return ObjectObservation(label, c, Box3D(c, (size, size, size)))


def test_a_labelled_sighting_names_an_unknown_thing_and_keeps_its_id() -> None:
    memory = _memory()
    first = memory.observe([_unknown(0.2)], t=1.0)
    (node_id,) = first.created
    assert memory.graph.node(node_id).label == UNKNOWN_LABEL
    second = memory.observe([_labelled("Apple", 0.2)], t=2.0)
    assert second.created == () and second.matched == (node_id,)
    node = memory.graph.node(node_id)
    assert node.label == "Apple" and node.n_obs == 2
    assert node.state["colour"] == "red"  # what the segment saw is kept
    assert [n.id for n in memory.graph.find_by_label("Apple")] == [node_id]
    assert memory.graph.find_by_label(UNKNOWN_LABEL) == []
    # Seen unlabelled again: the same apple, still an apple.
    third = memory.observe([_unknown(0.21)], t=3.0)
    assert third.matched == (node_id,) and memory.graph.node(node_id).label == "Apple"


def test_near_is_not_the_same_thing_and_same_labels_come_first() -> None:
    memory = _memory()
    apple = memory.observe([_labelled("Apple", 0.0)], t=1.0).created[0]
    # 40 cm away, inside the 1 m association gate but not the same place: a new thing.
    other = memory.observe([_unknown(0.4)], t=2.0).created
    assert len(other) == 1 and memory.graph.node(other[0]).label == UNKNOWN_LABEL
    assert memory.graph.node(apple).n_obs == 1
    # A labelled apple where both an apple node and an unknown one overlap it: the apple.
    both = memory.observe([_unknown(0.05, size=0.2)], t=3.0)
    assert both.matched == (apple,)
    again = memory.observe([_labelled("Apple", 0.03)], t=4.0)
    assert again.matched == (apple,)
    assert memory.graph.node(other[0]).label == UNKNOWN_LABEL


def test_two_unknown_things_and_one_name_go_to_the_overlapping_one() -> None:
    memory = _memory()
    ids = memory.observe([_unknown(0.0), _unknown(0.5, colour="blue")], t=1.0).created
    named = memory.observe([_labelled("Mug", 0.5)], t=2.0)
    assert named.matched == (ids[1],)
    assert memory.graph.node(ids[1]).label == "Mug"
    assert memory.graph.node(ids[0]).label == UNKNOWN_LABEL


def test_the_name_persists_in_a_real_sqlite_store(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "m.db")
    memory = _memory()
    node_id = memory.observe([_unknown(0.2)], t=1.0).created[0]
    memory.commit(store)
    memory.observe([_labelled("Apple", 0.2)], t=2.0)
    memory.commit(store)
    store.close()
    again = _memory()
    reopened = SQLiteStore(tmp_path / "m.db")
    again.load(reopened)
    reopened.close()
    assert again.graph.node(node_id).label == "Apple"
    assert [n.id for n in again.graph.find_by_label("Apple")] == [node_id]


def test_queries_find_unknown_things_on_and_near_a_receptacle(
    tmp_path: Path, catalog: ObjectCatalog
) -> None:
    service = MemoryService(_memory(catalog), tmp_path / "m.db")
    service.observe(
        [ObjectObservation("DiningTable", TABLE.center, TABLE, object_id="DiningTable|1")],
        t=1.0,
    )
    assert service.memory.graph.node("DiningTable|1").layer == Layer.RECEPTACLE
    service.observe([_unknown(0.1), _labelled("Apple", -0.4)], t=2.0)
    # Beside the table on the floor, within the near radius.
    c = (0.9, 0.05, 0.0)
    service.observe([ObjectObservation(UNKNOWN_LABEL, c, Box3D(c, (0.1, 0.1, 0.1)))], t=3.0)
    on_or_near = service.query("unknown", "DiningTable|1").nodes
    assert {n.label for n in on_or_near} == {UNKNOWN_LABEL} and len(on_or_near) == 2
    on = service.memory.graph.contents("DiningTable|1", label=UNKNOWN_LABEL)
    assert len(on) == 1 and on[0].position[0] == 0.1
    assert len(service.query("unknown").nodes) == 2
    service.close()
