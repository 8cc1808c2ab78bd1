"""Hydra / Spark-DSG JSON → scene graph.

Spark-DSG layers: 2 objects and agent poses, 3 places, 4 rooms, 5 buildings.
Edges between layers become ``contains`` (parent layer → child), place-place
edges ``adjacent`` and consecutive agent poses ``follows``. The file carries no
semantic-label → class-name table, so labels are ``semantic_<k>`` unless a
mapping is given. Spark-DSG worlds are z-up.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from memory_core.config import SceneGraphConfig
from memory_core.errors import DataImportError, LociError
from memory_core.scene_graph import SceneGraph
from memory_core.types import Box3D, Layer, Pose, Relation, SceneNode

__all__ = ["import_spark_dsg", "node_symbol"]

_LAYERS = {3: Layer.PLACE, 4: Layer.ROOM, 5: Layer.BUILDING}
_INDEX_BITS = 56


def node_symbol(raw_id: int) -> str:
    """Spark-DSG's printable NodeSymbol: a prefix character and an index, e.g. ``O(11)``."""
    return f"{chr(raw_id >> _INDEX_BITS)}({raw_id & ((1 << _INDEX_BITS) - 1)})"


def import_spark_dsg(
    path: str | Path,
    labels: Mapping[int, str] | None = None,
    config: SceneGraphConfig | None = None,
) -> SceneGraph:
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise DataImportError(f"cannot read scene graph {p}: {exc}") from exc
    if not isinstance(data, dict) or "nodes" not in data or "edges" not in data:
        raise DataImportError(f"{p} is not a Spark-DSG JSON file (needs 'nodes' and 'edges')")
    cfg = config or SceneGraphConfig(up_axis="z")
    if cfg.up_axis != "z":
        raise DataImportError("Spark-DSG graphs are z-up; use a config with up_axis='z'")
    graph = SceneGraph(cfg)
    graph.meta["source"] = f"spark_dsg:{p.name}"
    try:
        _build(graph, data, labels or {})
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        if isinstance(exc, LociError):
            raise DataImportError(f"{p.name}: {exc}") from exc
        raise DataImportError(f"{p.name}: malformed field ({exc!r})") from exc
    return graph


def _build(graph: SceneGraph, data: Mapping[str, Any], labels: Mapping[int, str]) -> None:
    ids: dict[int, str] = {}
    layer_num: dict[int, int] = {}
    stamps: dict[int, float] = {}
    for raw in data["nodes"]:
        attrs = raw["attributes"]
        kind = attrs["type"]
        num = int(raw["layer"])
        node_id = node_symbol(int(raw["id"]))
        pos = attrs["position"]
        position = (float(pos[0]), float(pos[1]), float(pos[2]))
        box = None
        bb = attrs.get("bounding_box")
        if bb and bb.get("type") == "AABB":
            lo, hi = bb["min"], bb["max"]
            box = Box3D(
                tuple((lo[i] + hi[i]) / 2 for i in range(3)),
                tuple(hi[i] - lo[i] for i in range(3)),
            )
        extra: dict[str, object] = {"dsg_type": kind}
        t = 0.0
        if kind == "AgentNodeAttributes":
            layer, label = Layer.AGENT, "agent"
            t = float(raw.get("timestamp", 0)) * 1e-9
            q = attrs["world_R_body"]
            extra["pose"] = Pose(position, (q["x"], q["y"], q["z"], q["w"]))
            stamps[int(raw["id"])] = t
        elif kind == "ObjectNodeAttributes":
            sem = int(attrs.get("semantic_label", -1))
            layer, label = Layer.OBJECT, labels.get(sem, f"semantic_{sem}")
            extra["semantic_label"] = sem
        elif num in _LAYERS:
            layer = _LAYERS[num]
            label = attrs.get("name") or layer.value
            if kind == "PlaceNodeAttributes":
                label = "place"
                extra["distance"] = float(attrs.get("distance", 0.0))
        else:
            raise DataImportError(f"node {node_id}: unsupported layer {num} ({kind})")
        graph.add_node(
            SceneNode(
                node_id,
                layer,
                str(label),
                position,
                box=box,
                first_seen=t,
                last_seen=t,
                last_changed=t,
                attrs=extra,
            )
        )
        ids[int(raw["id"])] = node_id
        layer_num[int(raw["id"])] = num
    for edge in data["edges"]:
        s, d = int(edge["source"]), int(edge["target"])
        ls, ld = layer_num[s], layer_num[d]
        if ls == ld:
            if s in stamps and d in stamps:
                first, second = (s, d) if stamps[s] <= stamps[d] else (d, s)
                graph.add_edge(ids[first], ids[second], Relation.FOLLOWS)
            else:
                graph.add_edge(ids[s], ids[d], Relation.ADJACENT)
                graph.add_edge(ids[d], ids[s], Relation.ADJACENT)
        else:
            parent, child = (s, d) if ls > ld else (d, s)
            graph.add_edge(ids[parent], ids[child], Relation.CONTAINS)
