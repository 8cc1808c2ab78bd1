"""``loci`` command line."""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from loci.demo import run_demo
from loci.paths import data_root
from loci.runfolder import claim_run_folder
from memory_core import LociError, MemoryConfig, load_config
from planners.registry import PLANNERS

if TYPE_CHECKING:
    from memory_core.store import MemoryStore
    from planners.llm import LLMConfig

__all__ = ["main"]

_log = logging.getLogger(__name__)

DEFAULT_SCENE = "procthor/houses_20/house_12"


def _say(line: str) -> None:
    print(line, flush=True)  # noqa: T201 - the CLI talks to its user


def _cmd_run(args: argparse.Namespace) -> int:
    from loci.main_job import run_main_job
    from loci.report import new_depth_map
    from sim import SceneRegistry
    from sim.body import BuiltinBody
    from sim.tasks import load_tasks

    llm = None
    if args.instruction is not None and (args.tasks or args.ros):
        raise LociError("--instruction replaces task 1: not with --tasks or --ros")
    if args.store and args.ros:
        raise LociError("--store is for the in-process run: with --ros the memory node's store")
    if args.map and args.ros:
        raise LociError("--map fuses the depth frames of a run in this process: not with --ros")
    if args.map and args.sensing != "rgbd":
        raise LociError("--map fuses the body's depth frames: add --sensing rgbd")
    # Before anything runs: without open3d the run would end without its map.
    depth_map = new_depth_map(args.map_voxel, BuiltinBody.up_axis) if args.map else None
    if args.instruction is None and (
        args.planner == "llm" or (args.planner == "auto" and os.environ.get("LOCI_LLM_BASE_URL"))
    ):
        llm = _endpoint("--planner llm")
    tasks = Path(args.tasks) if args.tasks else None
    # Read once; a bad task file is a clear error before anything runs.
    first = load_tasks(tasks)[0] if tasks is not None else None
    words = args.instruction is not None or (first is not None and first.needs_goal)
    fallback = None
    if llm is None and args.fallback == "llm":
        fallback = _endpoint("--fallback llm")
    elif llm is None and args.fallback == "auto" and words:
        # A task given in words has an LLM configured for its translation anyway (without
        # one, the translation says what is missing).
        fallback = _endpoint(None)
    registry = SceneRegistry(_data(args))
    registry.load(args.scene)  # unknown scene: a clear error before anything runs
    _suite_body(args.body)
    if args.ros and (
        llm is not None or fallback is not None or args.tasks or args.record or args.memory != "on"
    ):
        raise LociError("--ros runs the default episode with the symbolic planner only")
    record = Path(args.record) if args.record else None
    if record is not None and (record.exists() or record.is_symlink()):
        raise LociError(f"--record {record} exists; choose a new path or remove it")
    # Claimed before anything runs: a user's earlier run is never overwritten.
    out = claim_run_folder(Path(args.out) if args.out else None)
    if args.instruction is not None:
        from embodiment.tasks import Task

        tasks = _translated(registry, Task("instruction", args.scene, args.instruction, ()), out)
    elif first is not None and first.needs_goal:
        tasks = _translated(registry, first, out)
    if args.ros:
        from loci.ros_run import run_through_ros

        ros = run_through_ros(registry, args.scene, out, args.seed, _say, args.sensing)
        _say(f"memory (the memory node's store): {ros.store}")
        return 0 if ros.first_success and ros.second_success else 1
    store = _open_store(args.store, args.robot) if args.store else None
    try:
        result = run_main_job(
            registry,
            args.scene,
            out,
            args.seed,
            args.memory == "on",
            tasks,
            _say,
            llm,
            record,
            args.sensing,
            fallback,
            depth_map,
            store,
            args.robot if args.store else "",
        )
    finally:
        if store is not None:
            store.close()
    _say(f"report: {result.report}  memory: {result.store}")
    if result.map_from_depth is not None:
        _say(f"map from depth: {result.map_from_depth.ply}  {result.map_from_depth.yaml}")
    second_ok = result.second is not None and result.second.success
    return 0 if result.first.success and second_ok else 1


