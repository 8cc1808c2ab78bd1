"""LLM planner against a real chat-completions HTTP server on 127.0.0.1 with a scripted policy."""

from __future__ import annotations

import json
import re
import socket
from typing import Any

import pytest

from planners.llm import LLMConfig, LLMError, LLMPlanner
from planners.observe import new_memory
from sim import SceneRegistry
from sim.body import BuiltinBody
from sim.episode import make_world
from sim.tasks import WorldScorer, parse_task
from tests.planners.chat_server import ChatServer

TASK = parse_task(
    {
        "id": "hold-apple",
        "scene": "FloorPlan1",
        "instruction": "Pick up the apple",
        "goal": [{"object": "Apple", "held": True}],
    }
)


def _targets(prompt: str) -> list[str]:
    line = re.search(r"one of these ids \(a JSON list\): (.*)", prompt)
    return list(json.loads(line.group(1))) if line else []


def good_policy(prompt: str) -> dict[str, Any]:
    """Navigate to the apple, pick it up; look around while it is unknown."""
    apples = [t for t in _targets(prompt) if t.startswith("Apple|")]
    if not apples:
        return {"skill": "look_around", "target": ""}
    if f"navigate({json.dumps(apples[0])}) -> ok" in prompt:
        return {"skill": "pickup", "target": apples[0]}
    return {"skill": "navigate", "target": apples[0]}


def _run(registry: SceneRegistry, script: list[tuple[str, Any]], **cfg: Any):  # type: ignore[no-untyped-def]
    world = make_world(TASK, registry)
    with ChatServer(script, good_policy) as server:
        config = LLMConfig(base_url=server.base_url, model="scripted", timeout_s=1.0, **cfg)
        planner = LLMPlanner(BuiltinBody(world), new_memory(), config, registry.affordances)
        result = planner.run(TASK, WorldScorer(TASK, world))
    return result, planner, server


@pytest.fixture(scope="module")
def registry() -> SceneRegistry:
    from tests.conftest import DATA

    return SceneRegistry(DATA)


def test_scripted_policy_succeeds_and_counts(registry: SceneRegistry) -> None:
    result, planner, server = _run(registry, [])
    assert result.success and result.skills >= 2
    assert planner.calls == len(server.requests) and planner.tokens > 0
    prompt = server.requests[0]["messages"][-1]["content"]
    assert "What the robot remembers" in prompt and "Pick up the apple" in prompt
    # The schema travels with the request so servers can constrain decoding.
    assert server.requests[0]["response_format"]["schema"]["properties"]["skill"]["enum"]


def test_recovers_from_faults(registry: SceneRegistry) -> None:
    script = [
        ("text", "Sure! First I will walk to the apple."),  # not JSON
        ("json", {"skill": "pickup", "target": "Unicorn|1|2|3"}),  # hallucinated object
        ("json", {"skill": "teleport", "target": ""}),  # invalid skill
        ("text", "I'm sorry, I can't help with that."),  # refusal
        ("status", 500),  # server error
        ("sleep", 1.5),  # timeout (client waits 1 s)
    ]
    result, planner, _server = _run(registry, script, max_invalid=10)
    assert result.success
    assert planner.invalid == len(script)
    assert result.failed_skills == 0  # nothing invalid ever reached the world


def test_gives_up_cleanly_within_bounds(registry: SceneRegistry) -> None:
    script = [("text", "no")] * 10
    result, planner, _server = _run(registry, script, max_invalid=4)
    assert not result.success and result.error == "too many invalid LLM answers"
    assert planner.invalid == 4 and result.skills == 0


def test_unreachable_endpoint_is_a_clear_error(registry: SceneRegistry) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    world = make_world(TASK, registry)
    planner = LLMPlanner(
        BuiltinBody(world),
        new_memory(),
        LLMConfig(base_url=f"http://127.0.0.1:{port}/v1", model="m", timeout_s=1),
        registry.affordances,
    )
    with pytest.raises(LLMError, match="unreachable"):
        planner.run(TASK)
    with pytest.raises(LLMError, match="no LLM endpoint"):
        LLMPlanner(BuiltinBody(world), new_memory(), LLMConfig(), registry.affordances)


def test_validation_stops_bad_skills_before_the_world(registry: SceneRegistry) -> None:
    """Well-formed but wrong answers: put with empty hands, into a closed fridge (repaired)."""
    fridge = "Fridge|-02.10|+00.00|+01.07"
    script = [
        ("json", {"skill": "look_around", "target": ""}),
        ("json", {"skill": "put", "target": fridge}),  # holding nothing: rejected
        ("json", {"skill": "heat", "target": fridge}),  # not held: rejected
    ]
    result, planner, _server = _run(registry, script)
    assert result.success
    assert planner.rejected == 2 and result.failed_skills == 0
    assert any('rejected: "not holding anything to put' in h for h in planner.history)


