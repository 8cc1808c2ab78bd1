"""The simulator as a service: what a simulator bridge (the ROS ``sim_node``) wraps.

It owns one :class:`World` and sets it up for a task (a task line of docs/tasks.md); its
:meth:`SimServer.state` is the world's dynamic state, which only scoring reads (the loop
acts through the world as a body, :class:`sim.body.BuiltinBody`).
"""

from __future__ import annotations

import logging
from typing import Any

from embodiment.tasks import parse_task_json
from sim.episode import apply_init, make_world
from sim.errors import SimError
from sim.registry import SceneRegistry
from sim.tasks import Task
from sim.world import World

__all__ = ["SimServer", "parse_task_json"]

_log = logging.getLogger(__name__)


class SimServer:
    def __init__(self, registry: SceneRegistry) -> None:
        self.registry = registry
        self.world: World | None = None

    def state(self) -> dict[str, Any]:
        """The world's whole dynamic state (objects, agent, counters)."""
        if self.world is None:
            raise SimError("no world yet: reset the simulator with a task first")
        return self.world.state()

    def reset(self, task: Task, keep_state: bool = False) -> dict[str, Any]:
        """Set the world up for ``task``. With ``keep_state`` and the task's scene already
        loaded, the world carries over (a second task in the same house) and only the
        task's initial changes are applied."""
        if keep_state and self.world is not None and self.world.spec.name == task.scene:
            apply_init(self.world, task)
        else:
            self.world = make_world(task, self.registry)
        _log.info("world ready for %s in %s", task.task_id, task.scene)
        return self.state()
