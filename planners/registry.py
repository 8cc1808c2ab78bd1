"""Planners by name: ``--planner symbolic`` (no LLM) or ``--planner llm`` (any
OpenAI-compatible server), and ``--fallback llm``: the symbolic planner with the LLM
planner taking over the predicates it gives up on. Every planner runs inside the same
executive loop."""

from __future__ import annotations

from collections.abc import Callable

from embodiment.affordances import Affordances
from embodiment.body import Body
from memory_core import LociError, Memory
from planners.base import Planner
from planners.fallback import FallbackPlanner
from planners.llm import LLMConfig, LLMPlanner
from planners.symbolic import SymbolicPlanner

__all__ = ["FALLBACKS", "PLANNERS", "planner_factory"]

PLANNERS = ("symbolic", "llm")
FALLBACKS = ("none", "llm")


def planner_factory(
    name: str,
    body: Body,
    memory: Memory,
    affordances: Affordances,
    llm: LLMConfig | None = None,
    walkthrough: Memory | None = None,
    fallback: LLMConfig | None = None,
) -> Callable[[], Planner]:
    """What makes one episode's planner of kind ``name`` (for ``Executive(planner=...)``).
    ``walkthrough``: what the agent saw of the room as the goal has it (the symbolic
    planner tells look-alikes apart by it; the LLM planner does not use it yet).
    ``fallback``: the symbolic planner hands the predicates it gives up on to the LLM
    planner at this endpoint."""
    if name == "symbolic":
        if fallback is not None:
            then = _endpoint(fallback, "the llm fallback")
            return lambda: FallbackPlanner(
                SymbolicPlanner(body, memory, affordances, walkthrough=walkthrough),
                LLMPlanner(body, memory, then, affordances),
            )
        return lambda: SymbolicPlanner(body, memory, affordances, walkthrough=walkthrough)
    if name == "llm":
        config = _endpoint(llm, "the llm planner")
        return lambda: LLMPlanner(body, memory, config, affordances)
    raise LociError(f"unknown planner {name!r} (known: {', '.join(PLANNERS)})")


def _endpoint(llm: LLMConfig | None, what: str) -> LLMConfig:
    if llm is None or not llm.base_url or not llm.model:
        raise LociError(
            f"{what} needs an endpoint: set LOCI_LLM_BASE_URL and LOCI_LLM_MODEL "
            "(any OpenAI-compatible server)"
        )
    return llm
