"""Memory snapshots and change sets as JSON between processes.

A planner works on a copy of the memory node's memory for one task and sends back what
it changed; the memory merges it (:meth:`memory_core.Memory.apply_changes`). Records
that arrive as JSON are validated as they are rebuilt (unlike a store's own records).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from memory_core.errors import InvalidInputError
from memory_core.snapshot import ChangeSet, MemorySnapshot
from memory_core.store import codec
from memory_core.types import COORDINATE_LIMIT_M, SceneNode, check_bounded

__all__ = [
    "changes_from_json",
    "changes_to_json",
    "snapshot_from_json",
    "snapshot_to_json",
]


def _node_row(n: SceneNode) -> list[Any]:
    return [n.id, n.layer.value, n.label, list(n.position), codec.node_to(n), n.embedding]


def _encode(c: ChangeSet) -> str:
    return codec.dumps(
        {
            "nodes": [_node_row(n) for n in c.nodes],
            "removed_nodes": list(c.removed_nodes),
            "edge_nodes": list(c.edge_nodes),
            "edges": [codec.edge_to(e) for e in c.edges],
            "episodes": [[e.episode_id, codec.episode_to(e)] for e in c.episodes],
            "events": [[e.seq, e.t, e.episode_id, codec.event_to(e)] for e in c.events],
            "graph_meta": c.graph_meta,
            "stm": None
            if c.stm_entries is None
            else [[s.object_id, codec.stm_to(s, m)] for s, m in c.stm_entries],
            "stm_meta": c.stm_meta,
        }
    )


def _meta(value: Any, what: str) -> dict[str, Any] | None:
    """A graph or STM meta record from another process, checked before it is merged (a
    malformed one once stopped the memory node)."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InvalidInputError(f"{what} must be an object, got {type(value).__name__}")
    counter = value.get("id_counter", 0)
    if isinstance(counter, bool) or not isinstance(counter, int) or not 0 <= counter < 1 << 62:
        raise InvalidInputError(f"{what}.id_counter must be an integer >= 0, got {counter!r}")
    polys = value.get("room_polygons", {})
    if not isinstance(polys, dict):
        raise InvalidInputError(f"{what}.room_polygons must map room ids to outlines")
    for room_id, poly in polys.items():
        if not isinstance(poly, list) or len(poly) < 3:
            raise InvalidInputError(f"{what}.room_polygons[{room_id!r}] needs >= 3 points")
        for point in poly:
            if not isinstance(point, list) or len(point) != 2:
                raise InvalidInputError(f"{what}.room_polygons[{room_id!r}] has a bad point")
            check_bounded(f"{what}.room_polygons[{room_id!r}]", point, COORDINATE_LIMIT_M)
    return value


def _decode(text: str | bytes, what: str) -> ChangeSet:
    try:
        d = codec.loads(text)
        nodes = tuple(
            # replace() re-runs validation that the store's trusted reader skips.
            dataclasses.replace(
                codec.node_from(r[0], r[1], r[2], tuple(r[3]), r[4], tuple(r[5]) if r[5] else None)
            )
            for r in d["nodes"]
        )
        stm = d["stm"]
        return ChangeSet(
            nodes=nodes,
            removed_nodes=tuple(str(i) for i in d["removed_nodes"]),
            edge_nodes=tuple(str(i) for i in d["edge_nodes"]),
            edges=tuple(codec.edge_from(tuple(r)) for r in d["edges"]),
            episodes=tuple(codec.episode_from(r[0], r[1]) for r in d["episodes"]),
            events=tuple(codec.event_from(r[0], r[1], r[2], r[3]) for r in d["events"]),
            graph_meta=_meta(d["graph_meta"], "graph_meta"),
            stm_entries=None if stm is None else tuple(codec.stm_from(r[0], r[1]) for r in stm),
            stm_meta=_meta(d["stm_meta"], "stm_meta"),
        )
    except InvalidInputError:
        raise
    except (AttributeError, KeyError, TypeError, ValueError, IndexError) as exc:
        raise InvalidInputError(f"malformed {what}: {type(exc).__name__}: {exc}") from exc


def changes_to_json(changes: ChangeSet) -> str:
    return _encode(changes)


def changes_from_json(text: str | bytes) -> ChangeSet:
    return _decode(text, "memory change set")


def snapshot_to_json(s: MemorySnapshot) -> str:
    return _encode(
        ChangeSet(
            nodes=tuple(s.nodes),
            edges=tuple(s.edges),
            episodes=s.episodes,
            events=s.events,
            graph_meta=s.graph_meta,
            stm_entries=s.stm_entries,
            stm_meta=s.stm_meta,
        )
    )


def snapshot_from_json(text: str | bytes) -> MemorySnapshot:
    c = _decode(text, "memory snapshot")
    return MemorySnapshot(
        nodes=c.nodes,
        edges=c.edges,
        graph_meta=c.graph_meta or {},
        stm_entries=c.stm_entries or (),
        stm_meta=c.stm_meta or {},
        episodes=c.episodes,
        events=c.events,
    )
