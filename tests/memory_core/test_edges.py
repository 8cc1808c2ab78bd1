"""The edge store answers as networkx's MultiDiGraph does, edge order included."""

from __future__ import annotations

import random

import networkx as nx

from memory_core.edges import EdgeStore
from memory_core.types import Relation


def test_edges_match_a_networkx_multidigraph() -> None:
    rng = random.Random(11)
    nodes = [f"n{i}" for i in range(40)]
    rels = list(Relation)
    ours, theirs = EdgeStore(), nx.MultiDiGraph()
    ours.add_nodes(nodes)
    theirs.add_nodes_from(nodes)
    for step in range(4000):
        op = rng.random()
        u, v = rng.sample(nodes, 2)
        k = rng.choice(rels)
        if op < 0.6:
            attrs = {"door": step} if rng.random() < 0.2 else {}
            ours.add(u, v, k, attrs)
            theirs.add_edge(u, v, key=k, **attrs)
        elif op < 0.9:
            present = theirs.has_edge(u, v, key=k)
            assert ours.remove(u, v, k) == present
            if present:
                theirs.remove_edge(u, v, key=k)
        elif op < 0.97:
            ours.remove_node(u)
            theirs.remove_node(u)
            ours.add_node(u)  # back without edges, at the end of the order as networkx does
            theirs.add_node(u)
        assert len(ours) == theirs.number_of_edges()
    assert list(ours.edges()) == list(theirs.edges(keys=True, data=True))
    for n in nodes:
        assert list(ours.out_edges(n)) == [
            (v, k, d) for _u, v, k, d in theirs.out_edges(n, keys=True, data=True)
        ]
        assert sorted(ours.in_edges(n), key=repr) == sorted(
            ((u, k, d) for u, _v, k, d in theirs.in_edges(n, keys=True, data=True)), key=repr
        )
    # What a save lists: every edge once, with its attributes (edges given attributes
    # after they were made included).
    listed = ours.columns(nodes)
    assert sorted((e.src, e.dst, e.relation.value, sorted(e.attrs.items())) for e in listed) == (
        sorted(
            (u, v, k.value, sorted(d.items())) for u, v, k, d in theirs.edges(keys=True, data=True)
        )
    )


def test_a_save_lists_attributes_given_after_an_edge_was_made() -> None:
    ours = EdgeStore()
    ours.add_nodes(["a", "b", "c"])
    ours.add("a", "b", Relation.ON, {})
    ours.add("b", "c", Relation.ON, {"door": 1})
    ours.add("a", "b", Relation.ON, {"door": 2})  # the same edge, attributes at last
    ours.add("b", "c", Relation.ON, {"open": True})
    listed = sorted((e.src, e.dst, sorted(e.attrs.items())) for e in ours.columns(["a", "b", "c"]))
    assert listed == [("a", "b", [("door", 2)]), ("b", "c", [("door", 1), ("open", True)])]
