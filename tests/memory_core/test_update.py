"""Incremental updates: association, merging, new nodes, moves, negative evidence."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import pytest

from memory_core import (
    Box3D,
    DuplicateIdError,
    InvalidInputError,
    Layer,
    ObjectCatalog,
    ObjectObservation,
    Relation,
    SceneGraph,
    SceneGraphConfig,
    TypeInfo,
    UnknownNodeError,
    ViewVolume,
    ingest,
)
from memory_core.importers import import_procthor_house
from memory_core.importers.procthor import rotated_size

HOUSE = Path(__file__).resolve().parents[3] / "shared/data/procthor_houses/houses_20/house_3.json"


def _house_observations(catalog: ObjectCatalog, noise: float, seed: int) -> list[ObjectObservation]:
    """Every object of a real house as an observation without ids, with position noise."""
    house = json.loads(HOUSE.read_text())
    rng = random.Random(seed)
    out = []

    def walk(objs: list[dict]) -> None:
        for o in objs:
            asset = catalog.asset(o["assetId"])
            assert asset is not None
            p = o["position"]
            pos = (
                p["x"] + rng.gauss(0, noise),
                p["y"] + rng.gauss(0, noise),
                p["z"] + rng.gauss(0, noise),
            )
            size = rotated_size(asset[1], o["rotation"]["y"])
            out.append(ObjectObservation(asset[0], pos, box=Box3D(pos, size), timestamp=1.0))
            walk(o.get("children") or [])

    walk(house["objects"])
    return out


def _empty_house_graph(catalog: ObjectCatalog) -> SceneGraph:
    house = json.loads(HOUSE.read_text())
    house["objects"] = []
    return import_procthor_house(house, catalog)


def test_repeated_noisy_views_fuse_into_one_node_per_object(catalog: ObjectCatalog) -> None:
    graph = _empty_house_graph(catalog)
    first = _house_observations(catalog, noise=0.0, seed=0)
    r1 = ingest(graph, first, t=1.0, catalog=catalog)
    assert len(r1.created) == len(first) and not r1.matched
    for seed in (1, 2, 3):
        again = _house_observations(catalog, noise=0.03, seed=seed)
        r = ingest(graph, again, t=1.0 + seed, catalog=catalog)
        assert not r.created and len(r.matched) == len(again)
        # Each observation went back to the node it created first.
        assert r.node_ids == r1.node_ids
    things = graph.nodes(Layer.OBJECT) + graph.nodes(Layer.RECEPTACLE)
    assert len(things) == len(first)
    assert all(n.n_obs == 4 for n in things)
    # Averaging shrinks the noise: fused positions are closer to truth than one noisy view.
    errs = [
        math.dist(graph.node(i).position, o.position)
        for i, o in zip(r1.node_ids, first, strict=True)
    ]
    assert max(errs) < 0.06
    # Rooms come from the real floor polygons.
    assert all(graph.room_of(n.id) is not None for n in things)


def test_inferred_support_from_boxes(catalog: ObjectCatalog) -> None:
    """Children of the real house land in/on their parent through geometry alone."""
    house = json.loads(HOUSE.read_text())
    graph = _empty_house_graph(catalog)
    obs = _house_observations(catalog, noise=0.0, seed=0)
    report = ingest(graph, obs, t=1.0, catalog=catalog)
    ids = iter(report.node_ids)
    truth: dict[str, str | None] = {}

    def walk(objs: list[dict], parent: str | None) -> None:
        for o in objs:
            my = next(ids)
            truth[my] = parent
            walk(o.get("children") or [], my)

    walk(house["objects"], None)
    children = {k: v for k, v in truth.items() if v is not None}
    agree = sum(1 for k, v in children.items() if (graph.support_of(k) or (None,))[0] == v)
    assert agree / len(children) >= 0.9, f"{agree}/{len(children)} supports inferred correctly"


def test_move_changes_position_support_and_change_index(catalog: ObjectCatalog) -> None:
    graph = import_procthor_house(HOUSE, catalog)
    apple = next(n for n in graph.nodes(Layer.OBJECT) if graph.support_of(n.id))
    old_support = graph.support_of(apple.id)
    table = next(
        n
        for n in graph.nodes(Layer.RECEPTACLE)
        if n.label in ("DiningTable", "CounterTop") and n.id != (old_support or ("",))[0]
    )
    assert table.box is not None
    top = table.box.max_corner[1] + 0.05
    new_pos = (table.position[0], top, table.position[2])
    r = ingest(
        graph,
        [
            ObjectObservation(
                apple.label, new_pos, object_id=apple.id, timestamp=5.0, state={"isDirty": True}
            )
        ],
        catalog=catalog,
    )
    assert r.moved == (apple.id,) and r.state_changed == (apple.id,)
    assert graph.node(apple.id).position == new_pos
    assert graph.support_of(apple.id) == (table.id, Relation.ON)
    assert graph.room_of(apple.id) == graph.room_of(table.id)
    assert [n.id for n in graph.changed_since(5.0)] == [apple.id]
    assert apple.id in {n.id for n in graph.contents(table.id)}


def _mug_and_apple(graph: SceneGraph) -> None:
    """A mug at +x and an apple at -x, seen at t=0."""
    ingest(
        graph,
        [
            ObjectObservation("Mug", (1.0, 0.9, 0.0), object_id="mug"),
            ObjectObservation("Apple", (-1.0, 0.9, 0.0), object_id="apple"),
        ],
        t=0.0,
    )


def test_negative_evidence_marks_missing_objects_gone() -> None:
    graph = SceneGraph(SceneGraphConfig(up_axis="y", miss_decay=0.5, gone_threshold=0.2))
    _mug_and_apple(graph)
    view = ViewVolume(
        origin=(0.0, 0.9, 0.0), forward=(1.0, 0.0, 0.0), half_fov_deg=40, max_range_m=3
    )
    # The mug is in view but not seen; the apple is behind the camera and keeps its confidence.
    confidences = []
    for step in range(1, 4):
        r = ingest(graph, [], t=float(step), view=view)
        confidences.append(graph.node("mug").confidence)
        assert graph.node("apple").confidence == 1.0
        if step < 3:
            assert r.missed == ("mug",) and not r.gone
    assert confidences == [0.5, 0.25, 0.125]
    assert r.gone == ("mug",)
    assert not graph.node("mug").present
    assert graph.find_by_label("Mug") == [] and graph.find_by_label("Mug", include_gone=True)
    assert graph.nearest((1.0, 0.9, 0.0), k=1)[0][1].id == "apple"
    # Seen again: back, with its confidence restored upward.
    r = ingest(graph, [ObjectObservation("Mug", (1.0, 0.9, 0.0), object_id="mug")], t=9.0)
    assert graph.node("mug").present and r.matched == ("mug",)


def test_absent_is_gone_at_once_unless_seen_or_hidden() -> None:
    graph = SceneGraph(SceneGraphConfig(up_axis="y", miss_decay=0.5, gone_threshold=0.2))
    _mug_and_apple(graph)
    # Looked for where it was believed, not there: gone in one step, not decayed.
    r = ingest(graph, [], t=1.0, absent_ids=["mug"])
    assert r.gone == ("mug",) and not graph.node("mug").present
    # Listed absent but seen in the same batch: the observation wins.
    r = ingest(
        graph,
        [ObjectObservation("Apple", (-1.0, 0.9, 0.0), object_id="apple")],
        absent_ids=["apple"],
    )
    assert graph.node("apple").present and not r.gone
    # An unknown id is refused before anything changes.
    before = graph.node("apple")
    with pytest.raises(UnknownNodeError):
        ingest(graph, [ObjectObservation("Cup", (0.0, 0.9, 0.0))], absent_ids=["ghost"])
    assert graph.node("apple") == before and not graph.find_by_label("Cup")


def test_closed_container_hides_contents() -> None:
    graph = SceneGraph(SceneGraphConfig(up_axis="y"))
    ingest(
        graph,
        [
            ObjectObservation(
                "Fridge",
                (2.0, 0.9, 0.0),
                box=Box3D((2.0, 0.9, 0.0), (0.8, 1.8, 0.8)),
                object_id="fridge",
                layer=Layer.RECEPTACLE,
                state={"isOpen": True},
            ),
            ObjectObservation("Egg", (2.0, 1.0, 0.0), object_id="egg", parent_id="fridge"),
        ],
        t=0.0,
    )
    assert graph.support_of("egg") == ("fridge", Relation.IN)
    ingest(
        graph,
        [ObjectObservation("Fridge", (2.0, 0.9, 0.0), object_id="fridge", state={"isOpen": False})],
        t=1.0,
    )
    view = ViewVolume((0.0, 1.0, 0.0), (1.0, 0.0, 0.0), max_range_m=4.0)
    for t in range(2, 8):
        r = ingest(
            graph,
            [ObjectObservation("Fridge", (2.0, 0.9, 0.0), object_id="fridge")],
            t=float(t),
            view=view,
        )
        assert "egg" not in r.missed
    assert graph.node("egg").present and graph.node("egg").confidence == 1.0


def test_association_prefers_the_joint_best_assignment() -> None:
    graph = SceneGraph(SceneGraphConfig(up_axis="y", association_gate_m=1.0))
    ingest(
        graph,
        [
            ObjectObservation("Cup", (0.0, 0.0, 0.0), object_id="a"),
            ObjectObservation("Cup", (0.6, 0.0, 0.0), object_id="b"),
        ],
        t=0.0,
    )
    # Greedy would give the first observation (0.35) to "b" and leave the second unmatched.
    r = ingest(
        graph,
        [ObjectObservation("Cup", (0.35, 0.0, 0.0)), ObjectObservation("Cup", (0.9, 0.0, 0.0))],
        t=1.0,
    )
    assert r.node_ids == ("a", "b") and not r.created
    # Free-standing objects get "near" edges to furniture within near_radius_m.
    ingest(
        graph,
        [
            ObjectObservation("Sofa", (3.0, 0.4, 0.0), object_id="sofa", layer=Layer.RECEPTACLE),
            ObjectObservation("Chair", (9.0, 0.4, 0.0), object_id="chair", layer=Layer.RECEPTACLE),
            ObjectObservation("Ball", (3.5, 0.1, 0.5), object_id="ball"),
        ],
        t=1.5,
    )
    assert graph.neighbors("ball", Relation.NEAR) == ["sofa"]
    assert graph.support_of("ball") is None
    # Another label never associates, however close.
    r = ingest(graph, [ObjectObservation("Bowl", (0.0, 0.0, 0.0))], t=2.0)
    assert r.created and r.created[0].startswith("Bowl#")


def test_bad_batches_leave_memory_unchanged(catalog: ObjectCatalog) -> None:
    graph = import_procthor_house(HOUSE, catalog)
    before = graph.to_records()
    some = graph.nodes(Layer.OBJECT)[0]
    good = ObjectObservation(some.label, (0.0, 0.0, 0.0), object_id=some.id)
    for bad_batch, err in [
        (
            [good, ObjectObservation(some.label, (1.0, 0.0, 0.0), object_id=some.id)],
            DuplicateIdError,
        ),
        (
            [good, ObjectObservation("Toaster", (1.0, 0.0, 0.0), object_id=some.id)],
            DuplicateIdError,
        ),
        ([good, ObjectObservation("Cup", (1, 0, 0), parent_id="nowhere")], UnknownNodeError),
        ([ObjectObservation("Cup", (1, 0, 0), object_id=some.id)], InvalidInputError),
        ([good, "not an observation"], InvalidInputError),
    ]:
        with pytest.raises(err):
            ingest(graph, bad_batch)  # type: ignore[arg-type]
        assert graph.to_records() == before
    with pytest.raises(UnknownNodeError):
        ingest(graph, [good], expected_ids=["ghost"])
    assert graph.to_records() == before


def test_a_large_batch_associates_in_independent_groups(monkeypatch: pytest.MonkeyPatch) -> None:
    """2,000 observations in one batch (no ids): each group of nearby same-label things is
    solved on its own; observing the batch again matches every node, creates none. The
    batch's radius queries go through one KD-tree per layer, not a grid walk each (one
    walk per observation, over a growing graph, made 10k observations take minutes)."""
    import random

    from memory_core import Box3D, Layer, Memory, ObjectObservation
    from memory_core.spatial import SpatialGrid

    walks = 0
    one_walk = SpatialGrid.within

    def counted(self: SpatialGrid, *args: object, **kwargs: object) -> object:
        nonlocal walks
        walks += 1
        return one_walk(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(SpatialGrid, "within", counted)

    rng = random.Random(3)
    labels = ["Apple", "Mug", "Book", "Cup", "Plate"]
    batch = []
    for _ in range(2000):
        p = (rng.uniform(0, 40), rng.uniform(0, 2), rng.uniform(0, 40))
        batch.append(ObjectObservation(rng.choice(labels), p, box=Box3D(p, (0.1, 0.1, 0.1))))
    batch.append(
        ObjectObservation("Table", (20.0, 0.4, 20.0), box=Box3D((20.0, 0.4, 20.0), (1, 0.8, 1)),
                          layer=Layer.RECEPTACLE)
    )  # fmt: skip
    memory = Memory()
    first = memory.observe(batch, t=1.0)
    assert len(first.created) == len(batch)
    again = memory.observe(batch, t=2.0)
    assert not again.created and len(set(again.matched)) == len(batch)
    assert again.node_ids == first.node_ids
    assert walks == 0
    # Queries by layer see only that layer.
    near = memory.graph.within_radius((20.0, 0.4, 20.0), 3.0, (Layer.RECEPTACLE,))
    assert [n.label for _d, n in near] == ["Table"]


def test_parts_of_one_piece_of_furniture_fuse_into_one_box(catalog: ObjectCatalog) -> None:
    """A camera sees a dresser's top from one place and its front from another: the two
    flat boxes touch and together are dresser-sized, so they are one dresser whose box
    holds both. Two dressers side by side are too big together to be one."""
    graph = SceneGraph(SceneGraphConfig(up_axis="y"))
    top = ObjectObservation(
        "Dresser", (0.0, 0.97, 0.0), box=Box3D((0.0, 0.97, 0.0), (1.0, 0.0, 0.45))
    )
    front = ObjectObservation(
        "Dresser", (0.0, 0.5, 0.23), box=Box3D((0.0, 0.5, 0.23), (1.1, 0.9, 0.0))
    )
    ingest(graph, [top], t=0.0, catalog=catalog)
    r = ingest(graph, [front], t=1.0, catalog=catalog)
    assert r.matched and not r.created
    (dresser,) = graph.find_by_label("Dresser")
    assert dresser.box is not None
    assert dresser.box.size == pytest.approx((1.1, 0.92, 0.46), abs=0.02)
    assert dresser.position == pytest.approx(dresser.box.center)
    # Another dresser right beside it: together 2.2 m wide, more than any dresser.
    other = ObjectObservation(
        "Dresser", (1.1, 0.5, 0.23), box=Box3D((1.1, 0.5, 0.23), (1.1, 0.9, 0.0))
    )
    r = ingest(graph, [other], t=2.0, catalog=catalog)
    assert r.created and len(graph.find_by_label("Dresser")) == 2
    # Without type facts the front is taken for the whole dresser having moved there.
    bare = SceneGraph(SceneGraphConfig(up_axis="y"))
    ingest(bare, [top], t=0.0)
    assert ingest(bare, [front], t=1.0).moved
    assert bare.find_by_label("Dresser")[0].box == front.box


def test_furniture_parts_are_compared_by_height_too(catalog: ObjectCatalog) -> None:
    """Two drawers one above the other (front faces 0.3 m apart, touching): sorted, their
    union (0.39 x 0.52 x 0.32) fits a drawer turned on its side, but it is twice as tall
    as a drawer stands, so they stay two. An L-shaped desk (FloorPlan301's, 1.2 x 1.73 m)
    seen as two parts is deeper than most desks yet one desk."""
    drawer = TypeInfo(
        "Drawer", False, True, True, False, False, False, False, False, (0.39, 0.22, 0.32)
    )  # median of the recorded iTHOR scenes' drawers
    types = catalog.with_types({"Drawer": drawer})
    graph = SceneGraph(SceneGraphConfig(up_axis="y"))
    low = ObjectObservation(
        "Drawer", (0.0, 0.2, 0.0), box=Box3D((0.0, 0.2, 0.0), (0.39, 0.22, 0.0))
    )
    high = ObjectObservation(
        "Drawer", (0.0, 0.5, 0.0), box=Box3D((0.0, 0.5, 0.0), (0.39, 0.22, 0.0))
    )
    ingest(graph, [low], t=0.0, catalog=types)
    r = ingest(graph, [high], t=1.0, catalog=types)
    assert r.created and len(graph.find_by_label("Drawer")) == 2
    desk = SceneGraph(SceneGraphConfig(up_axis="y"))
    arm = ObjectObservation(
        "Desk", (-0.6, 0.8, -1.0), box=Box3D((-0.6, 0.8, -1.0), (0.6, 0.0, 1.73))
    )
    top = ObjectObservation(
        "Desk", (-0.9, 0.8, -1.565), box=Box3D((-0.9, 0.8, -1.565), (1.2, 0.0, 0.6))
    )
    ingest(desk, [arm], t=0.0, catalog=catalog)
    r = ingest(desk, [top], t=1.0, catalog=catalog)
    assert r.matched and not r.created
    (one,) = desk.find_by_label("Desk")
    assert one.box is not None and one.box.size == pytest.approx((1.2, 0.0, 1.73), abs=0.01)


def test_a_thing_seen_just_off_a_tables_edge_rests_on_it(catalog: ObjectCatalog) -> None:
    """A camera sees the near face of a statue at a coffee table's edge (FloorPlan225), so
    its centre lands 3 mm off the table's seen footprint; it is on the table all the same,
    and a thing a hand's width off is not."""
    graph = SceneGraph(SceneGraphConfig(up_axis="y"))
    table = Box3D((-1.95, 0.44, 2.62), (1.08, 0.02, 0.66))
    ingest(
        graph,
        [ObjectObservation("CoffeeTable", table.center, box=table, layer=Layer.RECEPTACLE)],
        t=1.0,
        catalog=catalog,
    )
    (tid,) = [n.id for n in graph.find_by_label("CoffeeTable")]
    edge = Box3D((-2.44, 0.62, 2.287), (0.17, 0.34, 0.0))
    beside = Box3D((-2.44, 0.62, 2.17), (0.17, 0.34, 0.0))
    report = ingest(
        graph,
        [
            ObjectObservation("Statue", edge.center, box=edge),
            ObjectObservation("Vase", beside.center, box=beside),
        ],
        t=2.0,
        catalog=catalog,
    )
    statue, vase = report.node_ids
    assert graph.support_of(statue) == (tid, Relation.ON)
    assert graph.support_of(vase) is None


def test_a_thing_seen_before_its_counter_rests_on_it_once_seen_again(
    catalog: ObjectCatalog,
) -> None:
    """FloorPlan423: two toilet papers on a vanity were first seen while only a sliver of
    the counter was known, so memory placed them on nothing, and kept them there (they
    never moved) after the counter was seen whole: on nothing at 0.8 m, the critic read them
    as lying on the floor. Seen again, an unsupported thing asks again what holds it."""
    graph = SceneGraph(SceneGraphConfig(up_axis="y"))
    paper = Box3D((-2.04, 0.82, 0.49), (0.11, 0.11, 0.11))
    sliver = Box3D((-3.2, 0.47, 0.3), (0.2, 0.94, 0.2))
    report = ingest(
        graph,
        [
            ObjectObservation("ToiletPaper", paper.center, box=paper),
            ObjectObservation("CounterTop", sliver.center, box=sliver, layer=Layer.RECEPTACLE),
        ],
        t=1.0,
        catalog=catalog,
    )
    tp, counter = report.node_ids
    assert graph.support_of(tp) is None
    whole = Box3D((-2.535, 0.47, 0.31), (2.25, 0.94, 1.76))
    graph.update_node(counter, position=whole.center, box=whole)
    ingest(
        graph, [ObjectObservation("ToiletPaper", paper.center, box=paper)], t=2.0, catalog=catalog
    )
    assert graph.support_of(tp) == (counter, Relation.ON)


def test_supports_never_form_a_cycle(catalog: ObjectCatalog) -> None:
    """A counter first seen as a sliver was taken to stand on its sink; seen whole, the sink
    rests on it: the older link is dropped, so walking down from anything ends."""
    graph = SceneGraph(SceneGraphConfig(up_axis="y"))
    boxes = {
        "Sink": Box3D((-2.5, 0.7, 0.25), (0.5, 0.1, 0.3)),
        "CounterTop": Box3D((-2.5, 0.47, 0.3), (2.2, 0.94, 1.7)),
        "Shelf": Box3D((-2.5, 0.3, 0.3), (0.4, 0.05, 0.3)),
    }
    report = ingest(
        graph,
        [ObjectObservation(k, b.center, box=b, layer=Layer.RECEPTACLE) for k, b in boxes.items()],
        t=1.0,
        catalog=catalog,
    )
    sink, counter, shelf = report.node_ids
    for node_id in report.node_ids:
        graph.set_support(node_id, None, Relation.ON)
    graph.set_support(counter, sink, Relation.ON)
    graph.set_support(sink, shelf, Relation.ON)
    graph.set_support(shelf, counter, Relation.IN)  # counter -> sink -> shelf -> counter
    assert graph.support_of(shelf) == (counter, Relation.IN)
    assert graph.support_of(counter) == (sink, Relation.ON)
    assert graph.support_of(sink) is None  # the link into the shelf, the oldest, is gone
    with pytest.raises(InvalidInputError):
        graph.set_support(shelf, shelf, Relation.ON)
    with pytest.raises(UnknownNodeError):
        graph.set_support(shelf, "Sink#404", Relation.ON)
    assert graph.support_of(shelf) == (counter, Relation.IN)  # refused: nothing changed
