"""Symbolic planner: goal predicates → skills, finding things in memory first.

For each unmet predicate it writes a small program (a generator of skills): find
the object (memory, else exploration guided by AI2-THOR receptacle priors and frontiers
of the body's map), go
there, open what hides it, pick it up, treat it (clean / heat / cool / slice),
find the destination and put it. The generator sees each skill's result and the
refreshed memory after every step, so plans adapt as the world answers. It reads
memory and the body's own state (pose, what it holds, its map), nothing else.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator
from dataclasses import dataclass, field, replace

import numpy as np
import shapely
from shapely.geometry import Polygon

from embodiment.affordances import Affordances
from embodiment.appliances import BURNER, KNOB, pair_knobs
from embodiment.body import Body, BodyState
from embodiment.grid import FREE
from embodiment.skills import SWITCHES, Skill, StepResult
from embodiment.tasks import Predicate, Task, made_from
from memory_core import Layer, Memory, Pose, SceneNode
from memory_core.geometry import horizontal
from planners.base import Plan, PlanFailedError
from planners.critic import ancestors, holds, satisfying
from planners.effects import sensed_by_id
from planners.referents import Referents, is_ref, ref_label, ref_position

__all__ = ["PlanFailedError", "SymbolicPlanner"]


_KNIVES = ("Knife", "ButterKnife")
_PANS = ("Pan", "Pot")
_COOKERS = {"toaster": ("Toaster",), "microwave": ("Microwave",), "stove": _PANS}
"""How a thing is cooked or heated → what it goes in."""
_WITH_COOKER = {"Toaster": "toaster", "Microwave": "microwave", BURNER: "stove"} | {
    p: "stove" for p in _PANS
}
"""A goal that wants the thing in one of these says how to cook it."""


@dataclass
class SearchState:
    searched: set[str] = field(default_factory=set)
    visited_points: list[tuple[float, float]] = field(default_factory=list)
    memory_hits: int = 0
    searches: int = 0


HOME_RADIUS_M = 0.3
"""How near (3-D, perceived positions) a look-alike must stand to where the walkthrough saw
one to be that one, not moved."""


class SymbolicPlanner:
    def __init__(
        self,
        body: Body,
        memory: Memory,
        affordances: Affordances,
        max_explore: int = 20,
        referents: Referents | None = None,
        walkthrough: Memory | None = None,
    ) -> None:
        self.body, self.memory, self.aff = body, memory, affordances
        self.walkthrough = walkthrough
        """What the agent saw walking through the room as the goal has it, if it did: where
        look-alikes of a named instance belong."""
        self.referents = referents or Referents.with_type_facts(memory, affordances)
        """What the task's instance names and ids refer to (shared with the critic)."""
        self.max_explore = max_explore
        """Frontier points :meth:`explore` looks around from. A search (:meth:`find`) has
        no such cap: it gives up only when every receptacle the priors rank was visited and
        every reachable place looked from (it had 20 turns: 12 ran out before the right
        receptacle once a walkthrough had shown all the furniture, and 20 before the last
        drawer of a bedroom, or before any look into the other rooms of a house)."""
        self.search = SearchState()
        self.done: set[str] = set()
        """Objects used for the predicates so far (of this subgoal, when ordered): not
        taken again for another (the second of two apples is another apple)."""
        self._subgoal: int | None = None
        """Objects already used to satisfy an earlier predicate (not to be taken again)."""
        self.carried_in: dict[str, str] = {}
        """Object → the movable receptacle (cup, plate) it was put in."""
        self.tried_open: set[str] = set()
        """Openables of unknown state this planner already tried to open."""

    # ------------------------------------------------------------------ body and memory
    def _xy(self) -> tuple[float, float]:
        return self.body.state().floor_xy

    def _held(self) -> str | None:
        return self.body.state().held

    def _name(self, node_id: str) -> str | None:
        graph = self.memory.graph
        name = graph.node(node_id).attrs.get("name") if node_id in graph else None
        return name if isinstance(name, str) else None

    def _label(self, node_id: str) -> str | None:
        graph = self.memory.graph
        return graph.node(node_id).label if node_id in graph else None

    def _maybe_closed(self, node: SceneNode) -> bool:
        """Closed as memory knows it; or, where memory has no state for it (perception
        sees no doors), of an openable type and not tried yet."""
        is_open = node.state.get("isOpen")
        if is_open is not None:
            return is_open is False
        if node.id in self.tried_open or not self.aff.openable(node.label):
            return False
        self.tried_open.add(node.id)
        return True

    def _known(
        self, types: tuple[str, ...], exclude: set[str], names: tuple[str, ...] = ()
    ) -> list[SceneNode]:
        ax, az = self._xy()
        graph = self.memory.graph
        refs = self.referents
        labels = [t for t in types if not is_ref(t)]
        out = [n for t in labels for n in graph.find_by_label(t)]
        for ref in (t for t in types if is_ref(t)):
            found = refs.resolve(ref)
            if found is not None:
                out.append(graph.node(found))
            elif refs.open_label(ref):
                out += [
                    n
                    for n in graph.find_by_label(ref_label(ref))
                    if not refs.is_bound_elsewhere(n.id, ref)
                ]
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
        held = self._held()
        out = [n for n in out if n.id not in exclude and n.id != held]
        if names:
            resolved = {refs.resolve(name) for name in names} - {None}
            if resolved:
                out = [n for n in out if n.id in resolved]
            elif all(refs.open_label(name) for name in names):
                # No identities in memory (perception's): any instance not bound to another
                # reference may be the one named.
                out = [
                    n for n in out if not any(refs.is_bound_elsewhere(n.id, name) for name in names)
                ]
            else:
                out = []  # memory knows instances of this type by name: not seen yet
        up = graph.up_axis

        def dist(n: SceneNode) -> float:
            u, v = horizontal(n.position, up)
            return math.hypot(u - ax, v - az)

        return sorted(out, key=lambda n: (dist(n), n.id))

    def _frontier(self) -> str | None:
        """A reachable point of the body's map far from everywhere explored so far in this
        episode."""
        grid = self.body.occupancy()
        if grid is None:
            return None
        here = self._xy()
        pts = grid.reachable_from(*here)
        if not pts:
            return None
        visited = [*self.search.visited_points, here]
        cells, seen = np.array(pts, dtype=float), np.array(visited, dtype=float)
        gap = np.hypot(cells[:, None, 0] - seen[None, :, 0], cells[:, None, 1] - seen[None, :, 1])
        far = gap.min(axis=1)
        # Farthest first; ties by the larger coordinates, as max() over (gap, point) did.
        k = max(range(len(pts)), key=lambda i: (far[i], pts[i]))
        if far[k] < 1.0:
            return None
        best = pts[k]
        self.search.visited_points.append(best)
        return f"point:{best[0]:.2f},{best[1]:.2f}"

    def _look_from_frontier(self) -> Generator[Skill, StepResult, bool]:
        """Go to a frontier point and look around there; False when none is left."""
        point = self._frontier()
        if point is None:
            return False
        result = yield Skill("navigate", point)
        if result.success:
            yield Skill("look_around")
        return True

    def find(
        self,
        types: tuple[str, ...],
        exclude: set[str] | Callable[[], set[str]] | None = None,
        names: tuple[str, ...] = (),
        avoid: Callable[[], set[str]] | None = None,
        settled: Callable[[], set[str]] | None = None,
    ) -> Generator[Skill, StepResult, str]:
        """Skills until an object of ``types`` is known; returns its id. ``avoid`` names,
        as memory grows, what to take only when the search finds nothing else, and of
        those ``settled`` what to take last."""
        fixed = exclude if exclude is not None else set()

        def excluded() -> set[str]:
            """What not to take, asked again as memory grows (``exclude`` may change)."""
            return fixed() if callable(fixed) else fixed

        def known_now() -> list[SceneNode]:
            return self._known(types, excluded() | (avoid() if avoid else set()), names)

        known = known_now()
        if known:
            self.search.memory_hits += 1
            return known[0].id
        self.search.searches += 1
        yield Skill("look_around")
        # Ids that say where the thing stood (a fixed receptacle stays there): look there first.
        hinted = [t for t in types if is_ref(t) and ref_position(t) is not None]
        if hinted and not self.referents.places_usable():
            hinted = []
        # Until every receptacle the priors rank was visited and every reachable place looked
        # from (a house of four rooms needs more looks than a room); the skill budget bounds
        # it. Each turn visits one more, so it ends.
        while True:
            known = known_now()
            if known:
                return known[0].id
            ref = next((t for t in hinted if t not in self.search.searched), None)
            if ref is not None:
                self.search.searched.add(ref)
                result = yield Skill(
                    "navigate", ref, label=ref_label(ref), position=ref_position(ref)
                )
                if result.success:
                    yield Skill("look_around")
                continue
            # Where such things usually are: open/visit receptacles by prior, then explore.
            ranked = self.aff.receptacles_for(types[0])
            cands = [
                n
                for n in self.memory.graph.nodes(Layer.RECEPTACLE)
                if n.label in ranked and n.id not in self.search.searched
            ]
            ax, az = self._xy()
            up = self.memory.graph.up_axis
            cands.sort(
                key=lambda n: (
                    ranked.index(n.label),
                    math.hypot(
                        horizontal(n.position, up)[0] - ax, horizontal(n.position, up)[1] - az
                    ),
                )
            )
            if cands:
                rec = cands[0]
                self.search.searched.add(rec.id)
                result = yield Skill("navigate", rec.id)
                if result.success and self._maybe_closed(self.memory.graph.node(rec.id)):
                    yield Skill("open", rec.id)
                continue
            if not (yield from self._look_from_frontier()):
                break
        known = (
            known_now()
            or (settled is not None and self._known(types, excluded() | settled(), names))
            or self._known(types, excluded(), names)
        )
        if known:
            return known[0].id
        raise PlanFailedError(self._not_found(types))

    def _not_found(self, types: tuple[str, ...]) -> str:
        """Why a search that looked everywhere it could found nothing: the rooms of the
        floor plan no reachable floor leads into (furniture in a doorway), else the share of
        the map's free floor that cannot be reached from here (an island), else nothing
        more to say."""
        what = "/".join(types)
        grid = self.body.occupancy()
        if grid is None:
            return f"cannot find {what}"
        reach = grid.reachable_from(*self._xy())
        plan = self.body.floor_plan()
        if plan is not None and len(plan.rooms) > 1 and reach:
            pts = np.array(reach, dtype=float)
            cut = [
                r
                for r in plan.rooms
                if not shapely.contains_xy(Polygon(r.polygon), pts[:, 0], pts[:, 1]).any()
            ]
            if cut:
                rooms = ", ".join(f"{r.room_type} {r.room_id}" for r in cut)
                return (
                    f"cannot reach {rooms} to look for {what}: no reachable floor leads "
                    "there from here"
                )
        free = int((grid.data == FREE).sum())
        if reach and len(reach) < free:
            # Islands of the grid (a start teleported onto one; a corner behind the bed that
            # only an island looks into): grid moves cannot get there, nor AI2-THOR's.
            return (
                f"cannot reach {free - len(reach)} of {free} free map cells from here to look "
                f"for {what} there (islands of the navigation grid)"
            )
        return f"cannot find {what}"

    # ------------------------------------------------------------------ skill programs
    def _go_near(self, pred: Predicate, task: Task | None) -> Plan:
        """Find one (ObjectNav: memory first, else search) and stand by it; with other
        conditions, meet them first, then go to one that meets them."""
        if pred.state or pred.in_types or pred.held:
            yield from self.program(replace(pred, near=None), task)
            state = self.body.state()
            targets = [
                n.id
                for n in satisfying(replace(pred, near=None), self.memory, state, self.referents)
            ]
        else:
            targets = [(yield from self.find(pred.object_types, set(), pred.names))]
        for target in targets[: pred.count]:
            for name in pred.names[:1]:
                self.referents.bind(name, target)
            result = yield Skill("navigate", target)
            if not result.success:
                raise PlanFailedError(result.error_message)

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
            if self._maybe_closed(graph.node(p)):
                yield Skill("open", p)

    def _pick(
        self,
        types: tuple[str, ...],
        names: tuple[str, ...] = (),
        avoid: Callable[[], set[str]] | None = None,
        settled: Callable[[], set[str]] | None = None,
    ) -> Generator[Skill, StepResult, str]:
        state = self.body.state()
        if state.held is not None:
            held = self.memory.graph.node(state.held) if state.held in self.memory.graph else None
            if state.held_label in types and (
                not names
                or state.held in names
                or (held is not None and self.referents.matches(held, names))
                or (held is None and all(self.referents.open_label(n) for n in names))
            ):
                return state.held
            yield Skill("drop")
        failed: dict[str, float] = {}
        """Things a pickup failed on → when memory had last seen them then: not taken again
        until seen since (someone moved it; seen elsewhere, it is worth another try)."""

        def exclude() -> set[str]:
            graph = self.memory.graph
            return set(self.done) | {
                i for i, t in failed.items() if i not in graph or graph.node(i).last_seen <= t
            }

        passed: set[str] = set()

        def avoided() -> set[str]:
            return passed | (avoid() if avoid is not None else set())

        failures = 0
        while failures < 3:
            target = yield from self.find(types, exclude, names, avoided, settled)
            yield from self._reach(target)
            if target not in passed and target in avoided():
                # Seen from afar it stood nowhere in particular; up close it is where the goal
                # wants it: look for another before taking this one.
                passed.add(target)
                continue
            result = yield Skill("pickup", target)
            if result.success:
                return target
            graph = self.memory.graph
            failed[target] = graph.node(target).last_seen if target in graph else math.inf
            failures += 1
        raise PlanFailedError(f"cannot pick up {'/'.join(types)}")

    def _slice(self, whole: tuple[str, ...]) -> Plan:
        yield from self._pick(_KNIVES)
        target = yield from self.find(whole, set(self.done))
        yield from self._reach(target)
        result = yield Skill("slice", target)
        if not result.success:
            raise PlanFailedError(result.error_message)
        yield Skill("drop")

    def _crack(self, whole: tuple[str, ...]) -> Plan:
        """Crack an egg where it lies (AI2-THOR's BreakObject makes it an EggCracked)."""
        broken = {n.id for n in self._known(whole, set()) if n.state.get("isBroken")}
        target = yield from self.find(whole, set(self.done) | broken)
        yield from self._reach(target)
        result = yield Skill("break", target)
        if not result.success and not result.unchanged:
            raise PlanFailedError(result.error_message)
        # Already broken: its cracked egg is about, to be found as one.

    # ------------------------------------------------------------------ states of a thing
    def _believed_state(self, node_id: str, key: str) -> object:
        graph = self.memory.graph
        return graph.node(node_id).state.get(key) if node_id in graph else None

    def _in_wanted_place(self, obj: str, pred: Predicate) -> bool:
        if obj not in self.memory.graph:
            return False
        return any(
            r.label in pred.in_types or r.id in pred.in_types for r in ancestors(self.memory, obj)
        )

    def _treat(self, obj: str, pred: Predicate) -> Plan:
        """Give the held ``obj`` the states the predicate wants, in the order a cook
        would (wash, fill, cook or heat, cool, pour out). On return it is held, or it
        stayed where it was treated (the toaster, the pan, the coffee machine)."""
        wants = dict(pred.state)
        label = self._label(obj) or ""

        def lacks(key: str, value: object) -> bool:
            return self._believed_state(obj, key) != value

        for key, value in wants.items():
            undo = (
                (key in ("isCooked", "isSliced", "isBroken") and value is False)
                or (key == "isDirty" and value is True)
                or (key == "temperature" and value == "RoomTemp")
            )
            if undo and lacks(key, value):
                # AI2-THOR has no action for these (a thing cools down by itself, slowly).
                raise PlanFailedError(f"no skill makes a {label} {key}={value}")
        if (wants.get("isCleaned") or wants.get("isDirty") is False) and (
            lacks("isCleaned", True) or lacks("isDirty", False)
        ):
            yield from self._at(obj, "SinkBasin", "clean")
        if wants.get("isFilledWithLiquid") and lacks("isFilledWithLiquid", True):
            if "CoffeeMachine" in pred.in_types:
                yield from self._into(obj, ("CoffeeMachine",), pred, switch=True)
            else:
                yield from self._at(obj, "SinkBasin", "fill")
        hot = wants.get("isCooked") or wants.get("temperature") == "Hot" or wants.get("isHeated")
        if hot and self._held() == obj:
            done = all(
                not wants.get(k) or not lacks(k, v)
                for k, v in (("isCooked", True), ("isHeated", True))
            ) and (wants.get("temperature") != "Hot" or not lacks("temperature", "Hot"))
            if not done:
                yield from self._cook(obj, pred)
        if (wants.get("isCooled") or wants.get("temperature") == "Cold") and (
            lacks("isCooled", True) or lacks("temperature", "Cold")
        ):
            yield from self._at(obj, "Fridge", "cool")
        if wants.get("isFilledWithLiquid") is False and lacks("isFilledWithLiquid", False):
            if self._held() != obj:
                yield from self._reach(obj)
                yield Skill("pickup", obj)
            result = yield Skill("empty", obj)
            if not result.success and not result.unchanged:
                raise PlanFailedError(result.error_message)

    def _at(self, obj: str, appliance: str, verb: str) -> Plan:
        """One of ALFRED's macros on the held thing at an appliance (wash, heat, cool,
        fill)."""
        place = yield from self.find((appliance,))
        yield from self._reach(place)
        result = yield Skill(verb, obj)
        if not result.success:
            raise PlanFailedError(result.error_message)

    def _cook(self, obj: str, pred: Predicate) -> Plan:
        """Cook or heat the held thing: in the toaster, the microwave or a pan on the
        stove, as the goal says (it wants it in one of those) or the thing allows, an
        appliance memory knows first. Another way is tried when a search finds no
        appliance for one (nothing is moved before that)."""
        label = self._label(obj) or ""
        named = [_WITH_COOKER[t] for t in pred.in_types if t in _WITH_COOKER]
        if named:
            ways = named[:1]
        else:
            fits = {
                way: any(self.aff.can_place(label, c) for c in cookers)
                for way, cookers in _COOKERS.items()
            }
            # ALFRED heats in the microwave; a slice of bread is toasted.
            order = ["microwave", "toaster", "stove"]
            if label == "BreadSliced":
                order = ["toaster", "microwave", "stove"]
            ways = [w for w in order if fits[w]]
            if pred.state.get("isCooked") or pred.state.get("temperature") == "Hot":
                ways.sort(key=lambda w: not self._known(_COOKERS[w], set()))
            # else ALFRED's "heat it": its microwave, as ALFRED's own plans do.
        if not ways:
            raise PlanFailedError(f"nothing here can cook or heat a {label}")
        wanted = tuple(t for t in pred.in_types if t in _PANS)
        for i, way in enumerate(ways):
            try:
                kinds = wanted if way == "stove" and wanted else _COOKERS[way]
                cooker = yield from self.find(kinds, {obj})
            except PlanFailedError:
                if i == len(ways) - 1:
                    raise
                continue
            if way == "microwave":
                yield from self._reach(cooker)
                result = yield Skill("heat", obj)
                if not result.success:
                    raise PlanFailedError(result.error_message)
            elif way == "toaster":
                yield from self._into(obj, (cooker,), pred, switch=True)
            else:
                yield from self._stove(obj, cooker, pred)
            return

    def _into(
        self, obj: str, where: tuple[str, ...], pred: Predicate, switch: bool = False
    ) -> Plan:
        """Put the held thing in an appliance and (``switch``) run it once (on, then off
        unless the goal wants it in there)."""
        place = where[0] if where[0] in self.memory.graph else (yield from self.find(where, {obj}))
        yield from self._reach(place)
        result = yield Skill("put", place)
        if not result.success:
            raise PlanFailedError(result.error_message)
        if switch:
            result = yield Skill("toggle_on", place)
            if not result.success and not result.unchanged:
                raise PlanFailedError(result.error_message)
            yield Skill("toggle_off", place)

    def _stove(self, obj: str, pan: str, pred: Predicate) -> Plan:
        """Fry or boil the held thing: into the pan, the pan onto a burner (unless it is on
        one), the burner's knob on until it is cooked, then off."""
        yield from self._reach(pan)
        result = yield Skill("put", pan)
        if not result.success:
            raise PlanFailedError(result.error_message)
        graph = self.memory.graph
        support = graph.support_of(pan) if pan in graph else None
        burner = support[0] if support is not None and self._label(support[0]) == BURNER else None
        if burner is None:
            yield from self._reach(pan)
            result = yield Skill("pickup", pan)
            if not result.success:
                raise PlanFailedError(result.error_message)
            busy = {n.id for n in self._known((BURNER,), set()) if graph.contents(n.id)}
            burner = yield from self.find((BURNER,), busy)
            yield from self._reach(burner)
            result = yield Skill("put", burner)
            if not result.success:
                raise PlanFailedError(result.error_message)
        yield from self._light(burner, obj)

    def _light(self, burner: str, food: str) -> Plan:
        """Turn the knob that lights ``burner`` on and off again. Which knob that is, the
        wiring decides: the knob matched to it by position first, then the nearest; after
        each, the burner is looked at (from the knob it may be out of view), and a knob
        that does not light it (seen unlit, or the food seen uncooked) is turned off and
        the next tried, searching for more knobs when the known ones are spent."""
        graph = self.memory.graph
        tried: set[str] = set()
        while True:
            try:
                yield from self.find((KNOB,), tried)
            except PlanFailedError:
                raise PlanFailedError(f"no StoveKnob lights {burner}") from None
            knobs = self._known((KNOB,), set())
            guess = pair_knobs(
                {k.id: k.position for k in knobs},
                {b.id: b.position for b in self._known((BURNER,), set())},
            )
            bpos = graph.node(burner).position
            knob = min(
                (k for k in knobs if k.id not in tried),
                key=lambda k: (guess.get(k.id) != burner, math.dist(k.position, bpos), k.id),
            )
            tried.add(knob.id)
            yield from self._reach(knob.id)
            result = yield Skill("toggle_on", knob.id)
            if not result.success and not result.unchanged:
                continue
            if burner not in result.seen and burner not in sensed_by_id(result.sensed):
                # Not in view from the knob: look at the burner (a camera that sees no
                # flame learns nothing there, and the match by position is trusted).
                yield Skill("navigate", burner)
            lit = self._believed_state(burner, "isToggled")
            cooked = self._believed_state(food, "isCooked")
            works = lit is True or cooked is True or (lit is None and cooked is None)
            yield from self._reach(knob.id)
            yield Skill("toggle_off", knob.id)
            if works:
                return

    calls = 0
    tokens = 0

    @property
    def memory_hits(self) -> int:
        return self.search.memory_hits

    @property
    def searches(self) -> int:
        return self.search.searches

    def close(self) -> None:
        pass

    def program(self, pred: Predicate, task: Task | None = None) -> Plan:
        if task is not None and task.ordered:
            # Ordered subgoals are reached one after another and need not stay true: a later
            # one may use what an earlier one used (turn the TV on, then off).
            subgoal = next((i for i, sg in enumerate(task.subgoals) if pred in sg), None)
            if subgoal != self._subgoal:
                self.done.clear()
                self._subgoal = subgoal
        if pred.at is not None:
            # A place (PointNav): walk there.
            x, z = horizontal(pred.at, self.body.state().up_axis)
            result = yield Skill("navigate", f"point:{x},{z}")
            if not result.success:
                raise PlanFailedError(result.error_message)
            return
        if pred.near is not None:
            yield from self._go_near(pred, task)
            return
        types = pred.object_types
        wholes = tuple(dict.fromkeys(made_from(t) for t in types if made_from(t) != t))
        wants = dict(pred.state)
        if wholes and not self._known(types, set(self.done)):
            # A slice of bread, a cracked egg: made from a whole one first.
            if all(t == "Egg" for t in wholes):
                yield from self._crack(wholes)
            else:
                yield from self._slice(tuple(t for t in wholes if t != "Egg"))
        if (
            set(wants) <= {"isToggled", "isOpen", "isSliced", "isBroken"}
            and not pred.in_types
            and not pred.held
        ):
            for _ in range(pred.count):
                # One believed in the other state is one to act on (the drawer opened by an
                # earlier subgoal, when this one wants a drawer closed).
                opposite = [
                    n
                    for n in self._known(types, set(self.done), pred.names)
                    if any(
                        key in wants and n.state.get(key) == (not wants[key])
                        for key, _ in SWITCHES.values()
                    )
                ]
                if opposite:
                    target = opposite[0].id
                else:
                    target = yield from self.find(types, set(self.done), pred.names)
                for name in pred.names[:1]:
                    self.referents.bind(name, target)
                if "isSliced" in wants:
                    yield from self._slice(types)
                    self.done.add(target)
                    continue
                yield from self._reach(target)
                if wants.get("isBroken") and self._believed_state(target, "isBroken") is not True:
                    result = yield Skill("break", target)
                    if not result.success:
                        raise PlanFailedError(result.error_message)
                for name, (key, value) in SWITCHES.items():
                    if key in wants and bool(wants[key]) is value:
                        result = yield Skill(name, target)
                        if not result.success and not result.unchanged:
                            # Not this one after all (gone from where memory had it, out
                            # of reach): the replan may take it again once found.
                            raise PlanFailedError(result.error_message)
                self.done.add(target)
            return
        homes = self._homes_of_others(pred)  # the walkthrough does not change

        def in_place() -> set[str]:
            return self._in_place(pred, homes)

        def settled() -> set[str]:
            return self._in_place(pred, homes, unmoved=False)

        for _ in range(pred.count):
            # Already put in a movable receptacle for an earlier predicate: carry that along.
            inside = next(
                (
                    c
                    for o, c in self.carried_in.items()
                    if self._label(o) in types and self._label(c) not in pred.in_types
                ),
                None,
            )
            carrier_label = self._label(inside) if inside is not None else None
            if inside is not None and carrier_label is not None and pred.in_types:
                obj = yield from self._pick((carrier_label,), (inside,))
            else:
                obj = yield from self._pick(types, pred.names, in_place, settled)
            for name in pred.names[:1]:
                self.referents.bind(name, obj)
            yield from self._treat(obj, pred)
            if self._held() != obj:
                # Treated where it was put (toasted in the toaster, fried in the pan).
                if pred.in_types and not pred.held and self._in_wanted_place(obj, pred):
                    self.done.add(obj)
                    continue
                yield from self._reach(obj)
                result = yield Skill("pickup", obj)
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
                if len(dest_types) == 1 and is_ref(dest_types[0]):
                    # Up close the id's place may be seen better (the drawer beside the
                    # one first taken for it): go to what it means now.
                    closer = self.referents.resolve(dest_types[0])
                    if closer is not None and closer != dest:
                        dest = closer
                        yield from self._reach(dest)
                node = self.memory.graph.node(dest) if dest in self.memory.graph else None
                if node is not None and self._maybe_closed(node):
                    yield Skill("open", dest)
                result = yield Skill("put", dest)
                if not result.success:
                    raise PlanFailedError(result.error_message)
                if len(dest_types) == 1 and is_ref(dest_types[0]):
                    self.referents.bind(dest_types[0], dest)
                if node is not None and node.layer == Layer.OBJECT:  # a movable receptacle
                    self.carried_in[obj] = dest
            self.done.add(obj)

    def _in_place(
        self, pred: Predicate, homes: list[tuple[float, float, float]], unmoved: bool = True
    ) -> set[str]:
        """Where the named instance cannot be told apart from others of its type (memory has
        no identities), those already where the predicate wants them: the one named was
        moved, so it is another; so are those standing at ``homes``
        (:meth:`_homes_of_others`), and (``unmoved``) those seen again in this episode
        where memory held them before it began (a thing someone moved is not where it was;
        weaker evidence: memory may not have seen it move). Asked again as the search
        sees more: an instance seen in place before the one out of place must not be taken
        for it."""
        if not pred.names or not all(self.referents.open_label(n) for n in pred.names):
            return set()
        state = self.body.state()
        start = self._episode_start()
        return {
            n.id
            for t in pred.object_types
            for n in self.memory.graph.find_by_label(t)
            if n.id != state.held
            and (
                holds(pred, n, self.memory, state, self.referents)
                or any(math.dist(n.position, h) <= HOME_RADIUS_M for h in homes)
                or (unmoved and start is not None and n.last_changed < start <= n.last_seen)
            )
        }

    def _episode_start(self) -> float | None:
        """When the episode under way began (memory's open episode), if one is."""
        starts = [e.start_t for e in self.memory.episodic.episodes if e.end_t is None]
        return max(starts) if starts else None

    def _homes_of_others(self, pred: Predicate) -> list[tuple[float, float, float]]:
        """Where the walkthrough saw look-alikes that the goal does not want where the
        predicate wants its instance: each is another's home, and one standing there now
        was not moved, so it is not the one named."""
        walk = self.walkthrough
        if walk is None:
            return []
        refs = self.referents.with_memory(walk)
        idle = BodyState(Pose((0.0, 0.0, 0.0)), up_axis=walk.graph.up_axis)
        return [
            n.position
            for t in pred.object_types
            for n in walk.graph.find_by_label(t)
            if n.present and not holds(pred, n, walk, idle, refs)
        ]

    def explore(self) -> Plan:
        """Look around here, then at frontier points of the body's map, far from where the
        agent has been, until none is left (at most ``max_explore``)."""
        yield Skill("look_around")
        for _ in range(self.max_explore):
            if not (yield from self._look_from_frontier()):
                return

    def _destinations(self, pred: Predicate) -> list[tuple[str, ...]]:
        """Where to put things: one receptacle, or a movable one then its holder."""
        ids = tuple(t for t in pred.in_types if is_ref(t))
        if ids:
            return [ids]
        return [pred.in_types]