def _endpoint(flag: str | None) -> LLMConfig | None:
    """The LLM endpoint in the environment; without one, None, or a clear error naming
    ``flag`` (the option that needs it)."""
    from planners.llm import LLMConfig

    config = LLMConfig.from_env()
    if not config.base_url or not config.model:
        if flag is None:
            return None
        raise LociError(
            f"{flag} needs an endpoint: set LOCI_LLM_BASE_URL and LOCI_LLM_MODEL "
            "(any OpenAI-compatible server)"
        )
    return config


def _translated(registry: Any, words: Any, out: Path) -> Path:
    """Task 1 from a spoken instruction (a task with only its words): the LLM at
    ``LOCI_LLM_BASE_URL`` writes the goal (checked), the symbolic executive carries it out.
    The goal is kept in the run folder."""
    from embodiment.tasks import task_to_json
    from loci.instructions import with_goal

    task, translation = with_goal(words, registry)
    path = out / "instruction_task.jsonl"
    path.write_text(json.dumps(task_to_json(task)) + "\n", encoding="utf-8")
    goal = " THEN ".join(", ".join(p.describe() for p in sg) for sg in task.subgoals)
    calls = translation.calls if translation else 0
    tokens = translation.tokens if translation else 0
    _say(f"goal ({calls} LLM call(s), {tokens} tokens): {goal}")
    return path


def _cmd_memory_demo(args: argparse.Namespace) -> int:
    data = _data(args)
    house = Path(args.house) if args.house else data / "procthor_houses/houses_20/house_0.json"
    if not house.is_file():
        raise LociError(f"house file {house} not found")
    config = load_config(args.config) if args.config else MemoryConfig()
    out = claim_run_folder(Path(args.out) if args.out else None)
    _say("loci: memory demo on a real ProcTHOR house")
    result = run_demo(house, data, out, config, _say)
    return 0 if result.reload_identical else 1


def _data(args: argparse.Namespace) -> Path:
    data = Path(args.data_dir) if getattr(args, "data_dir", None) else data_root()
    if not data.is_dir():
        raise LociError(f"data folder {data} not found (set --data-dir or LOCI_DATA_DIR)")
    return data


def _cmd_scenes(args: argparse.Namespace) -> int:
    from sim import SceneRegistry

    registry = SceneRegistry(_data(args))
    rows: list[dict[str, Any]] = []
    for name in registry.names():
        spec = registry.load(name)
        rows.append(
            {
                "scene": name,
                "kind": spec.kind,
                "rooms": len(spec.rooms),
                "room_types": sorted({r.room_type for r in spec.rooms}),
                "objects": len(spec.objects),
                "inferred": spec.n_inferred,
                "reachable_cells": len(spec.reachable),
            }
        )
    if args.json:
        _say(json.dumps(rows, indent=1))
        return 0
    _say(f"{'scene':<34} {'kind':<8} {'rooms':>5} {'objects':>7} {'inferred':>8}  room types")
    for r in rows:
        _say(
            f"{r['scene']:<34} {r['kind']:<8} {r['rooms']:>5} {r['objects']:>7} "
            f"{r['inferred']:>8}  {', '.join(r['room_types'])}"
        )
    total_inf = sum(int(r["inferred"]) for r in rows)
    _say(
        f"{len(rows)} scenes, {sum(int(r['objects']) for r in rows)} objects, "
        f"{total_inf} placed by the documented inference rule (sim/loaders/ithor.py)"
    )
    return 0


def _cmd_tasks(args: argparse.Namespace) -> int:
    from sim.suites import load_suite
    from sim.tasks import load_tasks, task_to_json

    tasks = load_tasks(args.tasks) if args.tasks else load_suite(args.suite, _data(args))
    if args.json:
        for t in tasks:
            _say(json.dumps(task_to_json(t)))
        return 0
    for t in tasks:
        goal = " THEN ".join("; ".join(p.describe() for p in sg) for sg in t.subgoals)
        _say(f"{t.task_id:<44} {t.scene:<14} {t.task_type:<34} {goal}")
    _say(f"{len(tasks)} tasks")
    return 0


