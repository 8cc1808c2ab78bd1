"""One episode of the closed loop on a body, scored on its simulator's ground truth.

The loop gets the built-in world only as a :class:`~sim.body.BuiltinBody` (the world
itself is seen by the scorer alone), and AI2-THOR only through its Controller.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from embodiment.affordances import Affordances
from embodiment.approach import ApproachNavigation
from embodiment.body import Body, FloorPlan
from embodiment.scoring import StateScorer
from embodiment.skills import Skill, StepResult
from embodiment.tasks import Task
from memory_core import LociError, Memory
from planners.executive import EpisodeResult, Executive, Scorer
from planners.llm import LLMConfig
from planners.registry import planner_factory
from sim.body import BuiltinBody
from sim.registry import SceneRegistry
from sim.tasks import WorldScorer
from sim.world import World
from thor.errors import ThorError

if TYPE_CHECKING:
    from thor.body import Ai2ThorBody

__all__ = ["NAVIGATION_MODES", "run_in_world", "run_on_body", "run_on_thor"]

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
    return run_on_body(
        body, memory, task, registry.affordances, WorldScorer(task, world), on_step, llm
    )


def run_on_body(
    body: Body,
    memory: Memory,
    task: Task,
    affordances: Affordances,
    scorer: Scorer,
    on_step: Callable[[Skill, StepResult], None] | None = None,
    llm: LLMConfig | None = None,
) -> EpisodeResult:
    """The closed loop on any body, scored from outside by ``scorer``."""
    make = planner_factory("llm" if llm is not None else "symbolic", body, memory, affordances, llm)
    executive = Executive(body, memory, affordances, on_step=on_step, planner=make)
    return executive.run(task, scorer)


def run_on_thor(
    controller: Any,
    memory: Memory,
    task: Task,
    registry: SceneRegistry,
    fresh: bool = True,
    sensing: str = "gt",
    on_step: Callable[[Skill, StepResult], None] | None = None,
    llm: LLMConfig | None = None,
) -> tuple[EpisodeResult, Ai2ThorBody]:
    """Run ``task`` on AI2-THOR's Controller (``--body ai2thor``), scored on the final
    event's metadata. ``fresh``: reset to the task's scene first (a lifelong sequence's
    later tasks carry the scene over). Navigation is by poses (the body goes to points).
    The floor plan (rooms, doors) comes from the scene's data, as a robot is given its
    building's map; everything about objects comes from the Controller."""
    from thor.body import Ai2ThorBody
    from thor.scenes import build_scene_name
    from thor.scoring import thor_scene
    from thor.setup import apply_task_init

    spec = registry.load(task.scene)
    if fresh:
        try:
            controller.reset(scene=build_scene_name(task.scene))
        except Exception as exc:
            raise ThorError(f"AI2-THOR reset to {task.scene} failed: {exc}") from exc
    body = Ai2ThorBody(controller, sensing, FloorPlan(spec.name, spec.rooms, spec.doors))
    apply_task_init(body, task)
    scorer = StateScorer(task, lambda: thor_scene(body.metadata, body.history))
    navigator = ApproachNavigation(body, body.reach_m)
    return run_on_body(navigator, memory, task, registry.affordances, scorer, on_step, llm), body
