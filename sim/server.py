"""The simulator as a service: what a simulator bridge (the ROS ``sim_node``) wraps.

It owns one :class:`World`, sets it up for a task (a task line of docs/tasks.md),
executes skills, and hands out the world's dynamic state after each, so that a planner
in another process can keep a mirror (:class:`planners.remote.MirrorWorld`) exactly in step.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from sim.episode import apply_init, make_world
from sim.errors import SimError
from sim.registry import SceneRegistry
from sim.tasks import Task, TaskFormatError, parse_task
from sim.world import Skill, StepResult, World

__all__ = ["SimServer", "parse_task_json"]

_log = logging.getLogger(__name__)


def parse_task_json(text: str) -> Task:
    try:
        return parse_task(json.loads(text))
    except (json.JSONDecodeError, ValueError, TypeError) as exc:
        raise TaskFormatError(f"bad task: {exc}") from exc


class SimServer:
    def __init__(self, registry: SceneRegistry) -> None:
        self.registry = registry
        self.world: World | None = None

    def reset(self, task: Task, keep_state: bool = False) -> dict[str, Any]:
        """Set the world up for ``task``. With ``keep_state`` and the task's scene already
        loaded, the world carries over (a second task in the same house) and only the
        task's initial changes are applied."""
        if keep_state and self.world is not None and self.world.spec.name == task.scene:
            apply_init(self.world, task)
        else:
            self.world = make_world(task, self.registry)
        _log.info("world ready for %s in %s", task.task_id, task.scene)
        return self.world.state()

    def execute(self, skill: Skill) -> tuple[StepResult, dict[str, Any]]:
        if self.world is None:
            raise SimError("no world yet: reset the simulator with a task first")
        result = self.world.step(skill)
        return result, self.world.state()
