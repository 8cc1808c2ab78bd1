"""The scorer: task predicates judged on a simulator's ground truth.

Any simulator's state will do that lists its objects with AI2-THOR's properties
(:class:`ObjectState`), says what the agent holds and what holds each object
(:class:`SceneState`): the built-in world (``sim.tasks``) and AI2-THOR's event metadata
(``thor.scoring``). Used outside the closed loop only (the planner's critic reads memory):
it scores episodes for benchmarks and audits the critic.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from embodiment.tasks import STATE_KEYS, Predicate, Task, TaskFormatError

__all__ = [
    "FLOOR_M",
    "GoalChecker",
    "ObjectRecord",
    "ObjectState",
    "SceneRecord",
    "SceneState",
    "StateScorer",
    "matches",
    "satisfied",
]

FLOOR_M = 0.3
"""A thing on no receptacle lies on the floor when its pivot (AI2-THOR's ``position``, at
or near its base) is this low; higher, it rests on something that is not a receptacle (a
toilet's tank, a heater), which no goal names and which is not the floor."""


class ObjectState(Protocol):
    """One object as a scorer reads it (the names of :class:`sim.world.SimObject`)."""

    @property
    def object_id(self) -> str: ...
    @property
    def object_type(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def parent_id(self) -> str | None: ...
    @property
    def position(self) -> tuple[float, float, float]: ...
    @property
    def is_open(self) -> bool: ...
    @property
    def is_toggled(self) -> bool: ...
    @property
    def is_sliced(self) -> bool: ...
    @property
    def is_cooked(self) -> bool: ...
    @property
    def is_dirty(self) -> bool: ...
    @property
    def is_filled(self) -> bool: ...
    @property
    def is_broken(self) -> bool: ...
    @property
    def temperature(self) -> str: ...
    @property
    def is_cleaned(self) -> bool: ...
    @property
    def is_heated(self) -> bool: ...
    @property
    def is_cooled(self) -> bool: ...
    @property
    def is_picked_up(self) -> bool: ...


class SceneState(Protocol):
    @property
    def objects(self) -> Mapping[str, ObjectState]: ...
    @property
    def held(self) -> str | None: ...
    @property
    def agent_xz(self) -> tuple[float, float] | None:
        """The agent's floor position (x, z: positions are y-up), None if unknown."""
        ...

    def ancestors(self, object_id: str) -> list[str]:
        """What holds the object, innermost first."""
        ...


@dataclass(frozen=True, slots=True)
class ObjectRecord:
    """An :class:`ObjectState` as plain values, read from a simulator's snapshot
    (AI2-THOR's event metadata, Habitat's placed objects); what a simulator does not
    model keeps its default."""

    object_id: str
    object_type: str
    name: str
    position: tuple[float, float, float]
    parent_id: str | None = None
    is_open: bool = False
    is_toggled: bool = False
    is_sliced: bool = False
    is_cooked: bool = False
    is_dirty: bool = False
    is_filled: bool = False
    is_broken: bool = False
    temperature: str = "RoomTemp"
    is_cleaned: bool = False
    is_heated: bool = False
    is_cooled: bool = False
    is_picked_up: bool = False


@dataclass(frozen=True, slots=True)
class SceneRecord:
    """A :class:`SceneState` of :class:`ObjectRecord` values."""

    objects: Mapping[str, ObjectRecord]
    held: str | None
    agent_xz: tuple[float, float] | None = None

    def ancestors(self, object_id: str) -> list[str]:
        out: list[str] = []
        cur = self.objects[object_id].parent_id if object_id in self.objects else None
        while cur is not None and cur not in out and cur in self.objects:
            out.append(cur)
            cur = self.objects[cur].parent_id
        return out


_STATE: dict[str, Callable[[ObjectState], Any]] = {
    "isOpen": lambda o: o.is_open,
    "isToggled": lambda o: o.is_toggled,
    "isSliced": lambda o: o.is_sliced,
    "isCooked": lambda o: o.is_cooked,
    "isDirty": lambda o: o.is_dirty,
    "isFilledWithLiquid": lambda o: o.is_filled,
    "isBroken": lambda o: o.is_broken,
    "temperature": lambda o: o.temperature,
    "isCleaned": lambda o: o.is_cleaned,
    "isHeated": lambda o: o.is_heated,
    "isCooled": lambda o: o.is_cooled,
    "isPickedUp": lambda o: o.is_picked_up,
}
assert set(_STATE) == set(STATE_KEYS)


def _within(scene: SceneState, x: float, z: float, near: float) -> bool:
    agent = scene.agent_xz
    return agent is not None and math.hypot(x - agent[0], z - agent[1]) <= near


def matches(pred: Predicate, scene: SceneState, o: ObjectState) -> bool:
    """Whether object ``o`` of ``scene`` is one the predicate asks for."""
    if o.object_type not in pred.object_types:
        return False
    if pred.near is not None and not _within(scene, o.position[0], o.position[2], pred.near):
        return False
    if pred.names and o.name not in pred.names and o.object_id not in pred.names:
        return False
    for key, want in pred.state.items():
        if _STATE[key](o) != want:
            return False
    if pred.held and scene.held != o.object_id:
        return False
    if pred.in_types:
        if (
            o.parent_id is None
            and "Floor" in pred.in_types
            and scene.held != o.object_id
            and o.position[1] < FLOOR_M
        ):
            return True  # lying free on the floor
        objects = scene.objects
        return any(
            r.object_type in pred.in_types
            or r.object_id in pred.in_types
            or r.name in pred.in_types
            for r in (objects[p] for p in scene.ancestors(o.object_id) if p in objects)
        )
    return True


def satisfied(pred: Predicate, scene: SceneState) -> int:
    """How many of the ``count`` required objects are there now."""
    if pred.at is not None:
        assert pred.near is not None
        return int(_within(scene, pred.at[0], pred.at[2], pred.near))
    n = sum(1 for o in scene.objects.values() if matches(pred, scene, o))
    return min(n, pred.count)


class GoalChecker:
    """Credits ordered subgoals as they are reached; scores unordered goals on the state."""

    def __init__(self, task: Task) -> None:
        if task.needs_goal:
            # No goal is met by anything: "success in 0 steps" would be a lie.
            raise TaskFormatError(
                f"task {task.task_id} has only an instruction: an LLM must write its goal "
                "first (set LOCI_LLM_BASE_URL and LOCI_LLM_MODEL)"
            )
        self.task = task
        self.credited = 0

    def update(self, scene: SceneState) -> None:
        if not self.task.ordered:
            return
        while self.credited < len(self.task.subgoals) and all(
            satisfied(p, scene) == p.count for p in self.task.subgoals[self.credited]
        ):
            self.credited += 1

    def success(self, scene: SceneState) -> bool:
        if self.task.ordered:
            self.update(scene)
            return self.credited == len(self.task.subgoals)
        return all(satisfied(p, scene) == p.count for p in self.task.subgoals[0])

    def goal_conditions(self, scene: SceneState) -> float:
        """Goal-condition success: the fraction of goal units met (ALFRED's GC)."""
        if self.task.ordered:
            self.update(scene)
            return self.credited / len(self.task.subgoals)
        preds: Sequence[Predicate] = self.task.subgoals[0]
        return sum(satisfied(p, scene) for p in preds) / sum(p.count for p in preds)


class StateScorer:
    """The goal checker on a simulator's current state (``scene`` gives it when asked):
    ``planners.executive.Scorer`` for the loop's caller, which is told after every skill
    and never asks it what to do."""

    def __init__(self, task: Task, scene: Callable[[], SceneState]) -> None:
        self.checker, self.scene = GoalChecker(task), scene

    def update(self) -> None:
        self.checker.update(self.scene())

    def success(self) -> bool:
        return self.checker.success(self.scene())

    def goal_conditions(self) -> float:
        return self.checker.goal_conditions(self.scene())

    def count(self, pred: Predicate) -> int:
        return satisfied(pred, self.scene())
