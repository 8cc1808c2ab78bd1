"""ProcTHOR / AI2-THOR ``CreateHouse`` JSON → scene graph.

Rooms come from floor polygons, doors give ``adjacent`` edges, every object
(children included) is contained by the room whose polygon holds it, and a
child is ``in``/``on`` its parent. Sizes come from the asset database.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from memory_core.catalog import ObjectCatalog
from memory_core.config import SceneGraphConfig
from memory_core.errors import DataImportError, LociError
from memory_core.geometry import RoomFootprint
from memory_core.scene_graph import SceneGraph
from memory_core.types import Box3D, Layer, Relation, SceneNode, Vec3
from memory_core.update import support_relation

__all__ = ["import_procthor_house", "load_procthor_house", "rotated_size"]


def load_procthor_house(path: str | Path) -> dict[str, Any]:
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise DataImportError(f"cannot read house {p}: {exc}") from exc
    if not isinstance(data, dict) or "rooms" not in data:
        raise DataImportError(f"{p} is not a ProcTHOR house (no 'rooms')")
    data.setdefault("name", p.stem)
    return data


def _xyz(d: Mapping[str, Any]) -> Vec3:
    return (float(d["x"]), float(d["y"]), float(d["z"]))


def rotated_size(size: Vec3, yaw_deg: float) -> Vec3:
    """Axis-aligned extents of a box of ``size`` turned by ``yaw_deg`` about y."""
    a = math.radians(yaw_deg)
    c, s = abs(math.cos(a)), abs(math.sin(a))
    return (size[0] * c + size[2] * s, size[1], size[0] * s + size[2] * c)


def import_procthor_house(
    house: Mapping[str, Any] | str | Path,
    catalog: ObjectCatalog | None = None,
    config: SceneGraphConfig | None = None,
    t: float = 0.0,
) -> SceneGraph:
    data = load_procthor_house(house) if isinstance(house, str | Path) else house
    cfg = config or SceneGraphConfig(up_axis="y")
    if cfg.up_axis != "y":
        raise DataImportError("ProcTHOR houses are y-up; use a config with up_axis='y'")
    graph = SceneGraph(cfg)
    name = str(data.get("name", "house"))
    graph.meta["source"] = f"procthor:{name}"
    try:
        _build(graph, data, name, catalog, t)
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, LociError):
            raise DataImportError(f"house {name}: {exc}") from exc
        raise DataImportError(f"house {name}: malformed field ({exc!r})") from exc
    return graph


def _build(
    graph: SceneGraph, data: Mapping[str, Any], name: str, catalog: ObjectCatalog | None, t: float
) -> None:
    building = f"building|{name}"
    graph.add_node(
        SceneNode(
            building,
            Layer.BUILDING,
            "House",
            (0.0, 0.0, 0.0),
            first_seen=t,
            last_seen=t,
            last_changed=t,
        )
    )
    for room in data["rooms"]:
        poly = [(float(p["x"]), float(p["z"])) for p in room["floorPolygon"]]
        cx, cz = RoomFootprint(room["id"], poly).centroid
        graph.add_node(
            SceneNode(
                room["id"],
                Layer.ROOM,
                str(room.get("roomType") or "Room"),
                (cx, 0.0, cz),
                first_seen=t,
                last_seen=t,
                last_changed=t,
            ),
            polygon=poly,
        )
        graph.add_edge(building, room["id"], Relation.CONTAINS)
    for door in data.get("doors") or []:
        a, b = door["room0"], door["room1"]
        if a == b:  # a door to the outside
            continue
        graph.add_edge(a, b, Relation.ADJACENT, door=door["id"])
        graph.add_edge(b, a, Relation.ADJACENT, door=door["id"])

    def add(obj: Mapping[str, Any], parent: SceneNode | None) -> None:
        obj_id = str(obj["id"])
        asset = catalog.asset(str(obj.get("assetId", ""))) if catalog else None
        label = asset[0] if asset else obj_id.split("|")[0]
        pos = _xyz(obj["position"])
        box = None
        if asset is not None:
            box = Box3D(pos, rotated_size(asset[1], float(obj.get("rotation", {}).get("y", 0.0))))
        state: dict[str, bool | float] = {}
        if "openness" in obj:
            state["openness"] = float(obj["openness"])
            state["isOpen"] = float(obj["openness"]) > 0.0
        layer = catalog.layer_of(label) if catalog else Layer.OBJECT
        node = SceneNode(
            obj_id,
            layer,
            label,
            pos,
            box=box,
            state=state,
            first_seen=t,
            last_seen=t,
            last_changed=t,
            attrs={"assetId": obj.get("assetId", "")},
        )
        graph.add_node(node)
        room = graph.locate_room(pos)
        if room is not None:
            graph.add_edge(room, obj_id, Relation.CONTAINS)
        if parent is not None:
            graph.add_edge(obj_id, parent.id, support_relation(graph, parent, pos, catalog))
        for child in obj.get("children") or []:
            add(child, node)

    for obj in data.get("objects") or []:
        add(obj, None)
