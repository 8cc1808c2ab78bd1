"""Scene graphs built from all 20 real ProcTHOR houses, checked against the files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from memory_core import DataImportError, Layer, ObjectCatalog, Relation
from memory_core.importers import import_procthor_house

HOUSES = sorted(
    (Path(__file__).resolve().parents[4] / "shared/data/procthor_houses/houses_20").glob("*.json")
)


def _walk(objs: list[dict[str, Any]], parent: str | None = None):
    for o in objs:
        yield o, parent
        yield from _walk(o.get("children") or [], o["id"])


def test_all_twenty_houses_are_present() -> None:
    assert len(HOUSES) == 20


@pytest.mark.parametrize("path", HOUSES, ids=lambda p: p.stem)
def test_house_counts_and_membership(path: Path, catalog: ObjectCatalog) -> None:
    house = json.loads(path.read_text())
    graph = import_procthor_house(path, catalog)
    objects = list(_walk(house["objects"]))
    children = [(o, p) for o, p in objects if p is not None]
    interior_doors = [d for d in house["doors"] if d["room0"] != d["room1"]]

    assert len(graph) == 1 + len(house["rooms"]) + len(objects)
    assert len(graph.nodes(Layer.ROOM)) == len(house["rooms"])
    assert graph.count_edges(Relation.CONTAINS) == len(house["rooms"]) + len(objects)
    assert graph.count_edges(Relation.IN) + graph.count_edges(Relation.ON) == len(children)
    assert graph.count_edges(Relation.ADJACENT) == 2 * len(interior_doors)
    assert graph.count_edges() == (
        len(house["rooms"]) + len(objects) + len(children) + 2 * len(interior_doors)
    )
    for obj, parent in objects:
        # ProcTHOR ids are Type|room|index: the polygon test must agree with the file.
        assert graph.room_of(obj["id"]) == f"room|{obj['id'].split('|')[1]}", obj["id"]
        support = graph.support_of(obj["id"])
        assert (support[0] if support else None) == parent
        asset = catalog.asset(obj["assetId"])
        assert asset is not None, obj["assetId"]
        assert graph.node(obj["id"]).label == asset[0]
    for room in house["rooms"]:
        assert graph.node(room["id"]).label == room["roomType"]
        want = {o["id"] for o, _p in objects if o["id"].split("|")[1] == room["id"].split("|")[1]}
        assert {n.id for n in graph.in_room(room["id"])} == want


def test_queries_on_house_0(catalog: ObjectCatalog) -> None:
    graph = import_procthor_house(HOUSES[0], catalog)
    counter = graph.find_by_label("CounterTop")[0]
    on_counter = graph.contents(counter.id)
    assert on_counter and all(
        graph.support_of(n.id) == (counter.id, Relation.ON) for n in on_counter
    )
    house = json.loads(HOUSES[0].read_text())
    listed = {
        c["id"]
        for o, _p in _walk(house["objects"])
        if o["id"] == counter.id
        for c in o.get("children") or []
    }
    assert {n.id for n in on_counter} == listed
    apple_like = graph.find_by_label("Laptop")[0]
    near = graph.nearest(apple_like.position, k=4)
    assert near[0][1].id == apple_like.id and near[0][0] == 0.0
    assert [d for d, _n in near] == sorted(d for d, _n in near)
    radius = graph.within_radius(apple_like.position, 1.0)
    assert all(d <= 1.0 for d, _n in radius)
    brute = sorted(
        n.id
        for n in graph.nodes()
        if n.layer in (Layer.OBJECT, Layer.RECEPTACLE)
        and sum((a - b) ** 2 for a, b in zip(n.position, apple_like.position, strict=True)) <= 1.0
    )
    assert sorted(n.id for _d, n in radius) == brute
    assert graph.changed_since(0.0) and not graph.changed_since(1.0)


def test_room_paths_follow_doors(catalog: ObjectCatalog) -> None:
    house = json.loads(HOUSES[0].read_text())
    graph = import_procthor_house(HOUSES[0], catalog)
    doors = {frozenset((d["room0"], d["room1"])): d["id"] for d in house["doors"]}
    path = graph.room_path("room|5", "room|6")
    assert path is not None and path.rooms[0] == "room|5" and path.rooms[-1] == "room|6"
    for a, b, door in zip(path.rooms, path.rooms[1:], path.doors, strict=False):
        assert doors[frozenset((a, b))] == door
    # house_0's living room (room|7) has only a door to the outside: no path from the bathroom.
    assert graph.room_path("room|5", "room|7") is None


def test_bad_house_file(tmp_path: Path) -> None:
    bad = tmp_path / "house.json"
    bad.write_text('{"rooms": [{"id": "room|1", "floorPolygon": []}]}')
    with pytest.raises(DataImportError, match="polygon"):
        import_procthor_house(bad)
    bad.write_text("not json")
    with pytest.raises(DataImportError, match="cannot read"):
        import_procthor_house(bad)
