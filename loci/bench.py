"""Run a task suite on a body (the built-in simulator's, or AI2-THOR's Controller), one
memory mode; rows and totals.

The loop sees the body and memory only; the simulator's goal checker scores each
episode from outside and audits the critic (``critic_disagreement`` in the totals).

Memory modes: ``none`` (fresh memory for every task), ``ltm`` (the scene graph
carries over within a lifelong sequence, the STM does not), ``stm`` (only the
short-term object states carry over), ``full`` (scene graph, STM and episodes
carry over). Tasks outside sequences always start with a fresh memory. Groups
(a sequence, or one task) run in worker processes or as Ray tasks (``loci.cluster``).
"""

from __future__ import annotations

import dataclasses
import logging
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from loci.episodes import run_in_world
from loci.instructions import with_goal
from memory_core import LociError, Memory, ObjectState, ShortTermMemory
from planners.executive import EpisodeResult
from planners.instruct import Translation
from planners.llm import LLMConfig
from planners.observe import MEMORY_MODES, new_memory
from sim.body import SENSING_MODES
from sim.episode import apply_init, make_world
from sim.registry import SceneRegistry
from sim.tasks import Task, parse_task, task_to_json
from sim.world import World

if TYPE_CHECKING:
    from loci.cluster import RayCluster

__all__ = ["reason_class", "run_suite", "totals"]

log = logging.getLogger(__name__)


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


def _carried(memory: Memory, mode: str) -> Memory:
    """Within a sequence only what the mode carries over survives; "full" keeps all."""
    if mode == "none":
        return new_memory()
    if mode == "ltm":
        memory.stm = ShortTermMemory(memory.config.stm)
    elif mode == "stm":
        carried = memory.stm
        memory = new_memory()
        memory.stm = carried
    return memory


def _run_group(
    data: str,
    tasks: list[dict[str, Any]],
    mode: str,
    llm: LLMConfig | None = None,
    sensing: str = "gt",
    navigation: str = "poses",
    body: str = "builtin",
    thor_executable: str | None = None,
    fallback: LLMConfig | None = None,
    habitat_scenes: str | None = None,
) -> list[dict[str, Any]]:
    if body == "ai2thor":
        return _run_thor_group(data, tasks, mode, llm, sensing, thor_executable, fallback)
    if body == "habitat":
        return _run_habitat_group(data, tasks, mode, habitat_scenes)
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
            try:
                apply_init(world, task)
            except LociError as exc:
                rows.append(_rejected(task, exc))
                continue
            memory = _carried(memory, mode)
        try:
            # Translated with what this task's memory holds (a sequence's carried memory).
            task, translation = with_goal(task, registry, memory=memory)
        except LociError as exc:
            rows.append(_rejected(task, exc))
            continue
        before = memory.stm.stats
        _stm_probe(world, memory.stm, task)
        after = memory.stm.stats
        result = run_in_world(
            world,
            memory,
            task,
            registry,
            llm=llm,
            sensing=sensing,
            navigation=navigation,
            fallback=fallback,
        )
        result = _counted(result, translation)
        rows.append(_row(task, result, after.lookups - before.lookups, after.hits - before.hits))
    return rows


def _run_habitat_group(
    data: str, tasks: list[dict[str, Any]], mode: str, scenes: str | None
) -> list[dict[str, Any]]:
    """A group on habitat-sim (``--body habitat``): each task on its own scene, sensing
    rendered RGB-D + semantic frames; a task whose scene or objects cannot be set up is a
    failed row with the reason."""
    from hsim.errors import HabitatDataError
    from hsim.run import run_on_habitat

    if scenes is None:
        raise LociError("--body habitat needs --habitat-scenes (the directory scene paths are in)")
    registry = _registry(data)
    rows = []
    memory = new_memory(up_axis="y")
    for raw in tasks:
        task = parse_task(raw)
        fresh = not (task.sequence and task.sequence_index > 0)
        memory = new_memory(up_axis="y") if fresh else _carried(memory, mode)
        try:
            result = run_on_habitat(task, memory, registry.affordances, Path(scenes))
        except HabitatDataError as exc:
            rows.append(_rejected(task, exc))
            continue
        rows.append(_row(task, result, 0, 0))
    return rows


_CONTROLLERS: dict[tuple[str, str | None], Any] = {}
"""This process's AI2-THOR Controller per (sensing, executable): started once, replaced
when its backend dies."""


def _controller(scene: str, sensing: str, executable: str | None) -> Any:
    from thor.setup import start_controller

    key = (sensing, executable)
    if key not in _CONTROLLERS:
        _CONTROLLERS[key] = start_controller(scene, sensing, executable)
    return _CONTROLLERS[key]


def _drop_controller(sensing: str, executable: str | None) -> None:
    controller = _CONTROLLERS.pop((sensing, executable), None)
    if controller is not None:
        from thor.setup import stop_controller

        stop_controller(controller)


