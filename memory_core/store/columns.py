"""A whole scene graph as a few blobs: how a store keeps the graph it saves in one piece.

One row per node and per edge cost ~35 µs a node to load (fetch, decode, check, build,
index) and most of a save in B-tree inserts. As columns a save writes ~12 blobs and a
load decodes them with numpy and orjson; nodes are built when the graph first needs them
(see :mod:`memory_core.cold`). Numbers are numpy columns; the rest of a node (state,
attributes) is one JSON list for all. A node never thawed is saved again from its
columns, never rebuilt.

The blobs carry a checksum (CRC-32; bases written before it carry a BLAKE2b digest, still
read): a base whose checksum matches is what this code wrote
from validated values and is not checked again node by node; one that does not match
(edited, damaged) is checked like rows are, and a bad node quarantined.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import chain, repeat
from operator import attrgetter, is_not
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson

from memory_core.cold import IntArray, LazyEdges, LazyNodes
from memory_core.errors import CorruptStoreError
from memory_core.gcpause import paused_gc
from memory_core.store import codec
from memory_core.types import (
    COORDINATE_LIMIT_M,
    COUNT_LIMIT,
    Layer,
    Relation,
    SceneEdge,
    SceneNode,
)

__all__ = ["EdgeColumns", "Extras", "NodeColumns", "decode_base", "encode_base"]

_LAYERS = {layer.value: layer for layer in Layer}
_RELATIONS = list(Relation)
_REL_CODE = {rel: i for i, rel in enumerate(_RELATIONS)}
_RELATION_OF = {rel.value: rel for rel in Relation}
_LAYER_LIST = list(Layer)
_LAYER_CODE = {layer: i for i, layer in enumerate(_LAYER_LIST)}
FORMAT = 1


def _json(obj: object) -> bytes:
    return orjson.dumps(obj, default=codec._default, option=orjson.OPT_PASSTHROUGH_DATACLASS)


_NO_BOX = (math.nan,) * 6
_SCALARS = (
    "first_seen",
    "last_seen",
    "last_changed",
    "confidence",
    "n_obs",
    "misses",
    "present",
)


class Extras:
    """Per node: ``[state, attributes]``, or None (bases written before 2026-12-04 wrote
    None for a node with neither).

    Kept as the stored JSON until something reads a node: a load that builds no node
    never parses it (~100k small lists for 100k nodes, and the collector's pass over
    them), and a save of rows nobody changed writes the same bytes back."""

    __slots__ = ("_n", "_text", "_values")

    def __init__(self, n: int, values: list[Any] | None = None, text: bytes | None = None) -> None:
        if values is None and text is None:
            raise ValueError("extras need values or their JSON")
        self._n = n
        self._values = values
        self._text = text

    @classmethod
    def checked_now(cls, n: int, text: bytes) -> Extras:
        """Extras of a base that failed its checksum, parsed at once (ValueError: not a
        list of ``n``); a row of the wrong shape is left to the node-by-node check."""
        values = codec.loads(text)
        if not isinstance(values, list) or len(values) != n:
            raise ValueError("node extras do not match the nodes")
        return cls(n, values, text)

    def __len__(self) -> int:
        return self._n

    def values(self) -> list[Any]:
        """The values; CorruptStoreError when the JSON does not have their shape (a base
        whose checksum matched, so edited with the checksum recomputed: its state and
        attributes were not read at load)."""
        if self._values is None:
            assert self._text is not None
            try:
                with paused_gc():  # 100k small lists: see memory_core.gcpause
                    values = codec.loads(self._text)
            except orjson.JSONDecodeError as exc:
                raise CorruptStoreError(f"the saved nodes' state is unreadable: {exc}") from exc
            if not isinstance(values, list) or len(values) != self._n:
                raise CorruptStoreError("the saved nodes' state does not match the nodes")
            bad = next((i for i, v in enumerate(values) if not _shaped(v)), None)
            if bad is not None:
                raise CorruptStoreError(
                    f"the saved state of node row {bad} is not [state, attributes]: "
                    f"{values[bad]!r:.80}"
                )
            self._values = values
        return self._values

    def text(self) -> bytes:
        if self._text is None:
            self._text = _json(self._values)
        return self._text


@dataclass(frozen=True, eq=False)
class NodeColumns:
    """Nodes as columns (implements :class:`memory_core.cold.ColdNodes`)."""

    ids: list[str]
    labels: list[str]
    layers: list[Layer]
    position: npt.NDArray[np.float64]
    """(n, 3)"""
    box: npt.NDArray[np.float64]
    """(n, 6): centre then size; NaN where a node has no box."""
    first_seen: npt.NDArray[np.float64]
    last_seen: npt.NDArray[np.float64]
    last_changed: npt.NDArray[np.float64]
    confidence: npt.NDArray[np.float64]
    n_obs: npt.NDArray[np.int64]
    misses: npt.NDArray[np.int64]
    present: npt.NDArray[np.bool_]
    extras: Extras
    embeddings: dict[int, bytes]
    """Row -> :func:`codec.embedding_blob`, for the rows that have one."""
    row_of: Mapping[str, int] | None = None
    """Row by id, when a reader made it anyway (it checks that ids are unique)."""

    def __len__(self) -> int:
        return len(self.ids)

    def record(self, i: int) -> dict[str, Any]:
        """Row ``i`` as the row store's node record (:func:`codec.node_to`)."""
        d: dict[str, Any] = {
            "f": float(self.first_seen[i]),
            "s": float(self.last_seen[i]),
            "c": float(self.last_changed[i]),
            "n": int(self.n_obs[i]),
            "q": float(self.confidence[i]),
            "m": int(self.misses[i]),
            "p": bool(self.present[i]),
        }
        box = self.box[i].tolist()
        if not math.isnan(box[0]):
            d["b"] = [box[:3], box[3:]]
        extra = self.extras.values()[i]
        if extra is not None:
            st, attrs = extra
            if st:
                d["st"] = dict(st)  # each node its own (the decoded list is shared)
            if attrs:
                d["a"] = attrs
        return d

    def node(self, i: int) -> SceneNode:
        x, y, z = self.position[i].tolist()
        return codec.node_from(
            self.ids[i],
            self.layers[i].value,
            self.labels[i],
            (x, y, z),
            self.record(i),
            codec.decode_embedding(self.embeddings.get(i)),
        )

    def row(self, i: int) -> tuple[object, ...]:
        """Row ``i`` as the ``nodes`` table holds a node (a quarantined node is kept as
        one). A record too damaged to read is kept as it was, under a key no loader
        accepts, so it stays quarantined instead of loading half-read."""
        x, y, z = self.position[i].tolist()
        try:
            data = codec.dumps(self.record(i))
        except (TypeError, ValueError):
            data = codec.dumps(
                {
                    "damaged_base_record": {
                        "box": self.box[i].tolist(),
                        "extras": self.extras.values()[i],
                    }
                }
            )
        return (
            self.ids[i],
            self.layers[i].value,
            self.labels[i],
            x,
            y,
            z,
            data,
            self.embeddings.get(i),
        )

    @classmethod
    def from_nodes(cls, nodes: Sequence[SceneNode]) -> NodeColumns:
        """Columns of ``nodes``; rows of a :class:`LazyNodes` over columns are copied
        as they are (never built)."""
        built: Sequence[SceneNode] = nodes
        base: NodeColumns | None = None
        if isinstance(nodes, LazyNodes):
            built = nodes.extra
            if isinstance(nodes.cold, NodeColumns):
                base = nodes.cold.take(np.asarray(nodes.keep, dtype=np.int64))
            elif len(nodes.keep):
                built = list(nodes)
        fresh = cls._encode(built if isinstance(built, list) else list(built))
        return fresh if base is None else base.concat(fresh)

    @classmethod
    def _encode(cls, built: list[SceneNode]) -> NodeColumns:
        # C-level passes (attrgetter, chain, fromiter), the scalar fields all in one: a
        # Python loop over 100k nodes doing every field was most of a save. Counts go
        # through float64 exactly: a node refuses counts above COUNT_LIMIT = 2**53.
        n = len(built)
        scalars = np.fromiter(
            chain.from_iterable(map(attrgetter(*_SCALARS), built)), np.float64, len(_SCALARS) * n
        ).reshape(n, len(_SCALARS))
        boxes = list(map(attrgetter("box"), built))
        missing = boxes.count(None)
        with_box = boxes if not missing else [b for b in boxes if b is not None]
        corners = np.fromiter(
            chain.from_iterable(chain.from_iterable(map(attrgetter("center", "size"), with_box))),
            np.float64,
            6 * len(with_box),
        ).reshape(-1, 6)
        if missing:
            box = np.full((n, 6), math.nan)
            box[np.fromiter(map(is_not, boxes, repeat(None)), np.bool_, n)] = corners
        else:
            box = corners
        column = {name: scalars[:, k].copy() for k, name in enumerate(_SCALARS)}
        return cls(
            ids=list(map(attrgetter("id"), built)),
            labels=list(map(attrgetter("label"), built)),
            layers=list(map(attrgetter("layer"), built)),
            position=np.fromiter(
                chain.from_iterable(map(attrgetter("position"), built)), np.float64, 3 * n
            ).reshape(n, 3),
            box=box,
            first_seen=column["first_seen"],
            last_seen=column["last_seen"],
            last_changed=column["last_changed"],
            confidence=column["confidence"],
            n_obs=column["n_obs"].astype(np.int64),
            misses=column["misses"].astype(np.int64),
            present=column["present"].astype(np.bool_),
            # Not copied: nodes are never changed in place, and JSON takes any mapping.
            extras=Extras(n, list(map(attrgetter("state", "attrs"), built))),
            embeddings=_embeddings(list(map(attrgetter("embedding"), built))),
        )

    def take(self, rows: IntArray) -> NodeColumns:
        row_list = rows.tolist()
        if row_list == list(range(len(self))):
            return self  # columns are never changed in place
        where = {i: k for k, i in enumerate(row_list)} if self.embeddings else {}
        return NodeColumns(
            ids=[self.ids[i] for i in row_list],
            labels=[self.labels[i] for i in row_list],
            layers=[self.layers[i] for i in row_list],
            position=self.position[rows],
            box=self.box[rows],
            first_seen=self.first_seen[rows],
            last_seen=self.last_seen[rows],
            last_changed=self.last_changed[rows],
            confidence=self.confidence[rows],
            n_obs=self.n_obs[rows],
            misses=self.misses[rows],
            present=self.present[rows],
            extras=Extras(len(row_list), [self.extras.values()[i] for i in row_list]),
            embeddings={where[i]: v for i, v in self.embeddings.items() if i in where},
        )

    def concat(self, other: NodeColumns) -> NodeColumns:
        if not len(other):
            return self
        n = len(self)
        return NodeColumns(
            ids=self.ids + other.ids,
            labels=self.labels + other.labels,
            layers=self.layers + other.layers,
            position=np.concatenate([self.position, other.position]),
            box=np.concatenate([self.box, other.box]),
            first_seen=np.concatenate([self.first_seen, other.first_seen]),
            last_seen=np.concatenate([self.last_seen, other.last_seen]),
            last_changed=np.concatenate([self.last_changed, other.last_changed]),
            confidence=np.concatenate([self.confidence, other.confidence]),
            n_obs=np.concatenate([self.n_obs, other.n_obs]),
            misses=np.concatenate([self.misses, other.misses]),
            present=np.concatenate([self.present, other.present]),
            extras=Extras(n + len(other), self.extras.values() + other.extras.values()),
            embeddings={**self.embeddings, **{k + n: v for k, v in other.embeddings.items()}},
        )


