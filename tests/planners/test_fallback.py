"""The symbolic planner hands what it gives up on to the LLM planner (a real
chat-completions server on 127.0.0.1 with a scripted policy)."""

from __future__ import annotations

import pytest

from embodiment.tasks import Predicate, Task
from planners.base import Plan, PlanFailedError
from planners.executive import Executive
from planners.fallback import FallbackPlanner
from planners.llm import LLMConfig, LLMPlanner
from planners.observe import new_memory
from planners.referents import Referents
from planners.registry import FALLBACKS, planner_factory
from planners.symbolic import SymbolicPlanner
from sim import SceneRegistry
from sim.body import BuiltinBody
from sim.episode import make_world
from sim.tasks import WorldScorer, parse_task
from tests.planners.chat_server import ChatServer
from tests.planners.test_llm import good_policy

TASK = parse_task(
    {
        "id": "hold-apple",
        "scene": "FloorPlan1",
        "instruction": "Pick up the apple",
        "goal": [{"object": "Apple", "held": True}],
    }
)


class _GivesUp:
    """A first planner that gives up at once, the way the symbolic one does when its rules
    run out (the symbolic planner succeeds on this task, so it cannot show a hand-over)."""

    def __init__(self, referents: Referents) -> None:
        self.referents = referents
        self.asked = 0

    memory_hits = searches = calls = tokens = 0

    def program(self, pred: Predicate, task: Task) -> Plan:
        self.asked += 1
        raise PlanFailedError("no rule for this")
        yield  # a generator, as every program is

    def close(self) -> None:
        pass


@pytest.fixture(scope="module")
def registry() -> SceneRegistry:
    from tests.conftest import DATA

    return SceneRegistry(DATA)


def test_what_the_first_planner_gives_up_on_the_llm_does(registry: SceneRegistry) -> None:
    world = make_world(TASK, registry)
    body, memory = BuiltinBody(world), new_memory()
    aff = registry.affordances
    with ChatServer([], good_policy) as server:
        config = LLMConfig(base_url=server.base_url, model="scripted", timeout_s=2.0)
        first = _GivesUp(Referents.with_type_facts(memory, aff))
        planner = FallbackPlanner(first, LLMPlanner(body, memory, config, aff))
        result = Executive(body, memory, aff, planner=lambda: planner).run(
            TASK, WorldScorer(TASK, world)
        )
    assert result.success and first.asked == 1
    assert planner.handed_over == ["Apple, held"]
    assert result.llm_calls == len(server.requests) > 0 and result.llm_tokens > 0
    assert planner.then.referents is first.referents  # one set of bindings


def test_a_planner_that_succeeds_keeps_its_predicates(registry: SceneRegistry) -> None:
    """The symbolic planner does this task: the LLM is never asked (an endpoint that
    refuses every connection would fail the run if it were)."""
    world = make_world(TASK, registry)
    body, memory = BuiltinBody(world), new_memory()
    dead = LLMConfig(base_url="http://127.0.0.1:9/v1", model="m", timeout_s=0.5)
    make = planner_factory("symbolic", body, memory, registry.affordances, fallback=dead)
    planner = make()
    assert isinstance(planner, FallbackPlanner) and isinstance(planner.first, SymbolicPlanner)
    result = Executive(body, memory, registry.affordances, planner=lambda: planner).run(
        TASK, WorldScorer(TASK, world)
    )
    assert result.success and result.llm_calls == 0 and planner.handed_over == []


def test_failed_attempts_hand_over_too(registry: SceneRegistry) -> None:
    """After ``first_attempts`` programs for one predicate (each asked again because the
    last failed), the next goes to the second planner."""
    world = make_world(TASK, registry)
    body, memory = BuiltinBody(world), new_memory()
    aff = registry.affordances
    first = SymbolicPlanner(body, memory, aff)
    second = _GivesUp(first.referents)
    planner = FallbackPlanner(first, second, first_attempts=1)
    pred = TASK.predicates[0]
    next(planner.program(pred, TASK))  # the first planner's first skill
    with pytest.raises(PlanFailedError, match="no rule"):
        next(planner.program(pred, TASK))
    assert second.asked == 1 and planner.handed_over == ["Apple, held"]
    assert FALLBACKS == ("none", "llm")
