"""The simulator as a service: what a simulator bridge (the ROS ``sim_node``) wraps.

It owns one :class:`World`, sets it up for a task (a task line of docs/tasks.md),
executes skills, and hands out the world's dynamic state after each, so that a planner
in another process can keep a mirror (:class:`sim.remote.MirrorWorld`) exactly in step.
After a skill only the objects that changed are sent (``changed_only``), numbered: a
mirror whose ``revision`` is not the delta's ``base`` has missed one and asks for the
whole state (:meth:`SimServer.state`).
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
    except (json.JSONDecodeError, ValueError, TypeError, RecursionError) as exc:
        raise TaskFormatError(f"bad task: {exc}") from exc


class SimServer:
    def __init__(self, registry: SceneRegistry) -> None:
        self.registry = registry
        self.world: World | None = None
        self.revision = 0
        self._sent: dict[str, dict[str, Any]] = {}

    def state(self) -> dict[str, Any]:
        """The whole state, numbered with the current revision."""
        if self.world is None:
            raise SimError("no world yet: reset the simulator with a task first")
        full = self.world.state()
        self._sent = {o["object_id"]: o for o in full["objects"]}
        return {**full, "revision": self.revision}

    def _delta(self) -> dict[str, Any]:
        assert self.world is not None
        full = self.world.state()
        now = {o["object_id"]: o for o in full["objects"]}
        changed = [o for oid, o in now.items() if self._sent.get(oid) != o]
        removed = [oid for oid in self._sent if oid not in now]
        self._sent = now
        self.revision += 1
        return {
            **full,
            "objects": changed,
            "removed": removed,
            "changed_only": True,
            "base": self.revision - 1,
            "revision": self.revision,
        }

    def reset(self, task: Task, keep_state: bool = False) -> dict[str, Any]:
        """Set the world up for ``task``. With ``keep_state`` and the task's scene already
        loaded, the world carries over (a second task in the same house) and only the
        task's initial changes are applied."""
        if keep_state and self.world is not None and self.world.spec.name == task.scene:
            apply_init(self.world, task)
        else:
            self.world = make_world(task, self.registry)
        _log.info("world ready for %s in %s", task.task_id, task.scene)
        self.revision += 1
        return self.state()

    def execute(self, skill: Skill) -> tuple[StepResult, dict[str, Any]]:
        """The skill's result and what changed (see the module's docstring)."""
        if self.world is None:
            raise SimError("no world yet: reset the simulator with a task first")
        result = self.world.step(skill)
        return result, self._delta()