def _run_thor_group(
    data: str,
    tasks: list[dict[str, Any]],
    mode: str,
    llm: LLMConfig | None,
    sensing: str,
    executable: str | None,
    fallback: LLMConfig | None = None,
) -> list[dict[str, Any]]:
    """A group on AI2-THOR's Controller (``--body ai2thor``). A backend that dies fails the
    episode it was in, with the reason; the next episode starts a new one."""
    from loci.episodes import run_on_thor

    registry = _registry(data)
    rows = []
    memory = new_memory()
    carry = False
    for raw in tasks:
        task = parse_task(raw)
        fresh = not (carry and task.sequence and task.sequence_index > 0)
        memory = new_memory() if fresh else _carried(memory, mode)
        try:
            task, translation = with_goal(task, registry, memory=memory)
        except LociError as exc:
            rows.append(_rejected(task, exc))
            continue
        try:
            controller = _controller(task.scene, sensing, executable)
            result, thor_body = run_on_thor(
                controller, memory, task, registry, fresh, sensing, llm=llm, fallback=fallback
            )
        except LociError as exc:
            rows.append(_rejected(task, exc))
            _drop_controller(sensing, executable)
            carry = False
            continue
        if thor_body.fault is not None:
            _drop_controller(sensing, executable)
        carry = thor_body.fault is None
        rows.append(_row(task, _counted(result, translation), 0, 0))
    return rows


def _counted(result: EpisodeResult, translation: Translation | None) -> EpisodeResult:
    """The episode's LLM use with its goal's translation (a task given in words)."""
    if translation is None:
        return result
    return dataclasses.replace(
        result,
        llm_calls=result.llm_calls + translation.calls,
        llm_tokens=result.llm_tokens + translation.tokens,
    )


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
    ("cannot reach ", "unreachable"),
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


def _in_processes(workers: int, calls: Sequence[tuple[Any, ...]]) -> Iterator[list[dict[str, Any]]]:
    """``_run_group(*call)`` for every call in ``workers`` processes, as they finish."""
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(_run_group, *call) for call in calls]
        for fut in as_completed(futures):
            yield fut.result()


def run_suite(
    tasks: Sequence[Task],
    data: Path,
    mode: str = "full",
    workers: int = 1,
    progress: Callable[[int, int], None] | None = None,
    llm: LLMConfig | None = None,
    sensing: str = "gt",
    navigation: str = "poses",
    body: str = "builtin",
    thor_executable: str | None = None,
    fallback: LLMConfig | None = None,
    cluster: RayCluster | None = None,
    habitat_scenes: str | None = None,
) -> dict[str, Any]:
    """Run ``tasks``; with ``llm`` the LLM planner acts instead of the symbolic one (with
    ``fallback``, only on the predicates the symbolic planner gives up on);
    ``sensing`` is the body's (``gt`` or ``rgbd``), ``navigation`` the built-in body's way
    to objects (``sim`` or ``poses``, see :func:`loci.episodes.run_in_world`). ``body``:
    ``builtin``, or ``ai2thor`` (AI2-THOR's Controller on ``thor_executable``, a command
    line such as ``loci thor-backend``; None: ai2thor's own Unity build). Groups (a
    lifelong sequence whole, or one task) run in this process, in ``workers`` processes,
    or as Ray tasks on ``cluster`` (``loci bench --cluster``): the same function on the
    same arguments, so the rows are the same whichever way."""
    if mode not in MEMORY_MODES:
        raise ValueError(f"memory mode must be one of {MEMORY_MODES}, got {mode!r}")
    if sensing not in SENSING_MODES:
        raise ValueError(f"sensing must be one of {SENSING_MODES}, got {sensing!r}")
    if body not in ("builtin", "ai2thor", "habitat"):
        raise ValueError(f"body must be builtin, ai2thor or habitat, got {body!r}")
    if body == "habitat" and (llm is not None or fallback is not None or sensing != "rgbd"):
        # Not written yet: the LLM planner on habitat-sim; ground-truth sensing there.
        raise ValueError("the habitat body runs the symbolic planner with --sensing rgbd only")
    if body == "ai2thor" and navigation != "poses":
        raise ValueError("the ai2thor body navigates by poses only")
    start = time.perf_counter()
    calls = [
        (
            str(data),
            [task_to_json(t) for t in g],
            mode,
            llm,
            sensing,
            navigation,
            body,
            thor_executable,
            fallback,
            habitat_scenes,
        )
        for g in _groups(tasks)
    ]
    parts: Iterable[list[dict[str, Any]]]
    if cluster is not None:
        parts = cluster.map_unordered(_run_group, calls)
    elif workers <= 1:
        parts = (_run_group(*call) for call in calls)
    else:
        parts = _in_processes(workers, calls)
    rows: list[dict[str, Any]] = []
    for part in parts:
        rows.extend(part)
        if progress:
            progress(len(rows), len(tasks))
    order = {t.task_id: i for i, t in enumerate(tasks)}
    rows.sort(key=lambda r: order[r["task_id"]])
    out = totals(rows, time.perf_counter() - start, mode)
    out["sensing"] = sensing
    out["navigation"] = navigation
    out["body"] = body
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
