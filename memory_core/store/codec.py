"""Value types ↔ JSON-able dicts, shared by every store backend.

orjson writes floats in their shortest round-trip form, so a save/load cycle
reproduces every coordinate bit for bit (tested), at several times the speed
of the standard library's json.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import orjson

from memory_core.policies import EntryMeta
from memory_core.stm import ObjectState
from memory_core.types import (
    Box3D,
    Episode,
    Event,
    Layer,
    Pose,
    Relation,
    SceneEdge,
    SceneNode,
    trusted,
)

__all__ = [
    "decode_embedding",
    "dumps",
    "edge_from",
    "edge_to",
    "embedding_blob",
    "episode_from",
    "episode_to",
    "event_from",
    "event_to",
    "loads",
    "loads_revived",
    "node_from",
    "node_to",
    "stm_from",
    "stm_to",
]


_LAYERS = {layer.value: layer for layer in Layer}
_RELATIONS = {rel.value: rel for rel in Relation}


def _default(o: object) -> object:
    if isinstance(o, Pose):
        return {"__pose__": [list(o.position), list(o.orientation)]}
    raise TypeError(f"cannot store a {type(o).__name__}")


def _revive(value: Any) -> Any:
    if isinstance(value, dict):
        if "__pose__" in value:
            pos, quat = value["__pose__"]
            return Pose(tuple(pos), tuple(quat))
        return {k: _revive(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_revive(v) for v in value]
    return value


def dumps(obj: object) -> str:
    return orjson.dumps(obj, default=_default, option=orjson.OPT_PASSTHROUGH_DATACLASS).decode()


def loads(text: str | bytes) -> Any:
    return orjson.loads(text)


def loads_revived(text: str | bytes) -> Any:
    """Like :func:`loads`, turning stored poses back into :class:`Pose` values."""
    return _revive(orjson.loads(text))


def embedding_blob(vec: tuple[float, ...] | None) -> bytes | None:
    return None if vec is None else np.asarray(vec, dtype="<f8").tobytes()


def decode_embedding(blob: bytes | None) -> tuple[float, ...] | None:
    return None if blob is None else tuple(float(x) for x in np.frombuffer(blob, dtype="<f8"))


def node_to(n: SceneNode) -> dict[str, Any]:
    d: dict[str, Any] = {
        "f": n.first_seen,
        "s": n.last_seen,
        "c": n.last_changed,
        "n": n.n_obs,
        "q": n.confidence,
        "m": n.misses,
        "p": n.present,
    }
    if n.box is not None:
        d["b"] = [list(n.box.center), list(n.box.size)]
    if n.state:
        d["st"] = dict(n.state)
    if n.attrs:
        d["a"] = dict(n.attrs)
    return d


def node_from(
    node_id: str,
    layer: str,
    label: str,
    pos: tuple[float, float, float],
    d: Mapping[str, Any],
    emb: tuple[float, ...] | None,
) -> SceneNode:
    # Records come from this store, validated when they were written: no re-validation.
    b = d.get("b")
    box = trusted(Box3D, center=tuple(b[0]), size=tuple(b[1])) if b is not None else None
    return trusted(
        SceneNode,
        id=node_id,
        layer=_LAYERS[layer],
        label=label,
        position=pos,
        box=box,
        state=d.get("st", {}),
        first_seen=d["f"],
        last_seen=d["s"],
        last_changed=d["c"],
        n_obs=d["n"],
        confidence=d["q"],
        misses=d["m"],
        present=d["p"],
        embedding=emb,
        attrs=_revive(d["a"]) if "a" in d else {},
    )


def edge_to(e: SceneEdge) -> tuple[str, str, str, str | None]:
    return (e.src, e.dst, e.relation.value, dumps(dict(e.attrs)) if e.attrs else None)


def edge_from(row: tuple[str, str, str, str | None]) -> SceneEdge:
    return SceneEdge(row[0], row[1], _RELATIONS[row[2]], loads_revived(row[3]) if row[3] else {})


def stm_to(s: ObjectState, m: EntryMeta) -> dict[str, Any]:
    return {
        "label": s.label,
        "pos": list(s.position),
        "rec": s.receptacle,
        "room": s.room,
        "st": dict(s.state),
        "t": s.t,
        "ins": m.inserted,
        "acc": m.accessed,
        "cnt": m.count,
    }


def stm_from(object_id: str, d: Mapping[str, Any]) -> tuple[ObjectState, EntryMeta]:
    return (
        ObjectState(object_id, d["label"], tuple(d["pos"]), d["rec"], d["room"], d["st"], d["t"]),
        EntryMeta(d["label"], d["ins"], d["acc"], d["cnt"]),
    )


def episode_to(e: Episode) -> dict[str, Any]:
    return {
        "instruction": e.instruction,
        "start": e.start_t,
        "end": e.end_t,
        "outcome": e.outcome,
        "scene": e.scene,
    }


def episode_from(episode_id: str, d: Mapping[str, Any]) -> Episode:
    return Episode(episode_id, d["instruction"], d["start"], d["end"], d["outcome"], d["scene"])


def event_to(e: Event) -> dict[str, Any]:
    return {
        "action": e.action,
        "outcome": e.outcome,
        "objects": list(e.objects),
        "room": e.room,
        "pose": e.pose,
        "text": e.text,
    }


def event_from(seq: int, t: float, episode_id: str, d: Mapping[str, Any]) -> Event:
    pose = _revive(d["pose"]) if d["pose"] is not None else None
    return Event(
        t=t,
        episode_id=episode_id,
        action=d["action"],
        outcome=d["outcome"],
        objects=tuple(d["objects"]),
        room=d["room"],
        pose=pose,
        text=d["text"],
        seq=seq,
    )
