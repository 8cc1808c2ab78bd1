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
any not-yet-bound node of the type may be it (``open_label``), and the planner chooses. A
node an earlier episode acted on for another name, and believed its goal met, is not it
(``remember``: memory keeps what the agent learnt by acting, across tasks).
Where memory does carry identities for the type, an unresolved name means "not seen yet".
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

from embodiment.affordances import Affordances
from memory_core import Memory, SceneNode

__all__ = ["KNOWN_AS", "Referents", "holds_identities", "node_matches", "ref_label", "ref_position"]

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


def holds_identities(nodes: Iterable[SceneNode]) -> bool:
    """Whether any of ``nodes`` carries one of the world's identities (a ``name``: memory
    built from ground-truth sensing); perception's nodes carry none."""
    return any("name" in n.attrs for n in nodes)


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


KNOWN_AS = "known_as"
"""Node attribute: the reference an earlier episode acted on this node for (a name learned
by acting, where perception gives none)."""

HEIGHT_SLACK_M = 0.05
LEVEL_M = 0.05
"""Heights within this of each other rank alike (a box seen a centimetre lower is not
another level)."""


def _vertical_gap(node: SceneNode, y: float) -> float:
    """Height (y: memory is y-up here) from a node's box to a level."""
    if node.box is None:
        return abs(node.position[1] - y)
    return max(node.box.min_corner[1] - y, y - node.box.max_corner[1], 0.0)


WIDTH_FACTOR = 1.5
WIDTH_SLACK_M = 0.1
"""A footprint this many times the type's typical one, plus this, is wider than the type:
instances vary (counters, shelves), so only a clear excess counts."""


def _wider_than(
    node: SceneNode, where: tuple[float, float, float], typical: tuple[float, float, float]
) -> bool:
    """Whether ``node``'s box grown to hold the floor point ``where`` (x, z: y-up) is wider,
    either way, than a thing of ``typical`` extents turned either way can be."""
    if node.box is None:
        return False
    lo, hi = node.box.min_corner, node.box.max_corner
    have = sorted(max(hi[a], where[a]) - min(lo[a], where[a]) for a in (0, 2))
    can = sorted((typical[0], typical[2]))
    return any(h > c * WIDTH_FACTOR + WIDTH_SLACK_M for h, c in zip(have, can, strict=True))


class Referents:
    def __init__(
        self,
        memory: Memory,
        hint_radius_m: float = HINT_RADIUS_M,
        height_of: Callable[[str], float] | None = None,
        lift_of: Callable[[str], float | None] | None = None,
        size_of: Callable[[str], tuple[float, float, float]] | None = None,
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
        self.size_of = size_of
        """A type's typical box extents (x, y, z), where known: an id's pivot lies within
        its thing, and what a camera saw of it is part of it, so a node whose seen box,
        grown to hold the pivot, is far wider than the type is another (the next shelf of a
        row, when this one was seen only edge-on)."""
        self.bound: dict[str, str] = {}
        """Reference → the memory node the planner acted on for it."""

    @classmethod
    def with_type_facts(cls, memory: Memory, affordances: Affordances) -> Referents:
        """Referents that read a type's height and pivot lift from ``affordances``."""
        return cls(
            memory,
            height_of=affordances.height,
            lift_of=affordances.pivot_lift,
            size_of=affordances.median_size,
        )

    def with_memory(self, memory: Memory) -> Referents:
        """Referents with the same type facts over another memory, bound to nothing."""
        return Referents(
            memory,
            self.hint_radius_m,
            height_of=self.height_of,
            lift_of=self.lift_of,
            size_of=self.size_of,
        )

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
        best: tuple[int, bool, float, float, str] | None = None
        for node in graph.find_by_label(label):
            if node.id in taken or "name" in node.attrs or node.attrs.get(KNOWN_AS, ref) != ref:
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
                wide = self.size_of is not None and _wider_than(node, where, self.size_of(label))
                key = (
                    math.floor(_vertical_gap(node, centre[1]) / LEVEL_M),
                    wide,
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
        return not holds_identities(self.memory.graph.find_by_label(ref_label(ref)))

    def places_usable(self) -> bool:
        """Whether the places ids spell are to be read at all: memory is y-up (AI2-THOR's
        axes) and holds no identities (with identities, ids are matched as ids; a place
        would only lead the agent to a thing memory has not seen yet)."""
        graph = self.memory.graph
        return graph.up_axis == "y" and not holds_identities(graph.nodes())

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
        """Whether ``node_id`` is what another reference names: bound to it in this episode,
        or remembered from an earlier one (:meth:`remember`)."""
        if any(v == node_id and k != ref for k, v in self.bound.items()):
            return True
        graph = self.memory.graph
        known = graph.node(node_id).attrs.get(KNOWN_AS) if node_id in graph else None
        return known is not None and known != ref

    def remember(self, ref: str) -> None:
        """Keep in memory, past this episode, that the node bound to ``ref`` is what it
        names (the planner acted on it for ``ref`` and the critic believes its goal met):
        a later task naming another instance of the type does not take this one for it (the
        toilet paper put on the floor when asked is not the one a later task asks for)."""
        node_id = self.bound.get(ref)
        graph = self.memory.graph
        if node_id is None or node_id not in graph:
            return
        for node in graph.find_by_label(graph.node(node_id).label):
            if node.id != node_id and node.attrs.get(KNOWN_AS) == ref:
                graph.update_node(
                    node.id, attrs={k: v for k, v in node.attrs.items() if k != KNOWN_AS}
                )
        node = graph.node(node_id)
        if node.attrs.get(KNOWN_AS) != ref:
            graph.update_node(node_id, attrs={**node.attrs, KNOWN_AS: ref})
