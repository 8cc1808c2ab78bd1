"""Symbolic planner: goal predicates → skills, finding things in memory first.

For each unmet predicate it writes a small program (a generator of skills): find
the object (memory, else exploration guided by AI2-THOR receptacle priors), go
there, open what hides it, pick it up, treat it (clean / heat / cool / slice),
find the destination and put it. The generator sees each skill's result and the
refreshed memory after every step, so plans adapt as the world answers.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from dataclasses import dataclass, field

from memory_core import Layer, Memory, SceneNode
from sim.affordances import Affordances
from sim.tasks import Predicate
from sim.world import Skill, StepResult, World

__all__ = ["PlanFailedError", "SymbolicPlanner"]

Plan = Generator[Skill, StepResult, None]
_KNIVES = ("Knife", "ButterKnife")
_TREAT = {
    "isCleaned": ("SinkBasin", "clean"),
    "isHeated": ("Microwave", "heat"),
    "isCooled": ("Fridge", "cool"),
}


class PlanFailedError(Exception):
    """The current predicate cannot be pursued further (the executive replans)."""


@dataclass
class SearchState:
    searched: set[str] = field(default_factory=set)
    visited_points: list[tuple[float, float]] = field(default_factory=list)
    memory_hits: int = 0
    searches: int = 0


class SymbolicPlanner:
    def __init__(
        self, world: World, memory: Memory, affordances: Affordances, max_explore: int = 12
    ) -> None:
        self.world, self.memory, self.aff = world, memory, affordances
        self.max_explore = max_explore
        self.search = SearchState()
        self.done: set[str] = set()
        """Objects already used to satisfy an earlier predicate (not to be taken again)."""
        self.carried_in: dict[str, str] = {}
        """Object → the movable receptacle (cup, plate) it was put in."""

    # ------------------------------------------------------------------ memory queries
    def _known(
        self, types: tuple[str, ...], exclude: set[str], names: tuple[str, ...] = ()
    ) -> list[SceneNode]:
        ax, az = self.world.agent_xz
        graph = self.memory.graph
        labels = [t for t in types if "|" not in t]
        ids = [t for t in types if "|" in t and t in graph]
        out = [n for t in labels for n in graph.find_by_label(t)]
        out += [graph.node(i) for i in ids if graph.node(i).present]
        # Short-term memory also remembers where recently seen things are, including things
        # the scene graph does not hold (with --memory stm the graph starts empty).
        known_ids = {n.id for n in out}
        for state in self.memory.stm.recent():
            if state.label in labels and state.object_id not in known_ids:
                known_ids.add(state.object_id)
                out.append(
                    graph.node(state.object_id)
                    if state.object_id in graph
                    else SceneNode(
                        state.object_id,
                        Layer.OBJECT,
                        state.label,
                        state.position,
                        state=dict(state.state),
                        last_seen=state.t,
                    )
                )
        out = [n for n in out if n.id not in exclude and n.id != self.world.held]
        if names:
            out = [
                n
                for n in out
                if n.id in names
                or (
                    self.world.objects.get(n.id) is not None
                    and self.world.objects[n.id].name in names
                )
            ]
        return sorted(out, key=lambda n: (math.hypot(n.position[0] - ax, n.position[2] - az), n.id))

    def _frontier(self) -> str | None:
        """A reachable point far from everywhere explored so far."""
        cells = self.world.nav.distances_from(self.world.agent_xz)
        if not cells:
            return None
        pts = [self.world.nav.xz(c) for c in cells]
        visited = [*self.search.visited_points, self.world.agent_xz]
        best = max(
            pts, key=lambda p: (min(math.hypot(p[0] - v[0], p[1] - v[1]) for v in visited), p)
        )
        if min(math.hypot(best[0] - v[0], best[1] - v[1]) for v in visited) < 1.0:
            return None
        self.search.visited_points.append(best)
        return f"point:{best[0]:.2f},{best[1]:.2f}"

    def find(
        self, types: tuple[str, ...], exclude: set[str] | None = None, names: tuple[str, ...] = ()
    ) -> Generator[Skill, StepResult, str]:
        """Skills until an object of ``types`` is known; returns its id."""
        exclude = exclude or set()
        known = self._known(types, exclude, names)
        if known:
            self.search.memory_hits += 1
            return known[0].id
        self.search.searches += 1
        yield Skill("look_around")
        for _ in range(self.max_explore):
            known = self._known(types, exclude, names)
            if known:
                return known[0].id
            # Where such things usually are: open/visit receptacles by prior, then explore.
            ranked = self.aff.receptacles_for(types[0])
            cands = [
                n
                for n in self.memory.graph.nodes(Layer.RECEPTACLE)
                if n.label in ranked and n.id not in self.search.searched
            ]
            cands.sort(
                key=lambda n: (
                    ranked.index(n.label),
                    math.hypot(
                        n.position[0] - self.world.agent_xz[0],
                        n.position[2] - self.world.agent_xz[1],
                    ),
                )
            )
            if cands:
                rec = cands[0]
                self.search.searched.add(rec.id)
                result = yield Skill("navigate", rec.id)
                if result.success and rec.state.get("isOpen") is False:
                    yield Skill("open", rec.id)
                continue
            point = self._frontier()
            if point is None:
                break
            result = yield Skill("navigate", point)
            if result.success:
                yield Skill("look_around")
        known = self._known(types, exclude, names)
        if known:
            return known[0].id
        raise PlanFailedError(f"cannot find {'/'.join(types)}")

    # ------------------------------------------------------------------ skill programs
    def _reach(self, object_id: str) -> Plan:
        """Go to an object and open the closed containers around it."""
        result = yield Skill("navigate", object_id)
        if not result.success:
            raise PlanFailedError(result.error_message)
        # What holds it, as memory knows it (not the simulator's ground truth).
        graph = self.memory.graph
        chain = []
        support = graph.support_of(object_id) if object_id in graph else None
        while support is not None and support[0] not in chain:
            chain.append(support[0])
            support = graph.support_of(support[0])
        for p in reversed(chain):
            if graph.node(p).state.get("isOpen") is False:
                yield Skill("open", p)

    def _pick(
        self, types: tuple[str, ...], names: tuple[str, ...] = ()
    ) -> Generator[Skill, StepResult, str]:
        if self.world.held is not None:
            held = self.world.objects[self.world.held]
            if held.object_type in types and (not names or held.name in names):
                return held.object_id
            yield Skill("drop")
        exclude = set(self.done)
        for _attempt in range(3):
            target = yield from self.find(types, exclude, names)
            yield from self._reach(target)
            result = yield Skill("pickup", target)
            if result.success:
                return target
            exclude.add(target)
        raise PlanFailedError(f"cannot pick up {'/'.join(types)}")

    def _slice(self, whole: tuple[str, ...]) -> Plan:
        yield from self._pick(_KNIVES)
        target = yield from self.find(whole, set(self.done))
        yield from self._reach(target)
        result = yield Skill("slice", target)
        if not result.success:
            raise PlanFailedError(result.error_message)
        yield Skill("drop")

    def program(self, pred: Predicate) -> Plan:
        types = pred.object_types
        sliced = tuple(t[: -len("Sliced")] for t in types if t.endswith("Sliced"))
        wants = dict(pred.state)
        if sliced and not self._known(types, set(self.done)):
            yield from self._slice(sliced)
        if (
            set(wants) <= {"isToggled", "isOpen", "isSliced"}
            and not pred.in_types
            and not pred.held
        ):
            for _ in range(pred.count):
                target = yield from self.find(types, set(self.done), pred.names)
                if "isSliced" in wants:
                    yield from self._slice(types)
                    self.done.add(target)
                    continue
                yield from self._reach(target)
                for key, skill_on, skill_off in (
                    ("isToggled", "toggle_on", "toggle_off"),
                    ("isOpen", "open", "close"),
                ):
                    if key in wants:
                        yield Skill(skill_on if wants[key] else skill_off, target)
                self.done.add(target)
            return
        for _ in range(pred.count):
            # Already put in a movable receptacle for an earlier predicate: carry that along.
            inside = next(
                (
                    c
                    for o, c in self.carried_in.items()
                    if self.world.objects[o].object_type in types
                ),
                None,
            )
            if inside is not None and pred.in_types:
                carrier = self.world.objects[inside]
                obj = yield from self._pick((carrier.object_type,), (carrier.name,))
            else:
                obj = yield from self._pick(types, pred.names)
            for key, (appliance, verb) in _TREAT.items():
                if wants.get(key):
                    place = yield from self.find((appliance,))
                    yield from self._reach(place)
                    result = yield Skill(verb, obj)
                    if not result.success:
                        raise PlanFailedError(result.error_message)
            if pred.held or not pred.in_types:
                self.done.add(obj)  # treated (or to be held): nothing to put anywhere
                continue
            for dest_types in self._destinations(pred):
                if dest_types == ("Floor",):
                    yield Skill("drop")
                    continue
                dest = yield from self.find(dest_types, {obj})
                yield from self._reach(dest)
                node = self.memory.graph.node(dest) if dest in self.memory.graph else None
                if node is not None and node.state.get("isOpen") is False:
                    yield Skill("open", dest)
                result = yield Skill("put", dest)
                if not result.success:
                    raise PlanFailedError(result.error_message)
                if self.world.objects[dest].pickupable:
                    self.carried_in[obj] = dest
            self.done.add(obj)

    def _destinations(self, pred: Predicate) -> list[tuple[str, ...]]:
        """Where to put things: one receptacle, or a movable one then its holder."""
        ids = tuple(t for t in pred.in_types if "|" in t or "_" in t)
        if ids:
            return [ids]
        return [pred.in_types]
