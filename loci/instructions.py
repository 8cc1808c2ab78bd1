"""Tasks given in words: the LLM at ``LOCI_LLM_BASE_URL`` writes the goal (checked,
:mod:`planners.instruct`) before the task runs; the symbolic executive carries it out."""

from __future__ import annotations

import dataclasses

from embodiment.tasks import Task
from memory_core import LociError, Memory
from planners.instruct import GoalTranslator, Translation, Vocabulary
from planners.llm_client import LLMClient, LLMConfig
from sim.registry import SceneRegistry
from sim.suites import load_suite

__all__ = ["POOL_SUITE", "with_goal"]

POOL_SUITE = "household"
"""Where the few-shot examples come from (its instructions with their goals)."""


def with_goal(
    task: Task,
    registry: SceneRegistry,
    config: LLMConfig | None = None,
    memory: Memory | None = None,
) -> tuple[Task, Translation | None]:
    """``task`` with the goal its instruction asks for (unchanged if it has a goal); the
    translation's calls and tokens with it. ``memory``: what the robot remembers (its
    instance names may be named, its context is in the prompt). A clear error when no LLM
    is configured or its answers are all rejected."""
    if not task.needs_goal:
        return task, None
    config = config or LLMConfig.from_env(max_tokens=200)
    if not config.base_url or not config.model:
        raise LociError(
            f"task {task.task_id} is an instruction: an LLM must write its goal "
            "(set LOCI_LLM_BASE_URL and LOCI_LLM_MODEL, any OpenAI-compatible server)"
        )
    aff = registry.affordances
    vocab = Vocabulary.of({o.object_type for o in registry.load(task.scene).objects}, aff, memory)
    pool = load_suite(POOL_SUITE, registry.data)
    with LLMClient(config) as client:
        translation = GoalTranslator(client, aff, pool).translate(
            task.instruction, task.scene, vocab, task.task_id, memory
        )
    if translation.task is None:
        raise LociError(f"task {task.task_id}: {translation.error}")
    goal = translation.task
    return dataclasses.replace(task, subgoals=goal.subgoals, ordered=goal.ordered), translation
