"""A real small LLM in the loop: Gemma-3-270M (llama.cpp server on 127.0.0.1) on a small suite.

The suite: the first ``N`` ALFRED ``look_at_obj_in_light`` and ``pick_and_place_simple`` tasks,
each with a 12-skill budget. The model is a 270M base model: expect it to fail; the numbers say
how the plumbing behaves (calls, tokens, invalid answers), not how well LLMs plan. Prints one
line per task and a JSON summary as the last line.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from planners.llm import LLMConfig, LLMPlanner  # noqa: E402
from planners.local_llm import gemma_server  # noqa: E402
from planners.observe import new_memory  # noqa: E402
from sim import SceneRegistry  # noqa: E402
from sim.body import BuiltinBody  # noqa: E402
from sim.episode import make_world  # noqa: E402
from sim.suites import load_suite  # noqa: E402
from sim.tasks import WorldScorer  # noqa: E402

DATA = REPO.parent / "shared" / "data"
N = 6


def main() -> None:
    registry = SceneRegistry(DATA)
    tasks = [
        t
        for t in load_suite("alfred-seen", DATA)
        if t.task_type in ("look_at_obj_in_light", "pick_and_place_simple")
    ][:N]
    rows = []
    with gemma_server() as url:
        for task in tasks:
            world = make_world(task, registry)
            planner = LLMPlanner(
                BuiltinBody(world),
                new_memory(),
                LLMConfig(base_url=url, model="gemma-3-270m", timeout_s=120, max_steps=12),
                registry.affordances,
            )
            t0 = time.perf_counter()
            result = planner.run(task, WorldScorer(task, world))
            rows.append(
                {
                    "task": task.task_id,
                    "success": result.success,
                    "gc": result.goal_conditions,
                    "skills": result.skills,
                    "calls": planner.calls,
                    "tokens": planner.tokens,
                    "invalid": planner.invalid,
                    "rejected": planner.rejected,
                    "wall_s": round(time.perf_counter() - t0, 1),
                }
            )
            print(rows[-1], flush=True)
    summary = {
        "model": "gemma-3-270m-q4_k_m (base)",
        "tasks": len(rows),
        "success_rate": sum(r["success"] for r in rows) / len(rows),
        "gc_rate": sum(r["gc"] for r in rows) / len(rows),
        "llm_calls": sum(r["calls"] for r in rows),
        "llm_tokens": sum(r["tokens"] for r in rows),
        "invalid_answers": sum(r["invalid"] for r in rows),
        "rejected_skills": sum(r["rejected"] for r in rows),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