def _shaped(extra: object) -> bool:
    if extra is None:
        return True
    if not isinstance(extra, list | tuple) or len(extra) != 2:
        return False
    return isinstance(extra[0], dict) and isinstance(extra[1], Mapping)


def _embeddings(vectors: list[tuple[float, ...] | None]) -> dict[int, bytes]:
    if vectors.count(None) == len(vectors):  # no embedder: one C-level count
        return {}
    blob = codec.embedding_blob
    return {i: b for i, v in enumerate(vectors) if (b := blob(v)) is not None}


@dataclass(frozen=True, eq=False)
class EdgeColumns:
    src: IntArray
    """Row of the source in the base's :class:`NodeColumns`."""
    dst: IntArray
    rel: npt.NDArray[np.uint8]
    attrs: dict[int, dict[str, Any]]

    @classmethod
    def from_edges(cls, edges: Sequence[Any], ids: Sequence[str]) -> EdgeColumns:
        """``edges`` (a :class:`LazyEdges` or any sequence of edges) with node ids
        replaced by their rows in ``ids`` (which must not repeat one); KeyError names an
        id that is not there."""
        if isinstance(edges, LazyEdges) and not edges.extra:
            if len(edges.names) == len(ids) and list(edges.names) == list(ids):
                where = np.arange(len(ids), dtype=np.int64)  # the graph's own order
            else:
                index = dict(zip(ids, range(len(ids)), strict=True))
                where = np.asarray([index[n] for n in edges.names], dtype=np.int64)
            rows = slice(None) if edges.keep is None else edges.keep
            codes = np.asarray([_REL_CODE[r] for r in edges.relations], dtype=np.uint8)
            keep_rows = range(len(edges.src)) if edges.keep is None else edges.keep.tolist()
            renumber = {k: j for j, k in enumerate(keep_rows)} if edges.keep is not None else None
            attrs = {
                (renumber[k] if renumber is not None else k): dict(a)
                for k, a in edges.attrs.items()
                if a and (renumber is None or k in renumber)
            }
            return cls(
                src=where[edges.src[rows]],
                dst=where[edges.dst[rows]],
                rel=codes[rows],
                attrs=attrs,
            )
        index = dict(zip(ids, range(len(ids)), strict=True))
        src: list[int] = []
        dst: list[int] = []
        rel: list[int] = []
        attrs = {}
        for e in edges:
            if e.attrs:
                attrs[len(src)] = dict(e.attrs)
            src.append(index[e.src])
            dst.append(index[e.dst])
            rel.append(_REL_CODE[e.relation])
        return cls(
            src=np.asarray(src, dtype=np.int64),
            dst=np.asarray(dst, dtype=np.int64),
            rel=np.asarray(rel, dtype=np.uint8),
            attrs=attrs,
        )

    def lazy(
        self,
        names: Sequence[str],
        keep: IntArray | None,
        extra: Sequence[SceneEdge] = (),
        row_of: Mapping[str, int] | None = None,
    ) -> LazyEdges:
        """The edges as a :class:`LazyEdges` over ``names`` (rows ``keep``, then
        ``extra``)."""
        return LazyEdges(
            names=names,
            src=self.src,
            dst=self.dst,
            relations=[_RELATIONS[c] for c in self.rel.tolist()],
            attrs=self.attrs,
            keep=keep,
            extra=extra,
            row_of=row_of,
        )