def _suite_body(name: str, allowed: tuple[str, ...] = ("builtin",)) -> None:
    """Suites run on simulator scenes: the built-in body, or (bench) AI2-THOR's Controller."""
    from embodiment import body_factory

    body_factory(name)  # an unknown name is a clear error naming the known ones
    if name not in allowed:
        raise LociError(f"--body {name} cannot run here (use {' or '.join(allowed)})")


def _thor_executable(args: argparse.Namespace) -> str | None:
    """The AI2-THOR backend for --body ai2thor: ``loci thor-backend`` by default, a local
    Unity build's path, or ``download`` for ai2thor's own build."""
    from thor.setup import backend_command

    chosen = args.thor_executable
    if chosen is None:
        return backend_command(_data(args))
    return None if chosen == "download" else str(chosen)


def _cmd_bench(args: argparse.Namespace) -> int:
    from loci.bench import print_progress, run_suite
    from loci.cluster import cluster_for
    from sim.body import SENSING_MODES
    from sim.suites import load_suite
    from sim.tasks import load_tasks

    data = _data(args)
    tasks = load_tasks(args.tasks) if args.tasks else load_suite(args.suite, data)
    if args.limit:
        tasks = tasks[: args.limit]
    modes = [m.strip() for m in args.memory.split(",")]
    for m in modes:
        if m not in ("none", "ltm", "stm", "full"):
            raise LociError(f"--memory takes none, ltm, stm, full (comma-separated), not {m!r}")
    sensings = [x.strip() for x in args.sensing.split(",")]
    for x in sensings:
        if x not in SENSING_MODES:
            raise LociError(
                f"--sensing takes {', '.join(SENSING_MODES)} (comma-separated), not {x!r}"
            )
    _suite_body(args.body, ("builtin", "ai2thor", "habitat"))
    if args.body == "habitat":
        if args.habitat_scenes is None or not Path(args.habitat_scenes).is_dir():
            raise LociError("--body habitat needs --habitat-scenes DIR (where the scenes are)")
        if not args.tasks:
            raise LociError("--body habitat runs a task file (--tasks) on Habitat scenes")
        if args.planner != "symbolic" or args.fallback != "none" or args.sensing != "rgbd":
            raise LociError("--body habitat runs the symbolic planner with --sensing rgbd only")
        from hsim.body import habitat_sim_module

        habitat_sim_module()  # not installed: say so before anything runs
    executable = _thor_executable(args) if args.body == "ai2thor" else None
    llm = _endpoint("--planner llm") if args.planner == "llm" else None
    fallback = None
    if args.fallback == "llm":
        if llm is not None:
            raise LociError("--fallback llm is for the symbolic planner (--planner symbolic)")
        fallback = _endpoint("--fallback llm")
    if args.cluster and args.body != "builtin":
        # Not tried: an AI2-THOR Controller (and its backend process) per Ray worker, and
        # that the backends end when the cluster shuts its workers down.
        raise LociError("--cluster runs the builtin body only (use --workers for ai2thor)")
    progress = None if args.quiet else print_progress
    with cluster_for(args.cluster, args.workers) as cluster:  # one for every run below
        reports = {
            (m if len(sensings) == 1 else f"{m}/{x}"): run_suite(
                tasks,
                data,
                m,
                args.workers or 1,
                progress,
                llm,
                x,
                args.navigation,
                args.body,
                executable,
                fallback,
                cluster,
                args.habitat_scenes,
            )
            for m in modes
            for x in sensings
        }
    _say(
        f"{'suite':<14} {'memory':<6} {'sense':<5} {'tasks':>5} {'success':>8} {'GC':>6} "
        f"{'steps':>7} {'dist m':>7} {'revisit steps':>13} {'STM hit':>7} {'critic≠':>7} "
        f"{'LLM calls':>9} {'wall s':>7}"
    )
    for report in reports.values():
        t = report["totals"]
        revisit = f"{t['revisit_mean_steps']:.1f}" if "revisit_mean_steps" in t else "-"
        _say(
            f"{args.suite or Path(args.tasks).name:<14} {t['memory']:<6} {t['sensing']:<5} "
            f"{t['tasks']:>5} {t['success_rate']:>8.1%} {t['gc_rate']:>6.1%} "
            f"{t['mean_steps']:>7.1f} {t['mean_distance']:>7.1f} {revisit:>13} "
            f"{t['stm_hit_rate']:>7.1%} {t['critic_disagreement']:>7.1%} "
            f"{t['llm_calls']:>9} {t['wall_s']:>7.1f}"
        )
    if (
        len(sensings) == 1
        and len(reports) > 1
        and all("revisit_mean_steps" in r["totals"] for r in reports.values())
    ):
        base = reports[modes[-1]]["totals"]["revisit_mean_steps"]
        for m in modes[:-1]:
            ratio = base / reports[m]["totals"]["revisit_mean_steps"]
            _say(f"revisit steps, {modes[-1]} / {m}: {ratio:.2f}x")
    if args.json:
        out = next(iter(reports.values())) if len(reports) == 1 else {"runs": reports}
        Path(args.json).write_text(json.dumps(out, indent=1), encoding="utf-8")
        _say(f"wrote {args.json}")
    return 0


