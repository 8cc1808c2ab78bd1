"""What a successful skill tells the agent about the world, as observations for memory.

A robot that has just put the egg in the fridge knows where the egg is, whether or not
its camera sees it now (inside a fridge, behind the door, out of view). The executive
turns each successful skill into these beliefs; what the body senses in the same step
wins over them (an object it saw is left to its observation, a state it sensed to the
sensed value; a camera senses no state, so a perceived object keeps the skill's).
"""

from __future__ import annotations

from embodiment.affordances import Affordances
from embodiment.appliances import BURNER, KNOB, pair_knobs
from embodiment.body import BodyState, Sensed
from embodiment.skills import SWITCHES, StepResult
from memory_core import Box3D, Memory, ObjectObservation, SceneNode
from memory_core.geometry import vertical
from memory_core.types import StateValue, Vec3
from planners.critic import FLOOR_LEVEL_M, ancestors

__all__ = ["sensed_by_id", "skill_effects"]

_STATE_EFFECTS: dict[str, dict[str, StateValue]] = {
    **{name: {key: value} for name, (key, value) in SWITCHES.items()},
    "slice": {"isSliced": True},
    "clean": {"isCleaned": True, "isDirty": False},
    "heat": {"isHeated": True, "temperature": "Hot"},
    "cool": {"isCooled": True, "temperature": "Cold"},
    "fill": {"isFilledWithLiquid": True, "isCleaned": True},
    "empty": {"isFilledWithLiquid": False},
    "break": {"isBroken": True},
}
_LEARNS_WHEN_UNCHANGED = (*SWITCHES, "empty", "break")
"""Skills whose failure because the target already was so tells its state."""
_HOT: dict[str, StateValue] = {"temperature": "Hot", "isHeated": True}
_COLD: dict[str, StateValue] = {"temperature": "Cold", "isCooled": True}


def skill_effects(
    result: StepResult,
    before: BodyState,
    memory: Memory,
    t: float,
    aff: Affordances | None = None,
) -> list[ObjectObservation]:
    """Beliefs that follow from ``result`` (a skill run from body state ``before``): a
    success, or a state skill that found its target already so (``unchanged``). With
    ``aff``, AI2-THOR's contextual rules too: what a lit heat source holds is hot (and
    cooked, if it cooks), what a fridge holds is cold, a mug in a running coffee machine
    fills."""
    graph, skill = memory.graph, result.skill
    if not result.success and not (result.unchanged and skill.name in _LEARNS_WHEN_UNCHANGED):
        return []
    sensed = sensed_by_id(result.sensed)
    target = skill.target
    if skill.name == "put" and before.held and target is not None and target in graph:
        if before.held in sensed:
            # Seen where it went; what it carries, unseen inside it, went along.
            where = sensed[before.held].position
            return _carried_contents(memory, before.held, where, t, sensed)
        dest = graph.node(target)
        label = before.held_label or (
            graph.node(before.held).label if before.held in graph else None
        )
        if label is None:
            return []
        put = ObjectObservation(
            label=label,
            position=_put_point(dest, before),
            timestamp=t,
            object_id=before.held,
            parent_id=dest.id,
            state=_climate(memory, dest.id, label, aff),
        )
        return [put, *_carried_contents(memory, before.held, put.position, t, sensed)]
    if skill.name == "drop" and before.held and before.held in graph:
        if before.held in sensed:
            # Seen where it went; what it carries, unseen inside it, went along.
            where = sensed[before.held].position
            return _carried_contents(memory, before.held, where, t, sensed)
        dropped = _on_floor_below(memory, before.held, t)
        return [dropped, *_carried_contents(memory, before.held, dropped.position, t, sensed)]
    effect = _STATE_EFFECTS.get(skill.name)
    if effect is None or skill.target is None or skill.target not in graph:
        return []
    node = graph.node(skill.target)
    if skill.name == "heat" and aff is not None and aff.cookable(node.label):
        effect = {**effect, "isCooked": True}
    out = [_restated(memory, node.id, effect, t, sensed)]
    if aff is not None and skill.name in ("toggle_on", "toggle_off") and result.success:
        out += _switched(memory, node, skill.name == "toggle_on", t, sensed, aff)
    return [o for o in out if o is not None]


def _restated(
    memory: Memory,
    node_id: str,
    state: dict[str, StateValue],
    t: float,
    sensed: dict[str, ObjectObservation],
) -> ObjectObservation | None:
    """``node_id`` where memory has it, with ``state``; None where the body sensed those
    states itself this step (a camera sees no "cooled")."""
    seen = sensed.get(node_id)
    if seen is not None and all(k in seen.state for k in state):
        return None
    node = memory.graph.node(node_id)
    support = memory.graph.support_of(node.id)
    return ObjectObservation(
        label=node.label,
        position=node.position,
        box=node.box,
        state=state,
        timestamp=t,
        object_id=node.id,
        parent_id=support[0] if support is not None else None,
        relation=support[1] if support is not None else None,
    )


