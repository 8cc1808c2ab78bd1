"""The critic: does a goal predicate hold, by what memory believes?

Reads only memory (the scene graph's nodes, their observed states and supports) and the
body's own state (what it holds). The simulator's goal checker never enters the loop; it
scores episodes outside, and benchmarks count how often the two disagree.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

from embodiment.body import BodyState
from embodiment.scoring import FLOOR_M
from embodiment.tasks import Predicate
from memory_core import Layer, Memory, SceneNode
from memory_core.geometry import horizontal, vertical
from planners.referents import Referents, is_ref, node_matches

__all__ = ["ancestors", "believed_count", "candidates", "holds", "satisfying", "within"]

_THINGS = (Layer.OBJECT, Layer.RECEPTACLE)
FLOOR_LEVEL_M = 0.0
"""Height of the floor in the world frame (AI2-THOR scenes and ROS maps put it at 0)."""
FLOOR_TOLERANCE_M = 0.05


def _targets(names: Sequence[str], refs: Referents | None) -> frozenset[str]:
    return refs.targets(names) if refs is not None else frozenset()


def candidates(
    pred: Predicate, memory: Memory, refs: Referents | None = None
) -> Iterator[SceneNode]:
    """Present nodes of the predicate's types (and, if it names instances, those that
    ``refs`` resolve them to: a name memory cannot tell apart stays unresolved until the
    planner binds it by acting on one)."""
    graph = memory.graph
    targets = _targets(pred.names, refs)
    for label in pred.object_types:
        for node in graph.find_by_label(label):
            if (
                node.present
                and node.layer in _THINGS
                and (not pred.names or node_matches(node, pred.names, targets))
            ):
                yield node


def ancestors(memory: Memory, node_id: str) -> Iterator[SceneNode]:
    """What holds ``node_id`` as memory believes, innermost first."""
    graph, seen = memory.graph, {node_id}
    support = graph.support_of(node_id)
    while support is not None and support[0] not in seen:
        seen.add(support[0])
        yield graph.node(support[0])
        support = graph.support_of(support[0])


def _on_floor(node: SceneNode, memory: Memory) -> bool:
    """Resting on the floor: its bottom is at floor level (a support inferred from
    geometry alone can be a low receptacle it lies beside or in the footprint of, such as
    a bathtub or a rug), or memory knows no support for it and it is low (a camera sees
    the top of a thing on the floor, not where it touches it). A thing higher up on
    nothing memory knows rests on something unseen or on no receptacle: not the floor."""
    graph = memory.graph
    bottom = vertical(node.box.min_corner if node.box is not None else node.position, graph.up_axis)
    if abs(bottom - FLOOR_LEVEL_M) <= FLOOR_TOLERANCE_M:
        return True
    return graph.support_of(node.id) is None and bottom - FLOOR_LEVEL_M < FLOOR_M


def holds(
    pred: Predicate,
    node: SceneNode,
    memory: Memory,
    body: BodyState,
    refs: Referents | None = None,
) -> bool:
    """Whether ``node`` is one the predicate asks for, as memory believes."""
    return _holds(pred, node, memory, body, _targets(_named_places(pred), refs))


def _named_places(pred: Predicate) -> list[str]:
    return [t for t in pred.in_types if is_ref(t)]


def _holds(
    pred: Predicate,
    node: SceneNode,
    memory: Memory,
    body: BodyState,
    place_targets: frozenset[str],
) -> bool:
    held = body.held == node.id
    if pred.near is not None and not within(body, node.position, pred.near):
        return False
    for key, want in pred.state.items():
        have = held if key == "isPickedUp" else node.state.get(key)
        if have != want:
            return False
    if pred.held and not held:
        return False
    if pred.in_types:
        if held:
            return False
        if "Floor" in pred.in_types and _on_floor(node, memory):
            return True
        named = _named_places(pred)
        return any(
            r.label in pred.in_types or (named and node_matches(r, named, place_targets))
            for r in ancestors(memory, node.id)
        )
    return True


def within(body: BodyState, point: Sequence[float], near: float) -> bool:
    """The body stands within ``near`` metres (floor distance) of ``point`` (in the
    body's world frame, whose up axis the body states)."""
    x, y = horizontal(point, body.up_axis)
    bx, by = body.floor_xy
    return math.hypot(x - bx, y - by) <= near


def satisfying(
    pred: Predicate, memory: Memory, body: BodyState, refs: Referents | None = None
) -> list[SceneNode]:
    """The nodes memory believes satisfy the predicate (none for a place: see
    :func:`believed_count`)."""
    place_targets = _targets(_named_places(pred), refs)
    return [
        node
        for node in candidates(pred, memory, refs)
        if _holds(pred, node, memory, body, place_targets)
    ]


def believed_count(
    pred: Predicate, memory: Memory, body: BodyState, refs: Referents | None = None
) -> int:
    """How many of the ``count`` required objects memory believes are there (a place:
    1 when the body stands there, by its own pose)."""
    if pred.at is not None:
        assert pred.near is not None
        return int(within(body, pred.at, pred.near))
    return min(len(satisfying(pred, memory, body, refs)), pred.count)
