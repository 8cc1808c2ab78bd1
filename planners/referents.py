"""What a task's instance references mean in memory.

A goal may name one instance: ``Egg_84e5e36e`` (an AI2-THOR object name) or
``DiningTable|-01.73|-00.03|-00.96`` (an AI2-THOR object id, which spells the object's
type and where it stood). Memory built from ground-truth sensing carries those identities
(node ids, ``name`` attributes); memory built by perception does not: its nodes are
"an egg seen here". Referents resolve a reference to a memory node either way:

1. by identity: the node with that id, or with that ``name``;
2. by binding: the node the planner acted on for that reference earlier (the egg it
   picked up for "Egg_84e5e36e" is that egg from then on, for the planner and the critic);
3. by place: an AI2-THOR id's position, in memory's frame where memory is y-up (AI2-THOR's
   convention), picks the nearest node of its type within ``hint_radius_m`` — a fixed
   receptacle stays where its id says.

A reference none of these resolve is *open* when memory holds no identities for its type:
any not-yet-bound node of the type may be it (``open_label``), and the planner chooses.
Where memory does carry identities for the type, an unresolved name means "not seen yet".
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

from embodiment.affordances import Affordances
from memory_core import Memory, SceneNode

__all__ = ["Referents", "node_matches", "ref_label", "ref_position"]

HINT_RADIUS_M = 0.4
"""How far (floor distance, box to point) a perceived node may be from where an object id
says it stood. An id's place is the object's pivot, often at floor level under what a camera
sees of it, so height is not compared; two armchairs or drawers stand closer together than
a metre, so the radius is short."""


def is_ref(text: str) -> bool:
    """An instance reference rather than a type."""
    return "|" in text or "_" in text


def ref_label(ref: str) -> str:
    """The type a reference spells: ``Egg_84e5e36e`` → ``Egg``, ``Sink|+1|+0|-2`` → ``Sink``;
    a part or a slice ends in its own type: ``Sink|+1|+0|-2|SinkBasin`` → ``SinkBasin``,
    ``Apple|+1|+0|-2|AppleSliced_0`` → ``AppleSliced``."""
    parts = ref.split("|")
    return (parts[4] if len(parts) == 5 else parts[0]).split("_", 1)[0]


def ref_position(ref: str) -> tuple[float, float, float] | None:
    """Where an AI2-THOR object id says the object stood (AI2-THOR's axes), if it says (a
    part's id gives its whole's place)."""
    parts = ref.split("|")
    if len(parts) not in (4, 5):
        return None
    try:
        x, y, z = (float(p) for p in parts[1:4])
    except ValueError:
        return None
    return (x, y, z)


def node_matches(node: SceneNode, refs: Iterable[str], targets: frozenset[str]) -> bool:
    """Whether ``node`` is one of ``refs`` by its own id or name, or one of the ``targets``
    they resolved to."""
    return node.id in targets or any(node.id == r or node.attrs.get("name") == r for r in refs)


def _floor_gap(node: SceneNode, where: tuple[float, float, float]) -> float:
    """Floor-plane (x, z: memory is y-up here) distance from a node's box to a point."""
    if node.box is None:
        return math.hypot(node.position[0] - where[0], node.position[2] - where[2])
    lo, hi = node.box.min_corner, node.box.max_corner
    dx = max(lo[0] - where[0], where[0] - hi[0], 0.0)
    dz = max(lo[2] - where[2], where[2] - hi[2], 0.0)
    return math.hypot(dx, dz)


def _box_gap(node: SceneNode, where: tuple[float, float, float]) -> float:
    """3-D distance from a node's box (or position) to a point."""
    if node.box is None:
        return math.dist(node.position, where)
    lo, hi = node.box.min_corner, node.box.max_corner
    return math.sqrt(
        sum(max(a - w, w - b, 0.0) ** 2 for a, b, w in zip(lo, hi, where, strict=True))
    )


HEIGHT_SLACK_M = 0.05
LEVEL_M = 0.05
"""Heights within this of each other rank alike (a box seen a centimetre lower is not
another level)."""


def _vertical_gap(node: SceneNode, y: float) -> float:
    """Height (y: memory is y-up here) from a node's box to a level."""
    if node.box is None:
        return abs(node.position[1] - y)
    return max(node.box.min_corner[1] - y, y - node.box.max_corner[1], 0.0)


