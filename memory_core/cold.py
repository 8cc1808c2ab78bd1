"""Nodes and edges a scene graph holds before it needs them.

Building a :class:`SceneNode` (and its box) for each of 100k stored nodes, then indexing
it, was most of loading a large memory, and most of them are never asked for in a run.
A store hands the graph its nodes as columns (:class:`ColdNodes`); the graph indexes
them from the columns (label, layer, position, presence, times) and builds a node the
first time it is asked for it (:class:`NodeTable`). Edges come as index arrays
(:class:`LazyEdges`) the graph adds in one pass.

Both also work the other way: a graph's records for saving are a :class:`LazyNodes`
view (nodes never thawed are handed back as they came, not rebuilt and re-encoded) and a
:class:`LazyEdges` of the edge store, so a store can write columns without one
:class:`SceneEdge` per edge.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any, Protocol, overload

import numpy as np
import numpy.typing as npt

from memory_core.types import Layer, Relation, SceneEdge, SceneNode, trusted

__all__ = ["ColdNodes", "LazyEdges", "LazyNodes", "NodeTable"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class ColdNodes(Protocol):
    """Stored nodes as columns; row ``i`` is one node."""

    @property
    def ids(self) -> Sequence[str]: ...

    @property
    def labels(self) -> Sequence[str]: ...

    @property
    def layers(self) -> Sequence[Layer]: ...

    @property
    def position(self) -> FloatArray:
        """(n, 3)"""
        ...

    @property
    def present(self) -> npt.NDArray[np.bool_]: ...

    @property
    def last_seen(self) -> FloatArray: ...

    @property
    def last_changed(self) -> FloatArray: ...

    @property
    def row_of(self) -> Mapping[str, int] | None:
        """Row by id when the columns have it at hand (None: the reader makes it)."""
        ...

    def __len__(self) -> int: ...

    def node(self, i: int) -> SceneNode:
        """Row ``i`` as a node (built anew on each call)."""
        ...


@dataclass(frozen=True, eq=False)
class LazyNodes(Sequence[SceneNode]):
    """Rows ``keep`` of ``cold``, then ``extra``: a sequence of nodes built on access."""

    cold: ColdNodes | None
    keep: Sequence[int]
    extra: Sequence[SceneNode] = ()

    def __len__(self) -> int:
        return len(self.keep) + len(self.extra)

    @overload
    def __getitem__(self, i: int) -> SceneNode: ...

    @overload
    def __getitem__(self, i: slice) -> Sequence[SceneNode]: ...

    def __getitem__(self, i: int | slice) -> SceneNode | Sequence[SceneNode]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        n = len(self.keep)
        if i < n:
            assert self.cold is not None
            return self.cold.node(int(self.keep[i]))
        return self.extra[i - n]

    def __iter__(self) -> Iterator[SceneNode]:
        if self.cold is not None:
            node = self.cold.node
            for i in self.keep:
                yield node(int(i))
        yield from self.extra

    def __eq__(self, other: object) -> bool:
        return _same_items(self, other)

    __hash__ = None  # type: ignore[assignment]

    def ids(self) -> list[str]:
        cold_ids = self.cold.ids if self.cold is not None else ()
        return [cold_ids[int(i)] for i in self.keep] + list(map(attrgetter("id"), self.extra))


@dataclass(frozen=True, eq=False)
class LazyEdges(Sequence[SceneEdge]):
    """Edges as arrays: ``names[src[k]] -rel[k]-> names[dst[k]]`` for ``k`` in
    ``keep`` (all when None), then ``extra``. ``attrs`` holds the attributes of the few
    edges that have any, by ``k``."""

    names: Sequence[str]
    src: IntArray
    dst: IntArray
    relations: Sequence[Relation]
    """One per edge (``rel`` codes index this when ``codes`` is given)."""
    attrs: Mapping[int, Mapping[str, Any]] = field(default_factory=dict)
    keep: IntArray | None = None
    extra: Sequence[SceneEdge] = ()
    row_of: Mapping[str, int] | None = None
    """Index of each name when the reader has it at hand (None: made when needed)."""

    def _rows(self) -> Sequence[int]:
        return range(len(self.src)) if self.keep is None else self.keep.tolist()

    def __len__(self) -> int:
        return len(self._rows()) + len(self.extra)

    @overload
    def __getitem__(self, i: int) -> SceneEdge: ...

    @overload
    def __getitem__(self, i: slice) -> Sequence[SceneEdge]: ...

    def __getitem__(self, i: int | slice) -> SceneEdge | Sequence[SceneEdge]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        rows = self._rows()
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        if i < len(rows):
            return self._edge(int(rows[i]))
        return self.extra[i - len(rows)]

    def _edge(self, k: int) -> SceneEdge:
        a = self.attrs.get(k)
        return trusted(
            SceneEdge,
            src=self.names[int(self.src[k])],
            dst=self.names[int(self.dst[k])],
            relation=self.relations[k],
            attrs=dict(a) if a else {},
        )

    def __iter__(self) -> Iterator[SceneEdge]:
        for k in self._rows():
            yield self._edge(k)
        yield from self.extra

    def __eq__(self, other: object) -> bool:
        return _same_items(self, other)

    __hash__ = None  # type: ignore[assignment]


def _same_items(a: Sequence[Any], b: object) -> bool:
    """Sequence equality, item by item (a lazy sequence equals the list it reads as)."""
    if not isinstance(b, Sequence) or isinstance(b, str | bytes):
        return NotImplemented  # type: ignore[no-any-return]
    return len(a) == len(b) and all(bool(x == y) for x, y in zip(a, b, strict=True))


class NodeTable:
    """The graph's nodes by id, in insertion order: built :class:`SceneNode` values, or
    rows of a :class:`ColdNodes` not built yet (thawed on first access, in place, so the
    order never depends on what was asked for first)."""

    __slots__ = ("_d", "_thawed", "cold")

    def __init__(self, cold: ColdNodes | None = None, rows: Sequence[int] = ()) -> None:
        self.cold = cold
        self._d: dict[str, SceneNode | int] = {}
        self._thawed: dict[str, int] = {}
        """Row of each node built from ``cold`` and not replaced since: a save copies the
        row instead of encoding the node again."""
        if cold is not None:
            ids = cold.ids
            row_of = cold.row_of
            if row_of is not None and len(rows) == len(ids) and list(rows) == list(range(len(ids))):
                self._d = dict(row_of)  # a C-level copy: 100k ids cost 20 ms one by one
            else:
                self._d = {ids[i]: i for i in rows}

    def __len__(self) -> int:
        return len(self._d)

    def __contains__(self, node_id: object) -> bool:
        return node_id in self._d

    def __iter__(self) -> Iterator[str]:
        return iter(self._d)

    def has_each(self, node_ids: Sequence[str]) -> npt.NDArray[np.bool_]:
        return np.fromiter(map(self._d.__contains__, node_ids), bool, len(node_ids))

    def __getitem__(self, node_id: str) -> SceneNode:
        v = self._d[node_id]
        if type(v) is int:
            assert self.cold is not None
            self._thawed[node_id] = v
            v = self._d[node_id] = self.cold.node(v)
        return v  # type: ignore[return-value]

    def get(self, node_id: str) -> SceneNode | None:
        return self[node_id] if node_id in self._d else None

    def __setitem__(self, node_id: str, node: SceneNode) -> None:
        self._d[node_id] = node
        self._thawed.pop(node_id, None)

    def __delitem__(self, node_id: str) -> None:
        del self._d[node_id]
        self._thawed.pop(node_id, None)

    def values(self) -> list[SceneNode]:
        """Every node (thawing the cold ones)."""
        return [self[i] for i in self._d]

    def label(self, node_id: str) -> str:
        v = self._d[node_id]
        if type(v) is int:
            assert self.cold is not None
            return self.cold.labels[v]
        return v.label  # type: ignore[union-attr]

    def brief(self) -> Iterator[tuple[str, Layer, str, bool]]:
        """``(id, layer, label, present)`` of every node, thawing none."""
        cold = self.cold
        for node_id, v in self._d.items():
            if type(v) is int:
                assert cold is not None
                yield node_id, cold.layers[v], cold.labels[v], bool(cold.present[v])
            else:
                n: SceneNode = v  # type: ignore[assignment]
                yield node_id, n.layer, n.label, n.present

    def latest_time(self) -> float:
        cold_rows: list[int] = []
        latest = 0.0
        found = False
        for v in self._d.values():
            if type(v) is int:
                cold_rows.append(v)
            else:
                n: SceneNode = v  # type: ignore[assignment]
                t = n.last_seen if n.last_seen > n.last_changed else n.last_changed
                latest = t if not found or t > latest else latest
                found = True
        if cold_rows:
            assert self.cold is not None
            rows = np.asarray(cold_rows, dtype=np.int64)
            t = float(max(self.cold.last_seen[rows].max(), self.cold.last_changed[rows].max()))
            latest = t if not found or t > latest else latest
            found = True
        return latest if found else 0.0

    def change_keys(self) -> list[tuple[float, str]]:
        """``(last_changed, id)`` of every node, thawing none."""
        cold = self.cold
        keys: list[tuple[float, str]] = []
        for node_id, v in self._d.items():
            if type(v) is int:
                assert cold is not None
                keys.append((float(cold.last_changed[v]), node_id))
            else:
                keys.append((v.last_changed, node_id))  # type: ignore[union-attr]
        return keys

    def records(self) -> LazyNodes:
        """Every node for saving: cold rows as they are, then the built nodes."""
        if self.cold is None:  # every node was built here
            return LazyNodes(None, [], list(self._d.values()))  # type: ignore[arg-type]
        keep: list[int] = []
        built: list[SceneNode] = []
        thawed = self._thawed
        for node_id, v in self._d.items():
            if type(v) is int:
                keep.append(v)
            elif node_id in thawed:
                keep.append(thawed[node_id])
            else:
                built.append(v)  # type: ignore[arg-type]
        return LazyNodes(self.cold if keep else None, keep, built)
