"""Planners by name; every one runs in the executive's loop."""

from __future__ import annotations

import pytest

from memory_core import LociError
from planners.llm import LLMConfig, LLMPlanner
from planners.observe import new_memory
from planners.registry import PLANNERS, planner_factory
from planners.symbolic import SymbolicPlanner
from sim import SceneRegistry
from sim.body import BuiltinBody
from sim.episode import make_world
from sim.tasks import parse_task

TASK = parse_task({"id": "t", "scene": "FloorPlan1", "goal": [{"object": "Apple", "held": True}]})


def test_names_make_planners_and_bad_names_are_clear(registry: SceneRegistry) -> None:
    body, memory = BuiltinBody(make_world(TASK, registry)), new_memory()
    assert PLANNERS == ("symbolic", "llm")
    assert isinstance(
        planner_factory("symbolic", body, memory, registry.affordances)(), SymbolicPlanner
    )
    llm = LLMConfig(base_url="http://127.0.0.1:9/v1", model="m")
    made = planner_factory("llm", body, memory, registry.affordances, llm)()
    assert isinstance(made, LLMPlanner)
    made.close()
    with pytest.raises(LociError, match="needs an endpoint"):
        planner_factory("llm", body, memory, registry.affordances)
    with pytest.raises(LociError, match="unknown planner 'oracle'"):
        planner_factory("oracle", body, memory, registry.affordances)
