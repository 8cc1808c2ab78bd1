"""The scene graph's edges: directed, at most one per (source, target, relation).

A plain adjacency of dictionaries, laid out as networkx's MultiDiGraph lays out its own
(source -> target -> relation -> attributes, and the same the other way round), so edges
come out in the order networkx gave them. networkx's per-edge bookkeeping was most of
loading a large memory (170k edges: ~1 s of add_edges_from); graph algorithms (the
path between rooms) still build a networkx graph from these edges when asked.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from memory_core.types import Relation

__all__ = ["EdgeStore"]

Adjacency = dict[str, dict[str, dict[Relation, dict[str, Any]]]]


class EdgeStore:
    def __init__(self) -> None:
        self._out: Adjacency = {}
        self._in: Adjacency = {}
        self._n = 0

    def __len__(self) -> int:
        return self._n

    def add_node(self, node_id: str) -> None:
        self._out.setdefault(node_id, {})
        self._in.setdefault(node_id, {})

    def add_nodes(self, node_ids: Iterable[str]) -> None:
        for node_id in node_ids:
            self.add_node(node_id)

    def remove_node(self, node_id: str) -> None:
        """The node and every edge into or out of it."""
        for dst, rels in self._out.pop(node_id, {}).items():
            self._n -= len(rels)
            if dst != node_id:
                self._in[dst].pop(node_id, None)
        for src, rels in self._in.pop(node_id, {}).items():
            if src != node_id and self._out[src].pop(node_id, None) is not None:
                self._n -= len(rels)

    def add(self, src: str, dst: str, relation: Relation, attrs: dict[str, Any]) -> None:
        """Add an edge (both ends must have been added); an existing one gets ``attrs``
        merged into its attributes."""
        rels = self._out[src].get(dst)
        if rels is None:
            rels = self._out[src][dst] = {}
            self._in[dst][src] = rels  # one dictionary seen from both ends
        held = rels.get(relation)
        if held is None:
            rels[relation] = dict(attrs)
            self._n += 1
        else:
            held.update(attrs)

    def add_many(self, edges: Iterable[tuple[str, str, Relation, dict[str, Any]]]) -> None:
        for src, dst, relation, attrs in edges:
            self.add(src, dst, relation, attrs)

    def remove(self, src: str, dst: str, relation: Relation) -> bool:
        """Remove one edge; False if there was none."""
        rels = self._out.get(src, {}).get(dst)
        if rels is None or relation not in rels:
            return False
        del rels[relation]
        self._n -= 1
        if not rels:
            del self._out[src][dst]
            del self._in[dst][src]
        return True

    def out_edges(self, node_id: str) -> Iterator[tuple[str, Relation, dict[str, Any]]]:
        """``(target, relation, attributes)`` of the edges out of a node."""
        for dst, rels in self._out[node_id].items():
            for relation, attrs in rels.items():
                yield dst, relation, attrs

    def in_edges(self, node_id: str) -> Iterator[tuple[str, Relation, dict[str, Any]]]:
        """``(source, relation, attributes)`` of the edges into a node."""
        for src, rels in self._in[node_id].items():
            for relation, attrs in rels.items():
                yield src, relation, attrs

    def edges(self) -> Iterator[tuple[str, str, Relation, dict[str, Any]]]:
        for src, targets in self._out.items():
            for dst, rels in targets.items():
                for relation, attrs in rels.items():
                    yield src, dst, relation, attrs