def relation_of(code: int) -> Relation:
    return _RELATIONS[code]


_FLOATS = ("position", "box", "first_seen", "last_seen", "last_changed", "confidence")
_INTS = ("n_obs", "misses")


def encode_base(nodes: NodeColumns, edges: EdgeColumns) -> dict[str, bytes]:
    """The blobs a store keeps for a base, digest included."""
    blobs = {
        "format": str(FORMAT).encode(),
        # Codes index these tables, so a store outlives a reordering of the enums.
        "layer_names": orjson.dumps([x.value for x in _LAYER_LIST]),
        "relation_names": orjson.dumps([r.value for r in _RELATIONS]),
        "ids": orjson.dumps(nodes.ids),
        "labels": orjson.dumps(nodes.labels),
        "layers": np.asarray([_LAYER_CODE[x] for x in nodes.layers], dtype=np.uint8).tobytes(),
        "present": nodes.present.astype(np.uint8).tobytes(),
        "extras": nodes.extras.text(),
        "embeddings": orjson.dumps({str(k): v.hex() for k, v in nodes.embeddings.items()}),
        "edge_src": edges.src.astype("<i4").tobytes(),
        "edge_dst": edges.dst.astype("<i4").tobytes(),
        "edge_rel": edges.rel.astype(np.uint8).tobytes(),
        "edge_attrs": _json({str(k): v for k, v in edges.attrs.items()}),
    }
    for name in _FLOATS:
        blobs[name] = np.ascontiguousarray(getattr(nodes, name), dtype="<f8").tobytes()
    for name in _INTS:
        blobs[name] = np.ascontiguousarray(getattr(nodes, name), dtype="<i8").tobytes()
    blobs["digest"] = _digest(blobs).encode()
    return blobs


