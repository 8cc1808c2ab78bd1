"""``loci run``: one house, a multi-step task, then a second task that needs what the
first one saw — so the user sees memory at work.

The second task is chosen from memory after the first: a thing the agent saw
but did not touch, to be put on a receptacle it also saw. It is run twice from
the same state: with the memory of the first task, and with an empty memory,
and both step counts are reported.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from embodiment.body import RGBDFrame
from loci.episodes import run_in_world
from loci.record import EpisodeRecorder
from loci.report import MapFromDepth, save_depth_map, write_report
from loci.runfolder import save_memory
from memory_core import Layer, Memory
from memory_core.store import MemoryStore
from perception.depth_map import DepthMap
from perception.errors import FrameError
from planners.executive import EpisodeResult
from planners.llm import LLMConfig
from planners.observe import new_memory
from sim import SceneRegistry, Skill, StepResult, World
from sim.episode import make_world
from sim.render import render
from sim.suites.household import StepWriter, write_steps
from sim.tasks import Predicate, Task, load_tasks

__all__ = ["MainJobResult", "run_main_job"]


@dataclass(frozen=True, slots=True)
class MainJobResult:
    first: EpisodeResult
    second: EpisodeResult | None
    """None when memory held nothing a second task could use (task 1 saw nothing)."""
    second_without_memory: EpisodeResult | None
    store: Path
    path_xz: tuple[tuple[float, float], ...]
    report: Path
    map_from_depth: MapFromDepth | None = None
    """With ``depth_map``: the map files the run folder got (None: no frame fused)."""


@dataclass(slots=True)
class _Fusion:
    """The run's depth frames going into a map, as the body returned them after each skill
    (the loop's own sensing; never rendered from the simulator's truth)."""

    depth_map: DepthMap
    wall_s: float = 0.0

    def fuse(self, frame: RGBDFrame) -> None:
        start = time.perf_counter()
        self.depth_map.integrate(frame.depth, frame.intrinsics, frame.world_from_camera)
        self.wall_s += time.perf_counter() - start


def default_first_task(registry: SceneRegistry, scene: str, seed: int) -> Task:
    spec = registry.load(scene)
    rng = random.Random(f"loci-run:{scene}:{seed}")
    steps = write_steps(StepWriter(spec, registry.affordances, rng), 3, 4)
    text = ", then ".join(t for t, _p in steps)
    return Task(
        task_id=f"run/{scene}/1",
        scene=scene,
        instruction=text[0].upper() + text[1:],
        subgoals=tuple((p,) for _t, p in steps),
        ordered=True,
        task_type="household",
    )


def second_task(world: World, memory: Memory, first: Task, registry: SceneRegistry) -> Task | None:
    """A thing seen but not touched in the first task → a receptacle also seen, far apart.
    The destination is named by the simulator's id where memory holds it (gt sensing),
    else by its type (rgbd: memory's ids are its own)."""
    aff = registry.affordances
    used = first.object_types()
    things = [
        n
        for n in memory.graph.nodes(Layer.OBJECT)
        if n.label not in used
        and aff.pickupable(n.label)
        and (n.id not in world.objects or world.objects[n.id].pickupable)
        and not n.label.endswith("Sliced")
    ]
    recs = list(memory.graph.nodes(Layer.RECEPTACLE))
    ax, az = world.agent_xz
    things.sort(key=lambda n: (-math.hypot(n.position[0] - ax, n.position[2] - az), n.id))
    for thing in things:
        support = memory.graph.support_of(thing.id)
        for rec in sorted(recs, key=lambda r: (-math.dist(r.position, thing.position), r.id)):
            if support and support[0] == rec.id:
                continue
            if aff.can_place(thing.label, rec.label) and not aff.openable(rec.label):
                words = f"put the {thing.label} on the {rec.label}"
                return Task(
                    task_id=f"run/{first.scene}/2",
                    scene=first.scene,
                    instruction=words[0].upper() + words[1:],
                    subgoals=(
                        (
                            Predicate(
                                (thing.label,),
                                (rec.id if rec.id in world.objects else rec.label,),
                            ),
                        ),
                    ),
                    task_type="household",
                )
    return None


def run_main_job(
    registry: SceneRegistry,
    scene: str,
    out: Path,
    seed: int,
    use_memory: bool,
    task_file: Path | None,
    say: Callable[[str], None],
    llm: LLMConfig | None = None,
    record: Path | None = None,
    sensing: str = "gt",
    fallback: LLMConfig | None = None,
    depth_map: DepthMap | None = None,
    store: MemoryStore | None = None,
    robot: str = "",
) -> MainJobResult:
    """Run the two tasks; with ``llm`` the LLM planner acts, else the symbolic one (with
    ``fallback``, the LLM planner takes over what the symbolic one gives up on). With
    ``depth_map`` (see :func:`loci.report.new_depth_map`), the depth frames the body returns during
    both tasks are fused into it and the run folder gets map.ply and map.pgm/map.yaml;
    the counterfactual rerun of task 2 with an empty memory is not part of the map. With
    ``store`` (a lifelong or a fleet's memory), the run starts from what it holds and
    commits what it learns after each task, as ``robot`` (the suffix of the ids it mints)."""
    first = load_tasks(task_file)[0] if task_file else default_first_task(registry, scene, seed)
    world = make_world(first, registry)
    memory = new_memory(id_namespace=robot)
    if store is not None:
        memory.load(store)
    path: list[tuple[float, float]] = [world.agent_xz]
    log: list[str] = []

    def tell(line: str) -> None:
        log.append(line)
        say(line)

    recorder = EpisodeRecorder(record) if record is not None else None
    fusion = _Fusion(depth_map) if depth_map is not None else None

    def progress(skill: Skill, result: StepResult) -> None:
        path.append(world.agent_xz)
        if recorder is not None:
            recorder.record(float(len(path)), world, render(world), memory)
        mark = "ok " if result.success else "ERR"
        tell(
            f"  [{len(path) - 1:3d}] {mark} {skill.name:<11} {skill.target or ''}"
            + (f"  ({result.error_message})" if result.error_message else "")
        )

    tell(f"task 1 in {scene}: {first.instruction}")

    def episode(
        w: World, m: Memory, task: Task, on_step: Callable[[Skill, StepResult], None] | None
    ) -> EpisodeResult:
        # The map is of what the run's body saw (its opening looks included), not of the
        # counterfactual rerun with an empty memory.
        tap = fusion.fuse if fusion is not None and on_step is not None else None
        return run_in_world(
            w, m, task, registry, on_step, llm, sensing, fallback=fallback, on_frame=tap
        )

    r1 = episode(world, memory, first, progress)
    if store is not None:
        memory.commit(store)
    tell(
        f"task 1: {'success' if r1.success else 'FAILED ' + r1.error}, {r1.steps} steps, "
        f"{r1.distance_m:.1f} m; memory holds {len(memory.graph)} nodes"
    )
    second = second_task(world, memory, first, registry)
    r2 = baseline = None
    if second is None:
        tell("task 2: not run: memory holds no object that a second task could use")
    else:
        snapshot_world = _clone(world, registry)
        tell(f"task 2: {second.instruction} (needs things seen in task 1)")
        r2 = episode(
            world, memory if use_memory else new_memory(id_namespace=robot), second, progress
        )
        if store is not None and use_memory:
            memory.commit(store)
        tell(
            f"task 2: {'success' if r2.success else 'FAILED ' + r2.error}, {r2.steps} steps; "
            f"found {r2.memory_hits} thing(s) in memory, searched {r2.searches} time(s)"
        )
    if recorder is not None:
        recorder.close()
        tell(f"recorded {recorder.frames} frames to {record}")
        recorder = None
    if use_memory and second is not None:
        baseline = episode(snapshot_world, new_memory(), second, None)
        tell(
            f"task 2 again with an empty memory: {baseline.steps} steps "
            f"({'success' if baseline.success else 'failed'})"
        )
    saved_memory = save_memory(memory, out / "memory.db")
    saved = _save_map(fusion, out, tell) if fusion is not None else None
    lines = [
        ("scene", scene),
        ("task 1", first.instruction),
        (
            "task 1 result",
            f"{'success' if r1.success else 'failed'}; {r1.steps} steps; "
            f"{r1.distance_m:.1f} m; {r1.replans} replans",
        ),
        ("task 2", second.instruction if second is not None else "none (nothing to reuse)"),
        (
            "task 2 result",
            f"{'success' if r2.success else 'failed'}; {r2.steps} steps; "
            f"{r2.memory_hits} found in memory"
            if r2 is not None
            else "not run",
        ),
        (
            "task 2 with empty memory",
            f"{baseline.steps} steps" if baseline is not None else "not run",
        ),
        (
            "memory",
            f"{len(memory.graph)} scene-graph nodes, {len(memory.stm)} short-term "
            f"entries, {len(memory.episodic)} events",
        ),
    ]
    if saved is not None:
        lines.append(("map from depth", saved.describe()))
    focus = [
        n.id
        for t in (first, second)
        if t is not None
        for p in t.predicates
        for ty in p.object_types
        for n in memory.graph.find_by_label(ty)
    ]
    report = write_report(out, world, memory, world.trajectory, focus, lines, log, saved)
    return MainJobResult(r1, r2, baseline, saved_memory, tuple(path), report, saved)


def _save_map(fusion: _Fusion, out: Path, tell: Callable[[str], None]) -> MapFromDepth | None:
    """Write the fused map into the run folder: the TSDF's mesh as map.ply, its occupancy
    grid as map.pgm/map.yaml (nav2's map_server format)."""
    depth_map = fusion.depth_map
    if not depth_map.frames:
        tell("map from depth: no depth frames were sensed; no map written")
        return None
    start = time.perf_counter()
    try:
        saved = save_depth_map(depth_map, out)
    except FrameError as exc:  # frames, but no valid depth in any of them
        tell(f"map from depth: {depth_map.frames} frames held no surface ({exc})")
        return None
    tell(
        f"map from depth: {saved.describe()}; fusing took {fusion.wall_s:.1f} s, "
        f"writing {time.perf_counter() - start:.1f} s"
    )
    return saved


def _clone(world: World, registry: SceneRegistry) -> World:
    twin = World(world.spec, registry.affordances, world.config)
    twin.set_state(world.state())
    twin.steps_taken, twin.distance_m = 0, 0.0
    return twin
