"""Hydra's apartment scene graph (Spark-DSG JSON) imported and queried."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from memory_core import DataImportError, Layer, Relation
from memory_core.importers import import_spark_dsg
from memory_core.importers.spark_dsg import node_symbol

DSG = (
    Path(__file__).resolve().parents[4]
    / "shared/data/scene_graphs/spark_dsg_apartment/apartment_dsg.json"
)


@pytest.fixture(scope="module")
def raw() -> dict:
    return json.loads(DSG.read_text())


def test_layers_and_edges_match_the_file(raw: dict) -> None:
    graph = import_spark_dsg(DSG)
    kinds = Counter(n["attributes"]["type"] for n in raw["nodes"])
    assert len(graph.nodes(Layer.OBJECT)) == kinds["ObjectNodeAttributes"] == 7
    assert len(graph.nodes(Layer.AGENT)) == kinds["AgentNodeAttributes"] == 102
    assert len(graph.nodes(Layer.PLACE)) == kinds["PlaceNodeAttributes"] == 185
    assert [n.id for n in graph.nodes(Layer.ROOM)] == ["R(0)"]
    assert [n.id for n in graph.nodes(Layer.BUILDING)] == ["B(0)"]
    layer = {n["id"]: n["layer"] for n in raw["nodes"]}
    agents = {n["id"] for n in raw["nodes"] if n["attributes"]["type"] == "AgentNodeAttributes"}
    same = [e for e in raw["edges"] if layer[e["source"]] == layer[e["target"]]]
    follows = [e for e in same if e["source"] in agents and e["target"] in agents]
    assert graph.count_edges(Relation.FOLLOWS) == len(follows) == 101
    assert graph.count_edges(Relation.ADJACENT) == 2 * (len(same) - len(follows))
    assert graph.count_edges(Relation.CONTAINS) == len(raw["edges"]) - len(same)


def test_queries(raw: dict) -> None:
    graph = import_spark_dsg(DSG, labels={5: "chair", 11: "lamp", 16: "table"})
    assert graph.up_axis == "z"
    obj = next(n for n in raw["nodes"] if n["attributes"].get("name") == "O(11)")
    assert node_symbol(obj["id"]) == "O(11)"
    lamp = graph.node("O(11)")
    assert lamp.label == "lamp"
    assert lamp.position == tuple(obj["attributes"]["position"])
    assert lamp.box is not None
    assert lamp.box.min_corner == pytest.approx(obj["attributes"]["bounding_box"]["min"])
    assert {n.id for n in graph.find_by_label("chair")} == {"O(0)", "O(56)", "O(61)"}
    # Every object hangs off a place, and every place off the one room.
    # Objects belong to the room through their place; only places linked to R(0) count.
    room_id = next(n["id"] for n in raw["nodes"] if n["layer"] == 4)
    kind = {n["id"]: n["attributes"]["type"] for n in raw["nodes"]}
    linked = {
        e["source"] ^ e["target"] ^ room_id
        for e in raw["edges"]
        if room_id in (e["source"], e["target"])
    }
    want = {
        node_symbol(o)
        for e in raw["edges"]
        for p, o in ((e["source"], e["target"]), (e["target"], e["source"]))
        if p in linked and kind[o] == "ObjectNodeAttributes"
    }
    assert want and {n.id for n in graph.in_room("R(0)", layers=(Layer.OBJECT,))} == want
    for n in graph.nodes(Layer.OBJECT):
        assert graph.room_of(n.id) == ("R(0)" if n.id in want else None)
    nearest = graph.nearest(lamp.position, k=2, layers=(Layer.OBJECT,))
    assert nearest[0][1].id == "O(11)" and nearest[1][0] > 0
    places = graph.within_radius(lamp.position, 1.5, layers=(Layer.PLACE,))
    assert places and all(d <= 1.5 for d, _ in places)
    # The agent trajectory is a chain in time order.
    poses = sorted(graph.nodes(Layer.AGENT), key=lambda n: n.first_seen)
    chain = [e for e in graph.edges(Relation.FOLLOWS)]
    times = {n.id: n.first_seen for n in poses}
    assert all(times[e.src] <= times[e.dst] for e in chain)
    later = graph.changed_since(poses[50].first_seen)
    assert {n.id for n in later} >= {n.id for n in poses[50:]}


def test_not_a_dsg(tmp_path: Path) -> None:
    p = tmp_path / "x.json"
    p.write_text(json.dumps({"rooms": []}))
    with pytest.raises(DataImportError, match="Spark-DSG"):
        import_spark_dsg(p)
