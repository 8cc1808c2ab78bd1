"""One episode of the closed loop on the built-in simulator, scored on its ground truth.

The loop gets the world only as a :class:`~sim.body.BuiltinBody`; the world itself is
seen by the scorer alone.
"""

from __future__ import annotations

from collections.abc import Callable

from embodiment.approach import ApproachNavigation
from embodiment.body import Body
from embodiment.skills import Skill, StepResult
from embodiment.tasks import Task
from memory_core import LociError, Memory
from planners.executive import EpisodeResult, Executive
from planners.llm import LLMConfig
from planners.registry import planner_factory
from sim.body import BuiltinBody
from sim.registry import SceneRegistry
from sim.tasks import WorldScorer
from sim.world import World

__all__ = ["NAVIGATION_MODES", "run_in_world"]

NAVIGATION_MODES = ("sim", "poses")


def run_in_world(
    world: World,
    memory: Memory,
    task: Task,
    registry: SceneRegistry,
    on_step: Callable[[Skill, StepResult], None] | None = None,
    llm: LLMConfig | None = None,
    sensing: str = "gt",
    navigation: str = "poses",
) -> EpisodeResult:
    """Run ``task`` with the symbolic planner (or, with ``llm``, the LLM planner).

    ``navigation``: ``sim`` goes to objects and rooms by the simulator's own rule (true
    footprints, the task's interaction poses); ``poses`` by poses computed from memory and
    the map (:class:`~embodiment.approach.ApproachNavigation`), as a robot's nav2 does and
    as ``planner_node`` does over ROS.
    """
    if navigation not in NAVIGATION_MODES:
        raise LociError(f"navigation must be one of {NAVIGATION_MODES}, got {navigation!r}")
    builtin = BuiltinBody(world, sensing)
    body: Body = builtin
    if navigation == "poses":
        body = ApproachNavigation(builtin, builtin.reach_m)
    scorer = WorldScorer(task, world)
    make = planner_factory(
        "llm" if llm is not None else "symbolic", body, memory, registry.affordances, llm
    )
    executive = Executive(body, memory, registry.affordances, on_step=on_step, planner=make)
    return executive.run(task, scorer)
