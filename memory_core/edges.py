"""The scene graph's edges: directed, at most one per (source, target, relation).

A plain adjacency of dictionaries, laid out as networkx's MultiDiGraph lays out its own
(source -> target -> relation -> attributes, and the same the other way round).
networkx's per-edge bookkeeping was most of loading a large memory (170k edges: ~1 s of
add_edges_from); graph algorithms (the path between rooms) still build a networkx graph
from these edges when asked.

Edges loaded from a store stay arrays (:class:`_Pending`) until a node is first touched:
then that node's edges, in and out, enter the adjacency. A pair's relation dictionary is
shared by both ends, so each pair is made once, by whichever end is touched first, and
linked by the other when it is touched. Every method touches the nodes it reads or
changes, so the arrays never disagree with the adjacency.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from itertools import repeat
from operator import itemgetter
from typing import Any

import numpy as np

from memory_core.cold import IntArray, LazyEdges
from memory_core.types import Relation

__all__ = ["EdgeStore"]

Adjacency = dict[str, dict[str, dict[Relation, dict[str, Any]]]]


class _Pending:
    """Loaded edges not yet in the adjacency, indexed by source and by target row."""

    def __init__(self, edges: LazyEdges) -> None:
        self.names = edges.names
        row_of = edges.row_of
        self.row = row_of if row_of is not None else {n: i for i, n in enumerate(edges.names)}
        keep = edges.keep
        if keep is None:
            self.src, self.dst = edges.src, edges.dst
            self.relations = list(edges.relations)
            self.attrs = {k: a for k, a in edges.attrs.items() if a}
        else:
            self.src, self.dst = edges.src[keep], edges.dst[keep]
            self.relations = [edges.relations[k] for k in keep.tolist()]
            # keep is ascending: an attribute's new row is its rank in keep
            have = [k for k, a in edges.attrs.items() if a]
            at = np.searchsorted(keep, have).tolist() if have else []
            self.attrs = {
                j: edges.attrs[k]
                for k, j in zip(have, at, strict=True)
                if j < len(keep) and int(keep[j]) == k
            }
        n = len(edges.names)
        self.by_src = np.argsort(self.src, kind="stable")
        self.by_dst = np.argsort(self.dst, kind="stable")
        self.src_ptr = np.searchsorted(self.src[self.by_src], np.arange(n + 1))
        self.dst_ptr = np.searchsorted(self.dst[self.by_dst], np.arange(n + 1))
        self.done = np.zeros(n, dtype=np.bool_)
        self.left = n

    def __len__(self) -> int:
        return len(self.src)

    def out_of(self, r: int) -> list[int]:
        return self.by_src[self.src_ptr[r] : self.src_ptr[r + 1]].tolist()  # type: ignore[no-any-return]

    def into(self, r: int) -> list[int]:
        return self.by_dst[self.dst_ptr[r] : self.dst_ptr[r + 1]].tolist()  # type: ignore[no-any-return]


class EdgeStore:
    def __init__(self) -> None:
        self._out: Adjacency = {}
        self._in: Adjacency = {}
        self._n = 0
        self._pending: _Pending | None = None
        # Every edge in the adjacency, in the order it came: a save lists them from here
        # (one C-level pass) instead of walking three levels of dictionaries. An edge is
        # in one of the two: those that were given attributes are listed apart, so a
        # save reads the attributes of those few only.
        self._keys: dict[tuple[str, str, Relation], None] = {}
        self._with_attrs: dict[tuple[str, str, Relation], None] = {}

    def __len__(self) -> int:
        return self._n

    # ------------------------------------------------------------------ loaded edges
    def load(self, edges: LazyEdges) -> None:
        """Take a store's edges (every node they name must be added to the graph); each
        enters the adjacency when one of its ends is first touched."""
        if self._pending is not None or self._n:
            raise ValueError("an edge store loads only once, before anything else")
        pending = _Pending(edges)
        self._n = len(pending)
        self._pending = pending
        self.add_many((e.src, e.dst, e.relation, dict(e.attrs)) for e in edges.extra)

    def _touch(self, node_id: str) -> None:
        p = self._pending
        if p is None:
            return
        r = p.row.get(node_id)
        if r is None or p.done[r]:
            return
        p.done[r] = True
        p.left -= 1
        self._link(p, node_id, p.out_of(r), p.dst, self._out.setdefault(node_id, {}), self._in)
        self._link(p, node_id, p.into(r), p.src, self._in.setdefault(node_id, {}), self._out)
        if p.left == 0:
            self._pending = None

    def _link(
        self,
        p: _Pending,
        node_id: str,
        ks: list[int],
        ends: IntArray,
        mine: dict[str, dict[Relation, dict[str, Any]]],
        theirs: Adjacency,
    ) -> None:
        """Enter loaded edges ``ks`` of a node being touched on its side ``mine`` (its
        targets when ``theirs`` is the in-adjacency, its sources when the out-adjacency);
        ``ends`` are the edges' other ends."""
        outgoing = theirs is self._in
        names, done, rels, attrs = p.names, p.done, p.relations, p.attrs
        for k in ks:
            e = int(ends[k])
            other = names[e]
            if done[e]:  # the other end made this pair (or dropped it since)
                pair = theirs.get(other, {}).get(node_id)
                if pair is not None:
                    mine[other] = pair
                continue
            pair = mine.get(other)
            if pair is None:
                pair = mine[other] = {}
            rel = rels[k]
            key = (node_id, other, rel) if outgoing else (other, node_id, rel)
            a = attrs.get(k)
            if a:
                self._with_attrs[key] = None
            else:
                self._keys[key] = None
            pair[rel] = dict(a) if a else {}

    def _touch_all(self) -> None:
        p = self._pending
        if p is not None:
            for r in np.flatnonzero(~p.done).tolist():
                self._touch(p.names[r])

    # ------------------------------------------------------------------ nodes
    def add_node(self, node_id: str) -> None:
        self._touch(node_id)
        self._out.setdefault(node_id, {})
        self._in.setdefault(node_id, {})

    def add_nodes(self, node_ids: Iterable[str]) -> None:
        for node_id in node_ids:
            self.add_node(node_id)

    def remove_node(self, node_id: str) -> None:
        """The node and every edge into or out of it."""
        self._touch(node_id)
        keys, with_attrs = self._keys, self._with_attrs
        for dst, rels in self._out.pop(node_id, {}).items():
            self._n -= len(rels)
            for relation in rels:
                keys.pop((node_id, dst, relation), None)
                with_attrs.pop((node_id, dst, relation), None)
            if dst != node_id:
                self._in.get(dst, {}).pop(node_id, None)
        for src, rels in self._in.pop(node_id, {}).items():
            if src == node_id:
                continue
            for relation in rels:
                keys.pop((src, node_id, relation), None)
                with_attrs.pop((src, node_id, relation), None)
            targets = self._out.get(src)
            # An untouched source: the pair lived only here.
            if targets is None or targets.pop(node_id, None) is not None:
                self._n -= len(rels)

    # ------------------------------------------------------------------ edges
    def add(self, src: str, dst: str, relation: Relation, attrs: dict[str, Any]) -> None:
        """Add an edge (both ends must have been added); an existing one gets ``attrs``
        merged into its attributes."""
        self.add_many(((src, dst, relation, attrs),))

    def add_many(self, edges: Iterable[tuple[str, str, Relation, dict[str, Any]]]) -> None:
        """:meth:`add` for each edge."""
        out, inc = self._out, self._in
        touch = self._touch
        keys, with_attrs = self._keys, self._with_attrs
        n = 0
        for src, dst, relation, attrs in edges:
            touch(src)
            touch(dst)
            targets = out[src]
            rels = targets.get(dst)
            if rels is None:
                rels = targets[dst] = {}
                inc[dst][src] = rels  # one dictionary seen from both ends
            held = rels.get(relation)
            if held is None:
                rels[relation] = dict(attrs)
                n += 1
                if attrs:
                    with_attrs[(src, dst, relation)] = None
                else:
                    keys[(src, dst, relation)] = None
            else:
                held.update(attrs)
                key = (src, dst, relation)
                if attrs and key in keys:  # attributes at last: listed with those that have some
                    del keys[key]
                    with_attrs[key] = None
        self._n += n

    def remove(self, src: str, dst: str, relation: Relation) -> bool:
        """Remove one edge; False if there was none."""
        self._touch(src)
        self._touch(dst)
        rels = self._out.get(src, {}).get(dst)
        if rels is None or relation not in rels:
            return False
        del rels[relation]
        self._keys.pop((src, dst, relation), None)
        self._with_attrs.pop((src, dst, relation), None)
        self._n -= 1
        if not rels:
            del self._out[src][dst]
            del self._in[dst][src]
        return True

    def out_edges(self, node_id: str) -> Iterator[tuple[str, Relation, dict[str, Any]]]:
        """``(target, relation, attributes)`` of the edges out of a node."""
        self._touch(node_id)
        for dst, rels in self._out[node_id].items():
            for relation, attrs in rels.items():
                yield dst, relation, attrs

    def in_edges(self, node_id: str) -> Iterator[tuple[str, Relation, dict[str, Any]]]:
        """``(source, relation, attributes)`` of the edges into a node."""
        self._touch(node_id)
        for src, rels in self._in[node_id].items():
            for relation, attrs in rels.items():
                yield src, relation, attrs

    def _pair(self, src: str, dst: str) -> dict[Relation, dict[str, Any]]:
        """A pair's relations, from whichever end holds them (an untouched loaded
        source has no dictionary of its own yet)."""
        targets = self._out.get(src)
        return targets[dst] if targets is not None else self._in[dst][src]

    def edges(self) -> Iterator[tuple[str, str, Relation, dict[str, Any]]]:
        self._touch_all()
        for src, targets in self._out.items():
            for dst, rels in targets.items():
                for relation, attrs in rels.items():
                    yield src, dst, relation, attrs

    def columns(self, names: Sequence[str]) -> LazyEdges:
        """Every edge as arrays over ``names`` (which must hold every node), for a store;
        loaded edges no node has touched are copied array to array."""
        index = dict(zip(names, range(len(names)), strict=True))
        p = self._pending
        with_attrs = self._with_attrs
        keys = list(self._keys)
        keys += with_attrs
        n = len(keys)
        src_a = np.fromiter(map(index.__getitem__, map(itemgetter(0), keys)), np.int64, n)
        dst_a = np.fromiter(map(index.__getitem__, map(itemgetter(1), keys)), np.int64, n)
        first = len(self._keys)
        attrs = {first + j: dict(self._pair(s, d)[r]) for j, (s, d, r) in enumerate(with_attrs)}
        relations = list(map(itemgetter(2), keys))
        if p is not None:
            cold = ~(p.done[p.src] | p.done[p.dst])
            ks = np.flatnonzero(cold)
            # Names the graph dropped (tombstoned rows) have no cold edge left: -1, never read.
            where = np.fromiter(map(index.get, p.names, repeat(-1)), np.int64, len(p.names))
            base = len(relations)
            held = sorted(p.attrs)
            at = np.searchsorted(ks, held).tolist() if held else []
            attrs.update(
                {
                    base + j: dict(p.attrs[k])
                    for k, j in zip(held, at, strict=True)
                    if j < len(ks) and int(ks[j]) == k
                }
            )
            src_a = np.concatenate([src_a, where[p.src[ks]]])
            dst_a = np.concatenate([dst_a, where[p.dst[ks]]])
            relations += [p.relations[k] for k in ks.tolist()]
        return LazyEdges(names=names, src=src_a, dst=dst_a, relations=relations, attrs=attrs)