class Referents:
    def __init__(
        self,
        memory: Memory,
        hint_radius_m: float = HINT_RADIUS_M,
        height_of: Callable[[str], float] | None = None,
        lift_of: Callable[[str], float | None] | None = None,
    ) -> None:
        self.memory = memory
        self.hint_radius_m = hint_radius_m
        self.height_of = height_of
        """A type's typical height, where known: an id's pivot is its thing's bottom, middle
        or top, so a node whose box is further above or below it than the thing is tall is
        another (of three stacked shelves, the top one seen is not the bottom one)."""
        self.lift_of = lift_of
        """Where a type's box stands on its pivot (``Affordances.pivot_lift``), where known:
        candidates are ranked by their distance to where the box's centre should be (a
        shelf's pivot is its bottom, which is where the shelf below it ends)."""
        self.bound: dict[str, str] = {}
        """Reference → the memory node the planner acted on for it."""

    @classmethod
    def with_type_facts(cls, memory: Memory, affordances: Affordances) -> Referents:
        """Referents that read a type's height and pivot lift from ``affordances``."""
        return cls(memory, height_of=affordances.height, lift_of=affordances.pivot_lift)

    def _usable(self, node_id: str | None) -> SceneNode | None:
        graph = self.memory.graph
        if node_id is None or node_id not in graph:
            return None
        node = graph.node(node_id)
        return node if node.present else None

    def resolve(self, ref: str) -> str | None:
        """The memory node ``ref`` refers to, or None (unseen, or open)."""
        if self._usable(ref) is not None:
            return ref
        label = ref_label(ref)
        graph = self.memory.graph
        for node in graph.find_by_label(label):
            if node.attrs.get("name") == ref:
                return node.id
        bound = self._usable(self.bound.get(ref))
        if bound is not None:
            return bound.id
        where = ref_position(ref) if graph.up_axis == "y" else None
        if where is None:
            return None
        taken = set(self.bound.values())
        centre = where
        lift = self.lift_of(label) if self.lift_of is not None else None
        if lift is not None and self.height_of is not None:
            centre = (where[0], where[1] + lift * self.height_of(label), where[2])
        best: tuple[int, float, float, str] | None = None
        for node in graph.find_by_label(label):
            if node.id in taken or "name" in node.attrs:
                continue  # bound to another reference, or an identity of its own
            gap = _floor_gap(node, where)
            if self.height_of is not None and (
                _vertical_gap(node, where[1]) > self.height_of(label) + HEIGHT_SLACK_M
            ):
                continue
            if gap <= self.hint_radius_m:
                # Admitted by floor distance (a pivot may lie under what is seen); ranked by
                # height first, from where the box's centre should be, so that of shelves
                # stacked over one spot the one at the id's height wins (not the one below,
                # whose top is this one's pivot), even when its seen front is further on the
                # floor (perceived fronts stand a few centimetres apart); then in 3-D.
                key = (
                    math.floor(_vertical_gap(node, centre[1]) / LEVEL_M),
                    _box_gap(node, centre),
                    math.dist(node.position, centre),
                    node.id,
                )
                best = key if best is None or key < best else best
        return best[-1] if best is not None else None

    def open_label(self, ref: str) -> bool:
        """Whether any not-yet-bound node of ``ref``'s type may be what it names: memory holds
        no identities for the type, and an id's position (where it gives one) cannot be
        used."""
        if ref_position(ref) is not None and self.memory.graph.up_axis == "y":
            return False
        return not any("name" in n.attrs for n in self.memory.graph.find_by_label(ref_label(ref)))

    def places_usable(self) -> bool:
        """Whether the places ids spell are to be read at all: memory is y-up (AI2-THOR's
        axes) and holds no identities (with identities, ids are matched as ids; a place
        would only lead the agent to a thing memory has not seen yet)."""
        graph = self.memory.graph
        return graph.up_axis == "y" and not any("name" in n.attrs for n in graph.nodes())

    def matches(self, node: SceneNode, refs: Iterable[str]) -> bool:
        """Whether ``node`` is what one of ``refs`` refers to."""
        return node_matches(node, refs, self.targets(refs))

    def targets(self, refs: Iterable[str]) -> frozenset[str]:
        """The memory nodes ``refs`` resolve to: resolve once, then test many nodes with
        :func:`node_matches`."""
        return frozenset(t for t in (self.resolve(ref) for ref in refs) if t is not None)

    def bind(self, ref: str, node_id: str) -> None:
        """From now on ``ref`` is ``node_id`` (identities need no binding)."""
        if self.resolve(ref) != node_id:
            self.bound[ref] = node_id

    def is_bound_elsewhere(self, node_id: str, ref: str) -> bool:
        return any(v == node_id and k != ref for k, v in self.bound.items())
