"""The columnar base (memory_core.store.columns) and the rows laid over it.

A memory loaded from a base builds nodes and edges only when touched (memory_core.cold,
memory_core.edges); these tests drive such a memory and an eagerly built copy of it
through the same random work and require the same answers and the same records, and a
store that commits after a save to load back exactly what the memory holds.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from memory_core import (
    Box3D,
    CorruptStoreError,
    Layer,
    Memory,
    ObjectCatalog,
    ObjectObservation,
    Pose,
    Relation,
    SceneEdge,
    SceneNode,
    SQLiteStore,
)
from memory_core.cold import LazyNodes
from memory_core.importers import import_procthor_house
from memory_core.store import columns
from tests.memory_core.store.test_sqlite import HOUSE

_LABELS = ("Apple", "Mug", "Book", "Cup", "Kettle")


def _nodes() -> list[SceneNode]:
    return [
        SceneNode("a", Layer.OBJECT, "Apple", (0.1 + 2**-40, -3.0, 1e6), first_seen=1.5),
        SceneNode(
            "m",
            Layer.RECEPTACLE,
            "Mug",
            (1.0, 2.0, 3.0),
            box=Box3D((1.0, 2.0, 3.0), (0.1, 0.2, 0.0)),
            state={"isOpen": True, "temperature": 4.5, "colour": "red"},
            n_obs=2**53,
            misses=3,
            confidence=0.25,
            present=False,
            embedding=(0.5, -1.0, 1e-300),
            attrs={"pose": Pose((1.0, 2.0, 3.0), (0.0, 0.0, 0.0, 1.0)), "n": [1, 2]},
        ),
        SceneNode("r", Layer.ROOM, "Kitchen", (0.0, 0.0, 0.0), last_changed=7.0),
    ]


def _edges() -> list[SceneEdge]:
    return [
        SceneEdge("a", "m", Relation.ON, {"since": 3.0}),
        SceneEdge("r", "a", Relation.CONTAINS),
        SceneEdge("r", "m", Relation.CONTAINS),
    ]


def test_a_base_round_trips_every_field_bit_for_bit() -> None:
    nodes = _nodes()
    cols = columns.NodeColumns.from_nodes(nodes)
    blobs = columns.encode_base(
        cols, columns.EdgeColumns.from_edges(_edges(), [n.id for n in nodes])
    )
    back, edges, intact = columns.decode_base(blobs)
    assert intact
    assert [back.node(i) for i in range(len(back))] == nodes
    assert back.node(0).position[0] == 0.1 + 2**-40  # not one ulp lost
    assert list(edges.lazy(back.ids, None)) == _edges()
    # A lazy view over the columns is saved again without building a node.
    again = columns.NodeColumns.from_nodes(LazyNodes(back, [2, 0]))
    assert [again.node(i) for i in range(2)] == [nodes[2], nodes[0]]


def test_a_base_checksummed_by_an_earlier_version_is_still_trusted() -> None:
    """Bases written before the CRC-32 carry a BLAKE2b digest (a bare hex string)."""
    nodes = _nodes()
    blobs = columns.encode_base(
        columns.NodeColumns.from_nodes(nodes),
        columns.EdgeColumns.from_edges(_edges(), [n.id for n in nodes]),
    )
    assert blobs["digest"].startswith(b"crc32:")
    old = dict(blobs, digest=columns._digest(blobs, "blake2b").encode())
    assert len(old["digest"]) == 64
    for held in (blobs, old):
        assert columns.decode_base(held)[2] is True
        flipped = dict(held, confidence=held["confidence"][:-1] + b"\x01")
        assert columns.decode_base(flipped)[2] is False


_POISON = lambda b: b.update(position=b["position"][:-8] + np.float64(1e300).tobytes())  # noqa: E731
_BLANK = lambda b: b.update(labels=b'["Apple","Mug",""]')  # noqa: E731


@pytest.mark.parametrize(
    ("damage", "recompute"),
    [
        (_POISON, False),
        (lambda b: b.update(extras=b"[null,null,7]"), False),
        (_BLANK, False),
        # An edit that recomputed the checksum: its numbers and labels are checked anyway.
        (_POISON, True),
        (_BLANK, True),
    ],
)
def test_a_base_that_fails_its_digest_is_checked_node_by_node(  # type: ignore[no-untyped-def]
    tmp_path: Path, damage, recompute: bool
) -> None:
    mem = Memory()
    mem.observe(
        [
            ObjectObservation("Apple", (1.0, 0.9, 2.0), object_id="Apple|1"),
            ObjectObservation("Mug", (1.5, 0.9, 2.0), object_id="Mug|1"),
            ObjectObservation("Cup", (2.0, 0.9, 2.0), object_id="Cup|1"),
        ]
    )
    db = tmp_path / "m.db"
    with SQLiteStore(db) as store:
        mem.save(store)
    with sqlite3.connect(db) as conn:
        blobs = {k: bytes(v) for k, v in conn.execute("SELECT key, value FROM base")}
        ids = [str(i) for i in __import__("orjson").loads(blobs["ids"])]
        damage(blobs)
        if recompute:
            blobs["digest"] = columns._digest(blobs).encode()
        conn.executemany(
            "UPDATE base SET value = ? WHERE key = ?", [(v, k) for k, v in blobs.items()]
        )
    last = ids[-1]
    loaded = Memory()
    with SQLiteStore(db) as store:
        loaded.load(store)
        assert [i for i, _why in loaded.quarantined] == [last]
        assert last not in loaded.graph and len(loaded.graph) == 2
        loaded.save(store)  # the quarantined node is kept, as a row
    again = Memory()
    with SQLiteStore(db) as store:
        again.load(store)
    assert [i for i, _why in again.quarantined] == [last]


def test_state_edited_under_a_recomputed_checksum_fails_clearly_when_read(
    tmp_path: Path,
) -> None:
    """State and attributes are parsed when a node is first built: a row of the wrong
    shape then is a CorruptStoreError naming it, not a TypeError from deep inside."""
    mem = Memory()
    mem.observe([ObjectObservation(lab, (1.0 + i, 0.9, 2.0)) for i, lab in enumerate(_LABELS)])
    db = tmp_path / "m.db"
    with SQLiteStore(db) as store:
        mem.save(store)
    with sqlite3.connect(db) as conn:
        blobs = {k: bytes(v) for k, v in conn.execute("SELECT key, value FROM base")}
        blobs["extras"] = b"[" + b",".join([b"null"] * 4 + [b"7"]) + b"]"
        blobs["digest"] = columns._digest(blobs).encode()
        conn.executemany(
            "UPDATE base SET value = ? WHERE key = ?", [(v, k) for k, v in blobs.items()]
        )
    loaded = Memory()
    with SQLiteStore(db) as store:
        loaded.load(store)
    assert len(loaded.graph) == len(mem.graph)
    with pytest.raises(CorruptStoreError, match="row 4 is not"):
        loaded.graph.nodes(Layer.OBJECT)


@pytest.mark.parametrize(
    "bad",
    [
        [[1e300, None]],  # its first vertex replaced
        [[2e7, 0.0]],
        "abc",
        None,
        ("whole", [[0.0, 0.0], [1.0, 1.0], [2.0, 2.0], [3.0, 3.0]]),  # no area
    ],
)
def test_a_stored_room_polygon_that_is_not_one_is_left_out(
    tmp_path: Path, catalog: ObjectCatalog, bad: object, caplog: pytest.LogCaptureFixture
) -> None:
    """The room stays, without a footprint; the rest of the memory loads."""
    mem = Memory(graph=import_procthor_house(HOUSE, catalog), catalog=catalog)
    db = tmp_path / "m.db"
    with SQLiteStore(db) as store:
        mem.save(store)
    orjson = __import__("orjson")
    with sqlite3.connect(db) as conn:
        (text,) = conn.execute("SELECT value FROM meta WHERE key = 'graph'").fetchone()
        meta = orjson.loads(text)
        first, *others = sorted(meta["room_polygons"])
        poly = meta["room_polygons"][first]
        meta["room_polygons"][first] = (
            bad[1] if isinstance(bad, tuple) else bad + poly[1:] if isinstance(bad, list) else bad
        )
        conn.execute(
            "UPDATE meta SET value = ? WHERE key = 'graph'", (orjson.dumps(meta).decode(),)
        )
    loaded = Memory(catalog=catalog)
    with caplog.at_level("WARNING"), SQLiteStore(db) as store:
        loaded.load(store)
    assert f"stored polygon of room {first!r} left out" in caplog.text
    assert len(loaded.graph) == len(mem.graph) and first in loaded.graph
    kept = loaded.graph.meta_record()["room_polygons"]
    assert first not in kept and sorted(kept) == others


def test_a_base_without_the_shape_of_one_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    with SQLiteStore(db) as store:
        Memory().save(store)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE base SET value = X'00' WHERE key = 'ids'")
    with SQLiteStore(db) as store, pytest.raises(CorruptStoreError, match="saved graph"):
        store.load()


def _eager(mem: Memory, catalog: ObjectCatalog) -> Memory:
    """A copy of ``mem`` built the old way: every node and edge made up front."""
    copy = Memory(catalog=catalog)
    copy.restore(mem.snapshot())
    return copy


def _answers(mem: Memory) -> object:
    g = mem.graph
    things = sorted(g.node_ids())
    rooms = [n.id for n in g.nodes(Layer.ROOM)]
    return (
        [[n.id for n in g.find_by_label(label)] for label in _LABELS],
        [(round(d, 9), n.id) for d, n in g.nearest((2.0, 0.9, 3.0), 5)],
        [[n.id for n in g.in_room(r)] for r in rooms],
        [sorted((e.src, e.dst, e.relation.value) for e in g.incident_edges(i)) for i in things],
        g.count_edges(),
        g.latest_time(),
        [[n.id for n in g.changed_since(t)] for t in (0.0, 11.0, 14.0)],
    )


_step = st.tuples(
    st.sampled_from(["observe", "move", "remove", "commit", "save"]),
    st.integers(0, 10_000),
    st.floats(0.0, 1.0),
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(_step, min_size=1, max_size=12))
def test_a_lazily_loaded_memory_works_as_an_eager_one(
    tmp_path_factory: pytest.TempPathFactory,
    catalog: ObjectCatalog,
    steps: list[tuple[str, int, float]],
) -> None:
    db = tmp_path_factory.mktemp("lazy") / "m.db"
    start = Memory(graph=import_procthor_house(HOUSE, catalog), catalog=catalog)
    with SQLiteStore(db) as store:
        start.save(store)
        lazy = Memory(catalog=catalog)
        lazy.load(store)
        eager = _eager(lazy, catalog)
        t = 10.0
        for kind, pick, u in steps:
            t += 1.0
            objects = sorted(n.id for n in eager.graph.nodes(Layer.OBJECT))
            tables = eager.graph.nodes(Layer.RECEPTACLE)
            if kind in ("observe", "move") and tables:
                table = tables[pick % len(tables)]
                moved = kind == "move" and objects
                obs = ObjectObservation(
                    _LABELS[pick % len(_LABELS)]
                    if not moved
                    else eager.graph.node(objects[pick % len(objects)]).label,
                    (table.position[0] + u, table.position[1] + 0.5, table.position[2] - u),
                    object_id=objects[pick % len(objects)] if moved else f"new|{pick}",
                    timestamp=t,
                )
                for mem in (lazy, eager):
                    mem.observe([obs])
            elif kind == "remove" and objects:
                for mem in (lazy, eager):
                    mem.graph.remove_node(objects[pick % len(objects)])
            elif kind == "commit":
                lazy.commit(store)
            elif kind == "save":
                lazy.save(store)
            assert _answers(lazy) == _answers(eager)
            # The change index, made on its first call and kept since, is a scan's answer.
            scan = sorted((n.last_changed, n.id) for n in eager.graph.iter_nodes())
            assert [n.id for n in eager.graph.changed_since(12.0)] == [
                i for when, i in scan if when >= 12.0
            ]
        assert lazy.snapshot() == eager.snapshot()
        lazy.commit(store)
        reloaded = Memory(catalog=catalog)
        reloaded.load(store)
    assert reloaded.snapshot() == lazy.snapshot()
    assert _answers(reloaded) == _answers(lazy)