def test_closed_container_is_opened_first() -> None:
    from memory_core import Layer, ObjectObservation
    from planners.validate import validate
    from tests.conftest import DATA

    reg = SceneRegistry(DATA)
    memory = new_memory()
    memory.observe(
        [
            ObjectObservation(
                "Fridge",
                (0, 0.9, 0),
                object_id="F",
                layer=Layer.RECEPTACLE,
                state={"isOpen": False},
            )
        ]
    )
    from embodiment.skills import Skill

    v = validate(Skill("put", "F"), memory, "Egg|1", "Egg", reg.affordances)
    assert v.ok and [s.name for s in v.repair] == ["open"]
    v = validate(Skill("put", "F"), memory, "Book|1", "Book", reg.affordances)
    assert not v.ok and "cannot take" in v.reason
    v = validate(Skill("pickup", "Ghost|1"), memory, None, None, reg.affordances)
    assert not v.ok and "has seen" in v.reason


def test_bench_counts_llm_calls_and_tokens(registry: SceneRegistry) -> None:
    from loci.bench import run_suite

    with ChatServer([], good_policy) as server:
        report = run_suite(
            [TASK],
            registry.data,
            "full",
            1,
            llm=LLMConfig(base_url=server.base_url, model="scripted"),
        )
    totals = report["totals"]
    assert totals["success_rate"] == 1.0
    assert totals["llm_calls"] == len(server.requests) > 0 and totals["llm_tokens"] > 0


def test_skills_that_do_not_serve_the_goal_are_refused(registry: SceneRegistry) -> None:
    """An answer that switches on a coffee machine, or picks up a mug, while the subgoal is
    to hold the apple never reaches the world (issue 17, item 7)."""
    world = make_world(TASK, registry)
    coffee = next(o for o in world.objects if o.startswith("CoffeeMachine|"))
    mug = next(o for o in world.objects if o.startswith("Mug|"))
    script = [
        ("json", {"skill": "look_around", "target": ""}),
        ("json", {"skill": "toggle_on", "target": coffee}),
        ("json", {"skill": "pickup", "target": mug}),
    ]
    result, planner, _server = _run(registry, script)
    assert result.success and planner.rejected == 2
    assert any('switching a "CoffeeMachine" does not serve' in h for h in planner.history)
    assert any('picking up a "Mug" does not serve' in h for h in planner.history)
    assert not any(
        h.startswith(("toggle_on(", 'pickup("Mug')) and "->" in h for h in planner.history
    )


def test_a_failing_call_is_not_made_again_and_again(registry: SceneRegistry) -> None:
    """The same failing skill on the same target: executed twice, then refused (a model
    once made one failing call 40 times in an episode)."""
    world = make_world(TASK, registry)
    apple = next(o for o in world.objects if o.startswith("Apple|"))
    script = [("json", {"skill": "look_around", "target": ""})]
    script += [("json", {"skill": "break", "target": apple})] * 5
    result, planner, _server = _run(registry, script, max_invalid=10)
    assert result.success
    executed = [h for h in planner.history if h.startswith("break(") and "->" in h]
    refused = [h for h in planner.history if h.startswith("break(") and "failed 2 times" in h]
    assert len(executed) == 2 and refused  # the rest of the script is refused


def test_targets_reach_the_prompt_as_a_json_list(registry: SceneRegistry) -> None:
    """An id holding a comma and quotes is one target, exactly, in the prompt's list."""
    from memory_core import ObjectObservation

    world = make_world(TASK, registry)
    memory = new_memory()
    hostile = 'Apple|1, "Toaster|2"'
    memory.observe([ObjectObservation("Apple", (0.0, 0.9, 0.0), object_id=hostile)], t=0.0)
    with ChatServer([("text", "no")], good_policy) as server:
        config = LLMConfig(base_url=server.base_url, model="m", timeout_s=1.0, max_invalid=1)
        planner = LLMPlanner(BuiltinBody(world), memory, config, registry.affordances)
        planner.run(TASK, WorldScorer(TASK, world))
    prompt = server.requests[0]["messages"][-1]["content"]
    assert hostile in _targets(prompt) and "Toaster|2" not in _targets(prompt)
    assert json.dumps(hostile) in prompt.split("What the robot remembers")[1]


def test_a_place_to_go_is_a_target_the_model_may_name(registry: SceneRegistry) -> None:
    """PointNav with an LLM: the point is offered as a target (memory has no id for a
    place) and the critic judges arrival by the body's own pose."""
    probe = make_world(TASK, registry)
    reach = probe.nav.distances_from(probe.agent_xz)
    x, z = probe.nav.xz(max(reach, key=lambda c: reach[c]))
    task = parse_task(
        {
            "id": "go",
            "scene": "FloorPlan1",
            "instruction": "go over there",
            "goal": [{"at": [x, 0.9, z], "near": 0.2}],
        }
    )

    def to_the_point(prompt: str) -> dict[str, Any]:
        points = [t for t in _targets(prompt) if t.startswith("point:")]
        return {"skill": "navigate", "target": points[0]} if points else {"skill": "done"}

    world = make_world(task, registry)
    with ChatServer([], to_the_point) as server:
        config = LLMConfig(base_url=server.base_url, model="scripted", timeout_s=1.0)
        planner = LLMPlanner(BuiltinBody(world), new_memory(), config, registry.affordances)
        result = planner.run(task, WorldScorer(task, world))
    assert result.success, result.summaries
    assert result.skills == 1 and len(server.requests) == 1
    assert abs(world.agent_xz[0] - x) <= 0.2 and abs(world.agent_xz[1] - z) <= 0.2
