"""Spoken instructions → checked goals → the symbolic executive, with a real LLM.

For every task of a suite that has an instruction (``household`` by default): the
instruction is translated (few-shot examples from the same suite, never the task itself),
compared with the suite's goal (exact match after normalisation: per subgoal the set of
object, place, state and count; "table" as one word), and the translated goal is carried
out by the symbolic executive in the task's world, scored on the suite's own goal (so a
wrong translation fails). Baseline in the same process: the step-by-step LLM planner on the
first ``--baseline`` tasks (tokens per task and per success). ``--fallback``: the
step-by-step LLM planner takes over the conditions the symbolic executive gives up on
(its calls and tokens are counted with the translation's). ``--suite alfred-seen``: ALFRED's
own annotators' instructions, examples drawn from the same suite (leave one out);
``--every K`` takes every K-th task (from ``--start``).

The LLM: ``LOCI_LLM_BASE_URL`` / ``LOCI_LLM_MODEL`` (any OpenAI-compatible server), else
the packaged Gemma-3-270M behind llama.cpp on 127.0.0.1 (the ``llm-local`` extra).
Prints one line per task and a JSON summary as the last line.

    .venv/bin/python benchmarks/instruct_bench.py [--suite household] [--limit N]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from embodiment.approach import ApproachNavigation  # noqa: E402
from loci.episodes import run_on_body  # noqa: E402
from planners.instruct import (  # noqa: E402
    GoalTranslator,
    TranslateConfig,
    Vocabulary,
    normalised_goal,
)
from planners.llm import LLMPlanner  # noqa: E402
from planners.llm_client import LLMClient, LLMConfig  # noqa: E402
from planners.local_llm import gemma_server  # noqa: E402
from planners.observe import new_memory  # noqa: E402
from sim import SceneRegistry  # noqa: E402
from sim.body import BuiltinBody  # noqa: E402
from sim.episode import make_world  # noqa: E402
from sim.suites import load_suite  # noqa: E402
from sim.tasks import WorldScorer  # noqa: E402

DATA = REPO.parent / "shared" / "data"


@contextlib.contextmanager
def endpoint() -> Iterator[tuple[str, str]]:
    url, model = os.environ.get("LOCI_LLM_BASE_URL"), os.environ.get("LOCI_LLM_MODEL")
    if url and model:
        yield url, model
        return
    with gemma_server() as local:
        yield local, "gemma-3-270m"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", default="household")
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--baseline", type=int, default=6, help="step-planner tasks")
    parser.add_argument("--whole", action="store_true", help="one call per goal, not clause")
    parser.add_argument("--every", type=int, default=1, help="every K-th task")
    parser.add_argument("--start", type=int, default=0, help="from the N-th task (0-based)")
    parser.add_argument("--fallback", action="store_true", help="LLM planner on give-ups")
    args = parser.parse_args()
    registry = SceneRegistry(DATA)
    aff = registry.affordances
    suite = [t for t in load_suite(args.suite, DATA) if t.instruction]
    tasks = suite[args.start :: max(1, args.every)]
    tasks = tasks[: args.limit] if args.limit else tasks
    rows: list[dict[str, Any]] = []
    base: list[dict[str, Any]] = []
    with endpoint() as (url, model):
        config = LLMConfig(base_url=url, model=model, timeout_s=120, max_tokens=200)
        step_config = LLMConfig(base_url=url, model=model, timeout_s=120, max_steps=12)
        fallback = step_config if args.fallback else None
        with LLMClient(config) as client:
            translator = GoalTranslator(
                client, aff, suite, TranslateConfig(per_clause=not args.whole)
            )
            for task in tasks:
                vocab = Vocabulary.of(
                    {o.object_type for o in registry.load(task.scene).objects}, aff
                )
                t0 = time.perf_counter()
                out = translator.translate(task.instruction, task.scene, vocab, task.task_id)
                row: dict[str, Any] = {
                    "task": task.task_id,
                    "exact": out.task is not None
                    and normalised_goal(out.task) == normalised_goal(task),
                    "translated": out.task is not None,
                    "calls": out.calls,
                    "tokens": out.tokens,
                    "translate_s": round(time.perf_counter() - t0, 2),
                    "success": False,
                    "error": out.error,
                }
                if out.task is not None:
                    # As the suite runs (navigation by poses), scored on the suite's goal.
                    world = make_world(task, registry)
                    builtin = BuiltinBody(world)
                    body = ApproachNavigation(builtin, builtin.reach_m)
                    result = run_on_body(
                        body,
                        new_memory(),
                        out.task,
                        aff,
                        WorldScorer(task, world),
                        fallback=fallback,
                    )
                    row.update(
                        success=result.success,
                        steps=result.steps,
                        error=result.error,
                        calls=row["calls"] + result.llm_calls,
                        tokens=row["tokens"] + result.llm_tokens,
                        fallback_calls=result.llm_calls,
                    )
                rows.append(row)
                print(
                    f"{task.task_id:48} exact={row['exact']!s:5} success={row['success']!s:5} "
                    f"calls={row['calls']} tokens={row['tokens']} {row['error'][:60]}",
                    flush=True,
                )
        for task in tasks[: args.baseline]:
            world = make_world(task, registry)
            planner = LLMPlanner(BuiltinBody(world), new_memory(), step_config, aff)
            result = planner.run(task, WorldScorer(task, world))
            base.append({"task": task.task_id, "success": result.success, "tokens": planner.tokens})
            print(
                f"step-by-step {task.task_id:35} success={result.success} tokens={planner.tokens}",
                flush=True,
            )
    n = len(rows)
    wins = [r for r in rows if r["success"]]
    tokens = sum(r["tokens"] for r in rows)
    base_tokens = sum(b["tokens"] for b in base)
    base_wins = sum(b["success"] for b in base)
    same = rows[: len(base)]
    summary = {
        "suite": args.suite,
        "model": model,
        "mode": "whole goal" if args.whole else "per clause",
        "fallback": "llm" if args.fallback else "none",
        "fallback_tasks": sum(1 for r in rows if r.get("fallback_calls")),
        "tasks": n,
        "exact_match": round(sum(r["exact"] for r in rows) / n, 3) if n else 0.0,
        "translated": round(sum(r["translated"] for r in rows) / n, 3) if n else 0.0,
        "success": round(len(wins) / n, 3) if n else 0.0,
        "calls_per_task": round(sum(r["calls"] for r in rows) / n, 2) if n else 0.0,
        "tokens_per_task": round(tokens / n, 1) if n else 0.0,
        "tokens_per_success": round(tokens / len(wins), 1) if wins else None,
        "translate_s_p50": statistics.median(r["translate_s"] for r in rows) if rows else 0.0,
        "baseline_tasks": len(base),
        "baseline_success": base_wins,
        "baseline_tokens_per_task": round(base_tokens / len(base), 1) if base else None,
        "baseline_tokens_per_success": round(base_tokens / base_wins, 1) if base_wins else None,
        "same_tasks_tokens_ratio": round(sum(r["tokens"] for r in same) / base_tokens, 3)
        if base_tokens
        else None,
        "failures": [
            {"task": r["task"], "exact": r["exact"], "error": r["error"]}
            for r in rows
            if not r["success"]
        ][:20],
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
