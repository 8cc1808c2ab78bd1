"""Run a task suite on the built-in simulator's body, one memory mode; rows and totals.

The loop sees the body and memory only; the simulator's goal checker scores each
episode from outside and audits the critic (``critic_disagreement`` in the totals).

Memory modes: ``none`` (fresh memory for every task), ``ltm`` (the scene graph
carries over within a lifelong sequence, the STM does not), ``stm`` (only the
short-term object states carry over), ``full`` (scene graph, STM and episodes
carry over). Tasks outside sequences always start with a fresh memory. Groups
(a sequence, or one task) run in worker processes.
"""

from __future__ import annotations

import dataclasses
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from functools import cache
from pathlib import Path
from typing import Any

from loci.episodes import run_in_world
from memory_core import LociError, ObjectState, ShortTermMemory
from planners.executive import EpisodeResult
from planners.llm import LLMConfig
from planners.observe import MEMORY_MODES, new_memory
from sim.body import SENSING_MODES
from sim.episode import apply_init, make_world
from sim.registry import SceneRegistry
from sim.tasks import Task, parse_task, task_to_json
from sim.world import World

__all__ = ["reason_class", "run_suite", "totals"]


@cache
def _registry(data: str) -> SceneRegistry:
    return SceneRegistry(Path(data))


def _stm_probe(world: World, memory_stm: ShortTermMemory, task: Task) -> None:
    """Score what the STM remembers about the task's objects against the world."""
    wanted = task.object_types()
    for state in memory_stm.recent():
        if state.label not in wanted:
            continue
        o = world.objects.get(state.object_id)
        truth = None
        if o is not None:
            truth = ObjectState(
                o.object_id, o.object_type, o.center, o.parent_id, None, {}, state.t
            )
        if truth is not None:
            memory_stm.lookup(state.object_id, truth)


def _run_group(
    data: str,
    tasks: list[dict[str, Any]],
    mode: str,
    llm: LLMConfig | None = None,
    sensing: str = "gt",
    navigation: str = "poses",
) -> list[dict[str, Any]]:
    registry = _registry(data)
    rows = []
    world: World | None = None
    for raw in tasks:
        task = parse_task(raw)
        if world is None or not task.sequence or task.sequence_index == 0:
            try:
                world = make_world(task, registry)
            except LociError as exc:
                # One task that cannot be set up (a type its scene lacks) is a failed row;
                # the rest of the suite runs.
                rows.append(_rejected(task, exc))
                world = None
                continue
            memory = new_memory()
        else:
            # Within a sequence only what the mode carries over survives; "full" keeps all.
            try:
                apply_init(world, task)
            except LociError as exc:
                rows.append(_rejected(task, exc))
                continue
            if mode == "none":
                memory = new_memory()
            elif mode == "ltm":
                memory.stm = ShortTermMemory(memory.config.stm)
            elif mode == "stm":
                carried = memory.stm
                memory = new_memory()
                memory.stm = carried
        before = memory.stm.stats
        _stm_probe(world, memory.stm, task)
        after = memory.stm.stats
        result = run_in_world(
            world, memory, task, registry, llm=llm, sensing=sensing, navigation=navigation
        )
        rows.append(_row(task, result, after.lookups - before.lookups, after.hits - before.hits))
    return rows


def _row(task: Task, result: EpisodeResult, stm_lookups: int, stm_hits: int) -> dict[str, Any]:
    """One task's row of the bench JSON."""
    row = dataclasses.asdict(result)
    row.pop("summaries")
    row.update(
        sequence=task.sequence,
        sequence_index=task.sequence_index,
        task_type=task.task_type,
        stm_lookups=stm_lookups,
        stm_hits=stm_hits,
        reason=reason_class(result.error),
    )
    return row


_REASON_CLASSES = (
    ("rejected: ", "rejected"),
    ("cannot find ", "not found"),
    ("cannot pick up ", "pickup failed"),
    ("no reachable position", "unreachable"),
    ("loop guard", "skill keeps failing"),
    ("skill budget", "budget"),
    ("LLM step budget", "budget"),
    ("too many ", "llm answers"),
    ("the LLM said done", "llm answers"),
    ("goal not met", "critic believed done"),
)


def reason_class(error: str) -> str:
    """A failed row's reason, by class: what to count when a suite is compared."""
    if not error:
        return ""
    for prefix, name in _REASON_CLASSES:
        if error.startswith(prefix):
            return name
    if error.endswith(": not achieved"):
        return "not achieved"
    return "skill error"  # the body's own words (AI2-THOR's error messages)