def _switched(
    memory: Memory,
    node: SceneNode,
    on: bool,
    t: float,
    sensed: dict[str, ObjectObservation],
    aff: Affordances,
) -> list[ObjectObservation | None]:
    """A heat source switched on heats what it holds; a stove knob switches its burner
    (the burner matched to it by position, :func:`pair_knobs`, unless the body sensed a
    burner this step and so told memory itself)."""
    graph = memory.graph
    out: list[ObjectObservation | None] = []
    sources = [node.id]
    if node.label == KNOB:
        if any(o.label == BURNER for o in sensed.values()):
            # The body saw the burners: those memory now believes lit heat.
            sources = [n.id for n in graph.find_by_label(BURNER) if n.state.get("isToggled")]
        else:
            guess = pair_knobs(
                {n.id: n.position for n in graph.find_by_label(KNOB)},
                {n.id: n.position for n in graph.find_by_label(BURNER)},
            )
            burner = guess.get(node.id)
            if burner is None:
                return []
            sources = [burner]
            out.append(_restated(memory, burner, {"isToggled": on}, t, sensed))
    if not on:
        return out
    for source in sources:
        if not aff.heat_source(graph.node(source).label):
            continue
        for inside in _within(memory, source):
            state = _climate(memory, source, inside.label, aff, lit=True)
            out.append(_restated(memory, inside.id, state, t, sensed))
    return out


def _within(memory: Memory, holder: str) -> list[SceneNode]:
    out, stack = [], [holder]
    while stack:
        for node in memory.graph.contents(stack.pop()):
            if node not in out:
                out.append(node)
                stack.append(node.id)
    return out


def _climate(
    memory: Memory,
    holder_id: str,
    label: str,
    aff: Affordances | None,
    lit: bool = False,
) -> dict[str, StateValue]:
    """What being in ``holder_id`` (and what holds it) does to a ``label``: hot from a
    heat source memory believes on (``lit``: just switched on), cooked if it cooks, coffee
    in a mug in a coffee machine; cold in a fridge. Empty when nothing applies."""
    if aff is None:
        return {}
    graph = memory.graph
    if holder_id not in graph:
        return {}
    holder = graph.node(holder_id)
    for i, r in enumerate((holder, *ancestors(memory, holder.id))):
        if aff.cold_source(r.label):
            return dict(_COLD)
        on = (lit and i == 0) or r.state.get("isToggled") is True
        if aff.heat_source(r.label) and on:
            state = dict(_HOT)
            if aff.cookable(label):
                state["isCooked"] = True
            if r.label == "CoffeeMachine" and aff.fillable(label):
                state["isFilledWithLiquid"] = True
            return state
    return {}


PUT_INSET_M = 0.1
"""How far inside a receptacle's footprint a thing put on it is believed, at most."""


def _put_point(dest: SceneNode, agent: BodyState) -> Vec3:
    """Where a thing put on ``dest`` from where the agent stands is believed: the point of
    the receptacle's footprint nearest the agent, a little inside, at the height of its
    centre (a hand reaches the near side of a counter, not its middle a metre and a half
    away, where the thing would not be found again when seen)."""
    if dest.box is None:
        return dest.position
    axes = (0, 2) if agent.up_axis == "y" else (0, 1)
    lo, hi = dest.box.min_corner, dest.box.max_corner
    point = list(dest.position)
    for a, you in zip(axes, agent.floor_xy, strict=True):
        inset = min(PUT_INSET_M, (hi[a] - lo[a]) / 2)
        point[a] = min(max(you, lo[a] + inset), hi[a] - inset)
    return (point[0], point[1], point[2])


def _on_floor_below(memory: Memory, node_id: str, t: float) -> ObjectObservation:
    """A dropped thing unseen since: on the floor below where it was held (it falls; a
    robot that let go knows that much, and a camera looking ahead rarely sees its feet)."""
    graph = memory.graph
    node = graph.node(node_id)
    up = graph.up_axis
    axis = 1 if up == "y" else 2
    box = node.box
    half = box.size[axis] / 2 if box is not None else 0.0
    drop = FLOOR_LEVEL_M + half - vertical(box.center if box is not None else node.position, up)

    def lowered(p: Vec3) -> Vec3:
        x, y, z = p
        return (x, y + drop, z) if axis == 1 else (x, y, z + drop)

    return ObjectObservation(
        label=node.label,
        position=lowered(node.position) if box is None else lowered(box.center),
        box=Box3D(lowered(box.center), box.size) if box is not None else None,
        timestamp=t,
        object_id=node_id,
    )


def _carried_contents(
    memory: Memory,
    holder: str,
    where: tuple[float, float, float],
    t: float,
    sensed: dict[str, ObjectObservation],
) -> list[ObjectObservation]:
    """What a movable receptacle holds goes where it goes, still in it (the knife in the
    bowl put on the table is in the bowl on the table), unless seen there by id."""
    graph = memory.graph
    if holder not in graph:
        return []
    out, stack, seen = [], [holder], {holder}
    while stack:
        parent = stack.pop()
        for node in graph.contents(parent):
            if node.id in seen or node.id in sensed:
                continue
            seen.add(node.id)
            support = graph.support_of(node.id)
            out.append(
                ObjectObservation(
                    label=node.label,
                    position=where,
                    timestamp=t,
                    object_id=node.id,
                    parent_id=parent,
                    relation=support[1] if support is not None else None,
                )
            )
            stack.append(node.id)
    return out


def sensed_by_id(sensed: Sensed | None) -> dict[str, ObjectObservation]:
    """The last observation of each object the body sensed with an id."""
    if sensed is None:
        return {}
    batches = (sensed.observations, *sensed.perceived)
    return {o.object_id: o for batch in batches for o in batch if o.object_id is not None}
