"""One episode of the closed loop on the built-in simulator, scored on its ground truth.

The loop gets the world only as a :class:`~sim.body.BuiltinBody`; the world itself is
seen by the scorer alone.
"""

from __future__ import annotations

from collections.abc import Callable

from embodiment.skills import Skill, StepResult
from embodiment.tasks import Task
from memory_core import Memory
from planners.executive import EpisodeResult, Executive
from planners.llm import LLMConfig
from planners.registry import planner_factory
from sim.body import BuiltinBody
from sim.registry import SceneRegistry
from sim.tasks import WorldScorer
from sim.world import World

__all__ = ["run_in_world"]


def run_in_world(
    world: World,
    memory: Memory,
    task: Task,
    registry: SceneRegistry,
    on_step: Callable[[Skill, StepResult], None] | None = None,
    llm: LLMConfig | None = None,
    sensing: str = "gt",
) -> EpisodeResult:
    """Run ``task`` with the symbolic planner (or, with ``llm``, the LLM planner)."""
    body, scorer = BuiltinBody(world, sensing), WorldScorer(task, world)
    make = planner_factory(
        "llm" if llm is not None else "symbolic", body, memory, registry.affordances, llm
    )
    executive = Executive(body, memory, registry.affordances, on_step=on_step, planner=make)
    return executive.run(task, scorer)