def _rejected(task: Task, exc: Exception) -> dict[str, Any]:
    result = EpisodeResult(
        task_id=task.task_id,
        scene=task.scene,
        success=False,
        goal_conditions=0.0,
        steps=0,
        skills=0,
        distance_m=0.0,
        replans=0,
        failed_skills=0,
        memory_hits=0,
        searches=0,
        wall_s=0.0,
        error=f"rejected: {exc}",
    )
    return _row(task, result, 0, 0)


def _groups(tasks: Sequence[Task]) -> list[list[Task]]:
    groups: dict[str, list[Task]] = {}
    for t in tasks:
        groups.setdefault(t.sequence or t.task_id, []).append(t)
    return [sorted(g, key=lambda t: t.sequence_index) for g in groups.values()]


def run_suite(
    tasks: Sequence[Task],
    data: Path,
    mode: str = "full",
    workers: int = 1,
    progress: Callable[[int, int], None] | None = None,
    llm: LLMConfig | None = None,
    sensing: str = "gt",
    navigation: str = "poses",
) -> dict[str, Any]:
    """Run ``tasks``; with ``llm`` the LLM planner acts instead of the symbolic one;
    ``sensing`` is the built-in body's (``gt`` or ``rgbd``), ``navigation`` its way to
    objects (``sim`` or ``poses``, see :func:`loci.episodes.run_in_world`)."""
    if mode not in MEMORY_MODES:
        raise ValueError(f"memory mode must be one of {MEMORY_MODES}, got {mode!r}")
    if sensing not in SENSING_MODES:
        raise ValueError(f"sensing must be one of {SENSING_MODES}, got {sensing!r}")
    start = time.perf_counter()
    groups = [[task_to_json(t) for t in g] for g in _groups(tasks)]
    rows: list[dict[str, Any]] = []
    done = 0
    if workers <= 1:
        for g in groups:
            rows.extend(_run_group(str(data), g, mode, llm, sensing, navigation))
            done += len(g)
            if progress:
                progress(done, len(tasks))
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = [
                pool.submit(_run_group, str(data), g, mode, llm, sensing, navigation)
                for g in groups
            ]
            for fut in as_completed(futures):
                part = fut.result()
                rows.extend(part)
                done += len(part)
                if progress:
                    progress(done, len(tasks))
    order = {t.task_id: i for i, t in enumerate(tasks)}
    rows.sort(key=lambda r: order[r["task_id"]])
    out = totals(rows, time.perf_counter() - start, mode)
    out["sensing"] = sensing
    out["navigation"] = navigation
    return {"tasks": rows, "totals": out}


def totals(rows: list[dict[str, Any]], wall_s: float, mode: str) -> dict[str, Any]:
    n = len(rows) or 1
    lookups = sum(r["stm_lookups"] for r in rows)
    checks = sum(r["critic_checks"] for r in rows)
    disagreements = sum(r["critic_disagreements"] for r in rows)
    revisits = [r["steps"] for r in rows if r["sequence"] and r["sequence_index"] > 0]
    out: dict[str, Any] = {
        "memory": mode,
        "tasks": len(rows),
        "success_rate": sum(r["success"] for r in rows) / n,
        "gc_rate": sum(r["goal_conditions"] for r in rows) / n,
        "mean_steps": statistics.fmean(r["steps"] for r in rows) if rows else 0.0,
        "mean_distance": statistics.fmean(r["distance_m"] for r in rows) if rows else 0.0,
        "mean_skills": statistics.fmean(r["skills"] for r in rows) if rows else 0.0,
        "llm_calls": sum(r["llm_calls"] for r in rows),
        "llm_tokens": sum(r["llm_tokens"] for r in rows),
        "wall_s": wall_s,
        "stm_hit_rate": sum(r["stm_hits"] for r in rows) / lookups if lookups else 0.0,
        "stm_lookups": lookups,
        "critic_checks": checks,
        "critic_disagreement": disagreements / checks if checks else 0.0,
        "failures": dict(Counter(r["reason"] for r in rows if not r["success"]).most_common()),
    }
    if revisits:
        out["revisit_mean_steps"] = statistics.fmean(revisits)
    return out


def print_progress(done: int, total: int) -> None:
    width = 30
    filled = width * done // max(total, 1)
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
    if done == total:
        sys.stderr.write("\n")
    sys.stderr.flush()
