"""The simulator's scorer: task predicates judged on the world's ground truth.

Used outside the closed loop only (the planner's critic reads memory): it scores
episodes for benchmarks and audits the critic. The checker (:mod:`embodiment.scoring`)
and the task types (:mod:`embodiment.tasks`) are re-exported here; a :class:`World` is
a scene state the checker reads as it is.
"""

from __future__ import annotations

from embodiment.scoring import GoalChecker, StateScorer, matches, satisfied
from embodiment.tasks import (
    Predicate,
    Task,
    TaskFormatError,
    check_types_exist,
    load_tasks,
    parse_task,
    task_to_json,
)
from sim.world import World

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


class WorldScorer(StateScorer):
    """The goal checker bound to one world."""

    def __init__(self, task: Task, world: World) -> None:
        super().__init__(task, lambda: world)
        self.world = world
