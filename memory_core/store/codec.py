"""Value types ↔ JSON-able dicts, shared by every store backend.

orjson writes floats in their shortest round-trip form, so a save/load cycle
reproduces every coordinate bit for bit (tested), at several times the speed
of the standard library's json.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import orjson

from memory_core.policies import EntryMeta
from memory_core.stm import ObjectState
from memory_core.types import (
    COORDINATE_LIMIT_M,
    COUNT_LIMIT,
    EMBEDDING_LIMIT,
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
    "node_problem",
    "node_to",
    "stm_from",
    "stm_to",
]


_LAYERS = {layer.value: layer for layer in Layer}
_RELATIONS = {rel.value: rel for rel in Relation}


def _default(o: object) -> object:
    if isinstance(o, Pose):
        return {"__pose__": [list(o.position), list(o.orientation)]}
    if isinstance(o, Mapping):
        return dict(o)
    raise TypeError(f"cannot store a {type(o).__name__}")


def _revive(value: Any) -> Any:
    if isinstance(value, dict):
        if "__pose__" in value:
            pos, quat = value["__pose__"]
            return Pose(tuple(pos), tuple(quat))
        return {k: _revive(v) if isinstance(v, dict | list) else v for k, v in value.items()}
    if isinstance(value, list):
        # Numbers are most of it (room polygons): no call for each.
        return [_revive(v) if isinstance(v, dict | list) else v for v in value]
    return value


def dumps(obj: object) -> str:
    return orjson.dumps(obj, default=_default, option=orjson.OPT_PASSTHROUGH_DATACLASS).decode()


def loads(text: str | bytes) -> Any:
    return orjson.loads(text)


def loads_revived(text: str | bytes) -> Any:
    """Like :func:`loads`, turning stored poses back into :class:`Pose` values."""
    value = orjson.loads(text)
    # Walking the value costs ~20 µs a room polygon: text that cannot spell the marker
    # (not even with a \u escape) holds no pose.
    raw = text.encode() if isinstance(text, str) else text
    return _revive(value) if b"__pose__" in raw or b"\\u" in raw else value


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


def _number(v: object, limit: float = math.inf) -> bool:
    return type(v) in (float, int) and abs(v) <= limit  # type: ignore[arg-type]


def _numbers(vs: object, n: int, limit: float) -> bool:
    return isinstance(vs, list | tuple) and len(vs) == n and all(_number(v, limit) for v in vs)


_INF = math.inf
_NUMBER = (float, int)


def _plainly_good(
    node_id: object, layer: object, label: object, pos: Sequence[object], d: object
) -> bool:
    """The common case of :func:`node_problem` (a record this code wrote), decided with
    as few calls as possible: checking each stored node was most of loading 100k. False
    means "look closer", not "bad"."""
    limit = COORDINATE_LIMIT_M
    if type(node_id) is not str or type(layer) is not str or type(label) is not str:
        return False
    if type(d) is not dict or len(pos) != 3:
        return False
    x, y, z = pos
    if not (type(x) is float and type(y) is float and type(z) is float):
        return False
    if not (-limit <= x <= limit and -limit <= y <= limit and -limit <= z <= limit):
        return False
    f, s, c, q = d.get("f"), d.get("s"), d.get("c"), d.get("q")
    if not (type(f) is float and type(s) is float and type(c) is float and type(q) is float):
        return False
    if not (-_INF < f < _INF and -_INF < s < _INF and -_INF < c < _INF and 0.0 <= q <= 1.0):
        return False
    n, m = d.get("n"), d.get("m")
    if type(n) is not int or type(m) is not int or type(d.get("p")) is not bool:
        return False
    if not (0 <= n <= COUNT_LIMIT and 0 <= m <= COUNT_LIMIT):
        return False
    b = d.get("b")
    if b is not None:
        if type(b) is not list or len(b) != 2:
            return False
        if type(b[0]) is not list or type(b[1]) is not list or len(b[0]) != 3 or len(b[1]) != 3:
            return False
        (cx, cy, cz), (sx, sy, sz) = b
        if not (
            type(cx) is float
            and type(cy) is float
            and type(cz) is float
            and type(sx) is float
            and type(sy) is float
            and type(sz) is float
            and -limit <= cx <= limit
            and -limit <= cy <= limit
            and -limit <= cz <= limit
            and 0.0 <= sx <= limit
            and 0.0 <= sy <= limit
            and 0.0 <= sz <= limit
        ):
            return False
    st = d.get("st")
    if st is not None:
        if type(st) is not dict:
            return False
        for v in st.values():
            kind = type(v)
            if not (kind is bool or kind is str or (kind in _NUMBER and -_INF < v < _INF)):
                return False
    if "a" in d and type(d["a"]) is not dict:
        return False
    return layer in _LAYERS and node_id != "" and label.strip() != ""


def node_problem(
    node_id: object,
    layer: object,
    label: object,
    pos: tuple[object, object, object],
    d: object,
    emb: tuple[float, ...] | None,
) -> str | None:
    """Why a stored node record cannot be loaded as a :class:`SceneNode`, or None.

    Stored records are trusted for speed (no re-validation) only after this cheap check:
    a record written by an older build or edited by hand can hold values that would
    otherwise poison every later computation (a coordinate of 1e300, NaN, a string).
    """
    if emb is None and _plainly_good(node_id, layer, label, pos, d):
        return None
    limit = COORDINATE_LIMIT_M
    if not isinstance(node_id, str) or not node_id or not isinstance(layer, str):
        return "bad id or layer"
    if layer not in _LAYERS:
        return "bad id or layer"
    if not isinstance(label, str) or not label.strip():
        return "bad label"
    if not _numbers(pos, 3, limit):
        return f"position {pos!r} is not 3 numbers within +-{limit:g} m"
    if not isinstance(d, dict):
        return "record is not a mapping"
    if not all(_number(d.get(k)) and math.isfinite(d[k]) for k in ("f", "s", "c")):
        return "bad times"
    q = d.get("q")
    if not _number(q) or not 0.0 <= q <= 1.0:  # type: ignore[operator]
        return "bad confidence"
    if type(d.get("n")) is not int or type(d.get("m")) is not int or type(d.get("p")) is not bool:
        return "bad counters"
    if not (0 <= d["n"] <= COUNT_LIMIT and 0 <= d["m"] <= COUNT_LIMIT):
        return f"counters beyond [0, {COUNT_LIMIT}]"
    b = d.get("b")
    if b is not None and not (
        isinstance(b, list)
        and len(b) == 2
        and _numbers(b[0], 3, limit)
        and _numbers(b[1], 3, limit)
        and min(b[1]) >= 0
    ):
        return f"box {b!r} is malformed or beyond +-{limit:g} m"
    st = d.get("st", {})
    if not isinstance(st, dict) or not all(
        isinstance(v, bool | str) or (_number(v) and math.isfinite(v)) for v in st.values()
    ):
        return "bad state"
    if "a" in d and not isinstance(d["a"], dict):
        return "bad attributes"
    if emb is not None and not all(abs(x) <= EMBEDDING_LIMIT for x in emb):
        return "embedding is not finite"
    return None


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