def _open_store(url: str, robot: str) -> MemoryStore:
    """The store ``--store`` names, or a clear error (a server that does not answer, a
    file that is not a Loci store)."""
    from memory_core.store import open_store

    _log.info("opening the memory store %s as %s", url, robot)
    return open_store(url, robot)


def _cmd_replay(args: argparse.Namespace) -> int:
    from memory_core import UNKNOWN_LABEL, Memory, MemoryConfig, SceneGraphConfig
    from memory_core.store import is_fleet_store
    from perception.replay import ReplayConfig, replay_bag
    from perception.segment import SegmenterConfig

    config = ReplayConfig(
        pose_topic=args.pose_topic,
        observations_topic=args.observations_topic,
        depth_topic=args.depth_topic,
        camera_info_topic=args.camera_info_topic,
        masks_topic=args.masks_topic,
        fixed_frame=args.fixed_frame,
        base_frame=args.base_frame,
        depth_scale=args.depth_scale,
        segmenter=SegmenterConfig(up_axis=args.up_axis) if args.segment else None,
    )
    # ROS bags are in ROS frames: z is up unless told (a loaded store keeps the axis it
    # was saved with).
    fleet = bool(args.memory) and is_fleet_store(args.memory)
    graph = SceneGraphConfig(up_axis=args.up_axis, id_namespace=args.robot if fleet else "")
    memory = Memory(MemoryConfig(scene_graph=graph))
    if args.map and not args.report:
        raise LociError("--map writes the map into the report folder: give --report DIR too")
    depth_map = None
    if args.map:
        from loci.report import new_depth_map

        depth_map = new_depth_map(args.map_voxel, args.up_axis)
    store = _open_store(args.memory, args.robot) if args.memory else None
    try:
        if store is not None:
            memory.load(store)
        summary = replay_bag(args.bag, memory, config, depth_map)
        if summary.salvage is not None:
            _say(f"salvaged: {summary.salvage.describe()}")
        for topic, (kind, n) in sorted(summary.topics.items()):
            _say(f"  {topic:<24} {kind:<46} {n:6d}")
        if summary.observation_messages:
            _say(
                f"observations: {summary.observations} in {summary.observation_messages} "
                f"messages fused into the scene graph"
            )
        frames, ft = summary.frames, summary.frame_topics
        if ft is not None:
            skipped = ", ".join(f"{n} {reason}" for reason, n in frames.skipped) or "none"
            _say(
                f"frames from {ft.depth} (camera_info {ft.camera_info or '-'}, masks "
                f"{ft.masks or '-'}): {frames.depth_frames}, perceived {frames.perceived} "
                f"({frames.observations} observations), skipped: {skipped}"
            )
            if frames.segmented:
                _say(
                    f"no instance masks: {frames.segmented} frames segmented by geometry "
                    f"(colour from {ft.colour or '-'}); "
                    f"{len(memory.graph.find_by_label(UNKNOWN_LABEL))} unknown things in memory"
                )
        if depth_map is not None:
            _say(f"map from depth: {frames.fused} of {frames.depth_frames} depth frames fused")
        _say(f"scene graph: {len(memory.graph)} nodes")
        if summary.pose_topic:
            _say(
                f"poses from {summary.pose_topic}: {summary.poses} ({summary.from_tf} resolved "
                f"through TF, {summary.tf_gaps} TF gaps); {summary.tf_frames} TF frames"
            )
        if store is not None:
            memory.commit(store)
            _say(f"{args.memory}: {len(memory.episodic)} events, {len(memory.graph)} nodes")
    finally:
        if store is not None:
            store.close()
    if args.report:
        out = Path(args.report)
        out.mkdir(parents=True, exist_ok=True)
        (out / "summary.json").write_text(
            json.dumps(
                {
                    "bag": summary.bag,
                    "pose_topic": summary.pose_topic,
                    "poses": summary.poses,
                    "from_tf": summary.from_tf,
                    "tf_gaps": summary.tf_gaps,
                    "tf_frames": summary.tf_frames,
                    "episode": summary.episode_id,
                    "observation_messages": summary.observation_messages,
                    "observations": summary.observations,
                    "frame_topics": dataclasses.asdict(ft) if ft else None,
                    "frames": {
                        "depth_frames": frames.depth_frames,
                        "perceived": frames.perceived,
                        "observations": frames.observations,
                        "skipped": dict(frames.skipped),
                        "segmented": frames.segmented,
                    },
                    "scene_graph_nodes": len(memory.graph),
                    "map_frames_fused": frames.fused if depth_map is not None else None,
                    "topics": {k: list(v) for k, v in summary.topics.items()},
                    "salvage": dataclasses.asdict(summary.salvage) if summary.salvage else None,
                },
                indent=1,
                default=str,
            )
        )
        _say(f"wrote {out / 'summary.json'}")
        if depth_map is not None and frames.fused:
            from loci.report import save_depth_map

            saved = save_depth_map(depth_map, out)
            _say(f"wrote {saved.ply} and {saved.yaml}: {saved.describe()}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="loci", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="log at DEBUG level")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="the main job: two tasks in one house, memory at work")
    run.add_argument("--scene", default=DEFAULT_SCENE, help=f"scene (default {DEFAULT_SCENE})")
    run.add_argument("--tasks", help="task file: its first task replaces the default task 1")
    run.add_argument(
        "--instruction",
        help="task 1 in words: the LLM at LOCI_LLM_BASE_URL writes its goal, checked, and "
        "the symbolic executive carries it out",
    )
    run.add_argument(
        "--ros",
        action="store_true",
        help="run through the ROS 2 nodes (needs `source ros_ws/env.sh`; make run ROS=1)",
    )
    run.add_argument(
        "--planner",
        default="auto",
        choices=["auto", "symbolic", "llm"],
        help="auto: the LLM planner when LOCI_LLM_BASE_URL is set, else symbolic",
    )
    run.add_argument(
        "--memory",
        default="on",
        choices=["on", "off"],
        help="off: task 2 starts with an empty memory",
    )
    run.add_argument(
        "--sensing",
        default="gt",
        choices=["gt", "rgbd"],
        help="gt: the simulator's visible objects; rgbd: rendered depth + masks via perception",
    )
    run.add_argument(
        "--fallback",
        default="auto",
        choices=["auto", "none", "llm"],
        help="llm: the LLM planner takes over the goal's conditions the symbolic planner "
        "gives up on; auto: so when the task is given in words (default)",
    )
    run.add_argument("--body", default="builtin", help="the body to act with (builtin)")
    run.add_argument("--seed", type=int, default=0, help="seed of the default task 1")
    run.add_argument("--record", help="write the episode as a ROS 2 MCAP bag (Foxglove, ros2 bag)")
    run.add_argument(
        "--map",
        action="store_true",
        help="fuse the body's depth frames into a map (needs --sensing rgbd; open3d extra): "
        "map.ply and map.pgm/map.yaml (nav2 map_server format) in the run folder",
    )
    run.add_argument(
        "--map-voxel", type=float, default=0.02, help="map voxel size, m (default 0.02)"
    )
    run.add_argument(
        "--store",
        help="a memory to start from and commit to after each task: a lifelong one "
        "(sqlite:///path or a path) or a fleet's shared one (postgresql://…)",
    )
    run.add_argument(
        "--robot",
        default="robot",
        help="who this run is in a fleet's store (provenance; the suffix of the ids it mints)",
    )
    run.add_argument("--data-dir", help="real data folder (default: ../shared/data)")
    run.add_argument("--out", help="run folder (default: runs/<timestamp>)")
    run.set_defaults(func=_cmd_run)
    demo = sub.add_parser("memory-demo", help="the memory core alone on a ProcTHOR house")
    demo.add_argument("--house", help="ProcTHOR house JSON (default: houses_20/house_0.json)")
    demo.add_argument("--data-dir", help="real data folder (default: ../shared/data)")
    demo.add_argument("--config", help="memory config YAML (default: built-in defaults)")
    demo.add_argument("--out", help="run folder (default: runs/<timestamp>)")
    demo.set_defaults(func=_cmd_memory_demo)
    scenes = sub.add_parser("scenes", help="list every loadable simulator scene")
    scenes.add_argument("--json", action="store_true", help="machine-readable output")
    scenes.add_argument("--data-dir", help="real data folder (default: ../shared/data)")
    scenes.set_defaults(func=_cmd_scenes)
    tasks = sub.add_parser("tasks", help="list the tasks of a suite or task file")
    source = tasks.add_mutually_exclusive_group(required=True)
    source.add_argument("--suite", help="suite name (alfred-seen)")
    source.add_argument("--tasks", help="a task file (JSONL, see docs/tasks.md)")
    tasks.add_argument("--json", action="store_true", help="print the tasks as JSONL")
    tasks.add_argument("--data-dir", help="real data folder (default: ../shared/data)")
    tasks.set_defaults(func=_cmd_tasks)
    bench = sub.add_parser("bench", help="run a suite (symbolic or LLM planner) on a body")
    bsrc = bench.add_mutually_exclusive_group(required=True)
    bsrc.add_argument(
        "--suite",
        help="alfred-seen | rearrange-val | lifelong | household | household-procthor | "
        "household-day | household-kitchen",
    )
    bsrc.add_argument("--tasks", help="a task file (JSONL, see docs/tasks.md)")
    bench.add_argument(
        "--memory",
        default="full",
        help="none|ltm|stm|full, or several comma-separated to compare in one run (full,none)",
    )
    bench.add_argument(
        "--planner",
        default="symbolic",
        choices=list(PLANNERS),
        help="llm: the OpenAI-compatible endpoint in LOCI_LLM_BASE_URL / LOCI_LLM_MODEL",
    )
    bench.add_argument(
        "--fallback",
        default="none",
        choices=["none", "llm"],
        help="llm: the LLM planner takes over the conditions the symbolic planner gives up "
        "on (LOCI_LLM_BASE_URL / LOCI_LLM_MODEL)",
    )
    bench.add_argument(
        "--sensing",
        default="gt",
        help="gt|rgbd, or both comma-separated to compare in one run (gt,rgbd)",
    )
    bench.add_argument(
        "--navigation",
        default="poses",
        choices=["sim", "poses"],
        help="poses: to poses computed from memory and the map, as a robot's nav2 (and "
        "planner_node over ROS) does; sim: the simulator walks to the object's true place",
    )
    bench.add_argument(
        "--body",
        default="builtin",
        help="the body to act with: builtin, ai2thor (AI2-THOR's own Controller), or "
        "habitat (habitat-sim, where it is installed; with --habitat-scenes)",
    )
    bench.add_argument(
        "--habitat-scenes",
        help="--body habitat: the directory the tasks' scene paths (and init.habitat_objects "
        "templates) are relative to",
    )
    bench.add_argument(
        "--thor-executable",
        help="--body ai2thor: the backend the Controller starts (default: loci thor-backend; "
        "a local AI2-THOR build's path; 'download' for ai2thor's own build)",
    )
    bench.add_argument(
        "--workers",
        type=int,
        help="worker processes (default 1); with --cluster ray the local cluster's CPUs "
        "(default: every core)",
    )
    bench.add_argument(
        "--cluster",
        help="ray: the episodes (a lifelong sequence whole) as Ray tasks on a local Ray "
        "cluster started for the run, on loopback only; ray://host:port: on an existing "
        "cluster (Ray Client; Loci and the data folder's path needed there too). The "
        "ray extra",
    )
    bench.add_argument("--json", help="write {tasks: [...], totals: {...}} here")
    bench.add_argument("--limit", type=int, default=0, help="run only the first N tasks")
    bench.add_argument("--quiet", action="store_true", help="no progress bar")
    bench.add_argument("--data-dir", help="real data folder (default: ../shared/data)")
    bench.set_defaults(func=_cmd_bench)
    replay = sub.add_parser("replay", help="replay a recorded bag into memory (no ROS needed)")
    replay.add_argument("bag", help="ROS 2 bag (MCAP or sqlite3 folder/file) or ROS 1 .bag")
    replay.add_argument(
        "--memory",
        "--store",
        dest="memory",
        help="the memory to load and extend: a SQLite path or a store URL (sqlite:///…, "
        "postgresql://…: a fleet's shared memory)",
    )
    replay.add_argument(
        "--robot", default="robot", help="who replays, in a fleet's store (provenance, ids)"
    )
    replay.add_argument("--report", help="folder for summary.json")
    replay.add_argument(
        "--map",
        action="store_true",
        help="fuse the depth frames into a map (open3d extra): map.ply and map.pgm/map.yaml "
        "(nav2 map_server format) in the report folder",
    )
    replay.add_argument(
        "--map-voxel", type=float, default=0.02, help="map voxel size, m (default 0.02)"
    )
    replay.add_argument("--pose-topic", help="pose source (default: discovered)")
    replay.add_argument(
        "--observations-topic",
        default="/loci/observations",
        help="loci_msgs/ObjectObservationArray topic ('' to ignore; default %(default)s)",
    )
    replay.add_argument("--depth-topic", help="depth Image topic ('' for none)")
    replay.add_argument("--camera-info-topic", help="CameraInfo topic (default: discovered)")
    replay.add_argument(
        "--masks-topic", help="loci_msgs/InstanceMasks topic ('' for none; default: discovered)"
    )
    replay.add_argument(
        "--segment",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="segment depth frames without instance masks by geometry into unknown things "
        "(default: on)",
    )
    replay.add_argument(
        "--up-axis",
        choices=("y", "z"),
        default="z",
        help="the fixed frame's up axis, for the segmenter and the map (ROS: z, the default)",
    )
    replay.add_argument("--fixed-frame", default="map", help="world frame (default %(default)s)")
    replay.add_argument("--base-frame", default="base_link", help="robot frame (%(default)s)")
    replay.add_argument(
        "--depth-scale",
        type=float,
        default=1000.0,
        help="16UC1 depth units per metre (1000 RealSense/Redwood, 5000 TUM; default %(default)s)",
    )
    replay.set_defaults(func=_cmd_replay)
    thor = sub.add_parser(
        "thor-backend",
        help="the simulator behind AI2-THOR's FIFO protocol: the executable for "
        "ai2thor.controller.Controller(local_executable_path='loci thor-backend')",
    )
    thor.add_argument("--data-dir", help="real data folder (default: ../shared/data)")
    thor.set_defaults(func=_cmd_thor_backend)
    return parser


def _cmd_thor_backend(args: argparse.Namespace) -> int:
    from thor.serve import serve_from_env

    serve_from_env(_data(args), args.unity_args)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    # Unity's own arguments (-screen-width 300 ...) come after thor-backend's.
    args, unknown = parser.parse_known_args(argv)
    if unknown and args.command != "thor-backend":
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    args.unity_args = unknown
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        code: int = args.func(args)
    except LociError as exc:
        print(f"loci: error: {exc}", file=sys.stderr)  # noqa: T201
        return 2
    except BrokenPipeError:  # `loci ... | head`: the reader left, which is not an error
        sys.stdout = Path(os.devnull).open("w")  # noqa: SIM115 - silences the flush at exit
        return 0
    return code


if __name__ == "__main__":
    sys.exit(main())