def _digest(blobs: Mapping[str, bytes], kind: str = "crc32") -> str:
    """A checksum of every blob but the digest. It catches damage, not forgery: anyone who
    can edit the file can recompute any unkeyed digest. CRC-32 runs at ~4 GB/s here,
    BLAKE2b (the first bases' digest, a bare hex string) at ~0.8: 27 ms of every save and
    load of 100k nodes."""
    parts = []
    for key in sorted(k for k in blobs if k != "digest"):
        value = blobs[key]
        parts += [f"{key}:{len(value)}:".encode(), value]
    if kind == "blake2b":
        h = hashlib.blake2b(digest_size=32)
        for part in parts:
            h.update(part)
        return h.hexdigest()
    crc = 0
    for part in parts:
        crc = zlib.crc32(part, crc)
    return f"crc32:{crc:08x}"


def _matches(blobs: Mapping[str, bytes]) -> bool:
    held = bytes(blobs.get("digest", b"")).decode(errors="replace")
    return held == _digest(blobs, "crc32" if held.startswith("crc32:") else "blake2b")


def decode_base(blobs: Mapping[str, bytes]) -> tuple[NodeColumns, EdgeColumns, bool]:
    """The base's columns and whether its digest matches (False: check every node).

    Raises ValueError/KeyError/TypeError when the blobs do not even have the shape of a
    base (the caller reports the store as corrupt)."""
    if blobs.get("format") != str(FORMAT).encode():
        raise ValueError(f"unknown base format {blobs.get('format')!r}")
    intact = _matches(blobs)
    ids = orjson.loads(blobs["ids"])
    labels = orjson.loads(blobs["labels"])
    n = len(ids)
    if not (isinstance(ids, list) and isinstance(labels, list) and len(labels) == n):
        raise ValueError("node ids and labels do not match")
    if not (set(map(type, ids)) <= {str} and set(map(type, labels)) <= {str}):
        raise ValueError("a node id or label is not text")
    row_of = dict(zip(ids, range(n), strict=True))
    if len(row_of) != n:
        raise ValueError("node ids repeat")
    layer_table = [_LAYERS[v] for v in orjson.loads(blobs["layer_names"])]
    rel_table = [_RELATION_OF[v] for v in orjson.loads(blobs["relation_names"])]
    layer_codes = np.frombuffer(blobs["layers"], dtype=np.uint8)
    if len(layer_codes) != n or (n and int(layer_codes.max()) >= len(layer_table)):
        raise ValueError("bad node layers")
    arrays: dict[str, Any] = {}
    for name in _FLOATS:
        arrays[name] = np.frombuffer(blobs[name], dtype="<f8").astype(np.float64)
    for name in _INTS:
        arrays[name] = np.frombuffer(blobs[name], dtype="<i8").astype(np.int64)
    present = np.frombuffer(blobs["present"], dtype=np.uint8)
    if len(arrays["position"]) != 3 * n or len(arrays["box"]) != 6 * n:
        raise ValueError("node positions or boxes do not match the nodes")
    scalars = [arrays[k] for k in _FLOATS[2:] + _INTS] + [present]
    if any(len(a) != n for a in scalars):
        raise ValueError("node columns differ in length")
    text = bytes(blobs["extras"])
    extras = Extras(n, text=text) if intact else Extras.checked_now(n, text)
    raw_emb = orjson.loads(blobs["embeddings"])
    if not isinstance(raw_emb, dict):
        raise ValueError("embeddings are not a mapping")
    embeddings = {int(k): bytes.fromhex(v) for k, v in raw_emb.items()}
    if any(not 0 <= k < n for k in embeddings):
        raise ValueError("an embedding belongs to no node")
    layers = [layer_table[c] for c in layer_codes.tolist()]
    nodes = NodeColumns(
        ids=ids,
        labels=labels,
        layers=layers,
        position=arrays["position"].reshape(n, 3),
        box=arrays["box"].reshape(n, 6),
        first_seen=arrays["first_seen"],
        last_seen=arrays["last_seen"],
        last_changed=arrays["last_changed"],
        confidence=arrays["confidence"],
        n_obs=arrays["n_obs"],
        misses=arrays["misses"],
        present=present.astype(np.bool_),
        extras=extras,
        embeddings=embeddings,
        row_of=row_of,
    )
    src = np.frombuffer(blobs["edge_src"], dtype="<i4").astype(np.int64)
    dst = np.frombuffer(blobs["edge_dst"], dtype="<i4").astype(np.int64)
    rel = np.frombuffer(blobs["edge_rel"], dtype=np.uint8)
    if len(dst) != len(src) or len(rel) != len(src):
        raise ValueError("edge columns differ in length")
    if len(src) and (
        min(int(src.min()), int(dst.min())) < 0
        or max(int(src.max()), int(dst.max())) >= n
        or int(rel.max()) >= len(rel_table)
        or bool(np.any(src == dst))
    ):
        raise ValueError("an edge names no node, itself, or no relation")
    raw_attrs = codec.loads_revived(blobs["edge_attrs"])
    if not isinstance(raw_attrs, dict) or not all(isinstance(v, dict) for v in raw_attrs.values()):
        raise ValueError("edge attributes are not mappings")
    attrs = {int(k): v for k, v in raw_attrs.items()}
    if rel_table != _RELATIONS:  # stored by another ordering: recode to this one
        recode = np.asarray([_REL_CODE[r] for r in rel_table], dtype=np.uint8)
        rel = recode[rel] if len(rel) else rel
    # The checksum catches damage, not an edit that recomputed it: numbers that would
    # poison the memory, or a blank label, send the base to the node-by-node check all
    # the same (~5 ms). State and attributes are checked when first parsed (Extras).
    if intact and not (_numbers_plausible(nodes) and all(map(str.strip, labels))):
        intact = False
        nodes = dataclasses.replace(nodes, extras=Extras.checked_now(n, text))
    return nodes, EdgeColumns(src=src, dst=dst, rel=rel, attrs=attrs), intact


def _numbers_plausible(nodes: NodeColumns) -> bool:
    """What :func:`codec.node_problem` checks of a node's numbers, for all rows at once."""
    limit = COORDINATE_LIMIT_M
    box = nodes.box
    no_box = np.isnan(box).all(axis=1)
    times = np.stack([nodes.first_seen, nodes.last_seen, nodes.last_changed])
    with np.errstate(invalid="ignore"):
        return bool(
            np.isfinite(nodes.position).all()
            and (np.abs(nodes.position) <= limit).all()
            and (no_box | (np.isfinite(box) & (np.abs(box) <= limit)).all(axis=1)).all()
            and (no_box | (box[:, 3:] >= 0.0).all(axis=1)).all()
            and np.isfinite(times).all()
            and ((nodes.confidence >= 0.0) & (nodes.confidence <= 1.0)).all()
            and ((nodes.n_obs >= 0) & (nodes.n_obs <= COUNT_LIMIT)).all()
            and ((nodes.misses >= 0) & (nodes.misses <= COUNT_LIMIT)).all()
        )
