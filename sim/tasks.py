"""The simulator's scorer: task predicates judged on the world's ground truth.

Used outside the closed loop only (the planner's critic reads memory): it scores
episodes for benchmarks and audits the critic. The task types themselves live in
:mod:`embodiment.tasks` and are re-exported here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from embodiment.tasks import (
    STATE_KEYS,
    Predicate,
    Task,
    TaskFormatError,
    check_types_exist,
    load_tasks,
    parse_task,
    task_to_json,
)
from sim.world import SimObject, World

__all__ = [
    "GoalChecker",
    "Predicate",
    "Task",
    "TaskFormatError",
    "WorldScorer",
    "check_types_exist",
    "load_tasks",
    "matches",
    "parse_task",
    "satisfied",
    "task_to_json",
]

_STATE: dict[str, Callable[[SimObject], Any]] = {
    "isOpen": lambda o: o.is_open,
    "isToggled": lambda o: o.is_toggled,
    "isSliced": lambda o: o.is_sliced,
    "isCooked": lambda o: o.is_cooked,
    "isDirty": lambda o: o.is_dirty,
    "isFilledWithLiquid": lambda o: o.is_filled,
    "temperature": lambda o: o.temperature,
    "isCleaned": lambda o: o.is_cleaned,
    "isHeated": lambda o: o.is_heated,
    "isCooled": lambda o: o.is_cooled,
    "isPickedUp": lambda o: o.is_picked_up,
}
assert set(_STATE) == set(STATE_KEYS)


def matches(pred: Predicate, world: World, o: SimObject) -> bool:
    """Whether object ``o`` of ``world`` is one the predicate asks for."""
    if o.object_type not in pred.object_types:
        return False
    if pred.names and o.name not in pred.names and o.object_id not in pred.names:
        return False
    for key, want in pred.state.items():
        if _STATE[key](o) != want:
            return False
    if pred.held and world.held != o.object_id:
        return False
    if pred.in_types:
        if o.parent_id is None and "Floor" in pred.in_types and world.held != o.object_id:
            return True  # lying free on the floor
        return any(
            r.object_type in pred.in_types
            or r.object_id in pred.in_types
            or r.name in pred.in_types
            for r in (world.objects[p] for p in world.ancestors(o.object_id))
        )
    return True


def satisfied(pred: Predicate, world: World) -> int:
    """How many of the ``count`` required objects are there now."""
    n = sum(1 for o in world.objects.values() if matches(pred, world, o))
    return min(n, pred.count)


class GoalChecker:
    """Credits ordered subgoals as they are reached; scores unordered goals on the state."""

    def __init__(self, task: Task) -> None:
        self.task = task
        self.credited = 0
        self._units = [sum(p.count for p in sg) for sg in task.subgoals]

    def update(self, world: World) -> None:
        if not self.task.ordered:
            return
        while self.credited < len(self.task.subgoals) and all(
            satisfied(p, world) == p.count for p in self.task.subgoals[self.credited]
        ):
            self.credited += 1

    def success(self, world: World) -> bool:
        if self.task.ordered:
            self.update(world)
            return self.credited == len(self.task.subgoals)
        return all(satisfied(p, world) == p.count for p in self.task.subgoals[0])

    def goal_conditions(self, world: World) -> float:
        """Goal-condition success: the fraction of goal units met (ALFRED's GC)."""
        if self.task.ordered:
            self.update(world)
            return self.credited / len(self.task.subgoals)
        preds: Sequence[Predicate] = self.task.subgoals[0]
        return sum(satisfied(p, world) for p in preds) / sum(p.count for p in preds)


class WorldScorer:
    """The goal checker bound to one world: ``planners.executive.Scorer`` for the loop's
    caller (the loop is told after every skill, never asks it what to do)."""

    def __init__(self, task: Task, world: World) -> None:
        self.checker, self.world = GoalChecker(task), world

    def update(self) -> None:
        self.checker.update(self.world)

    def success(self) -> bool:
        return self.checker.success(self.world)

    def goal_conditions(self) -> float:
        return self.checker.goal_conditions(self.world)

    def count(self, pred: Predicate) -> int:
        return satisfied(pred, self.world)
