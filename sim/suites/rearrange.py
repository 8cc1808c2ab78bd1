"""Suites from the AI2-THOR rearrangement 2023 val episodes (1,000 episodes, 20 scenes).

``rearrange-val``: each episode is a task "restore the room": the scene starts in
the episode's start state (its object poses via SetObjectPoses, its openness),
and the goal puts every object that moved by 5 cm or more back in/on the
receptacle that holds it in the target state, and every changed openable back to
its target open/closed state. The target receptacle is derived from the target
pose with the simulator's support rule; a target pose below 0.3 m on no receptacle
is "on the floor" (AI2-THOR 5.0 spawns objects there too); any other pose with no
receptacle under it has no in/on goal and is counted in ``skipped_no_receptacle``.
As in the challenge, a task carries its walkthrough phase (``init.walkthrough``: the
target poses and openness), which the runner lets the agent explore before the task.
Goals are receptacle-level, so a move along one receptacle is not scored either
(``skipped_same_receptacle``); episodes left with no goal are not in the suite.

``lifelong``: one sequence per scene, five tasks in one continuing world. The
home layout is episode 0's target state. The first task starts from the home
layout with the first usable episode's moved objects displaced to their start
positions; before each later task, only the objects the next usable episode moved
are displaced to that episode's start positions ("someone moved things in
between"). An episode is usable when it takes an object off its home receptacle. Every task asks to
put the displaced objects back home, so later tasks revisit a house whose
receptacles were seen before, with some objects no longer where they were seen.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from embodiment.affordances import Affordances
from embodiment.scoring import FLOOR_M
from sim.registry import SceneRegistry
from sim.scene import SceneSpec
from sim.support import find_support
from sim.tasks import Predicate, Task

__all__ = ["lifelong_tasks", "rearrange_val_tasks"]

MOVED_M = 0.05
SEQUENCE_LENGTH = 5


@dataclass(frozen=True, slots=True)
class _Box:
    object_id: str
    object_type: str
    center: tuple[float, float, float]
    size: tuple[float, float, float]


@cache
def _episodes(data: Path) -> tuple[dict[str, list[dict[str, Any]]], dict[tuple[str, int], Any]]:
    root = data / "ai2thor_rearrangement"
    with gzip.open(root / "rearrangement_2023_val.json.gz", "rt", encoding="utf-8") as f:
        episodes = json.load(f)
    with gzip.open(root / "rearrangement_2023_val_changes.jsonl.gz", "rt", encoding="utf-8") as f:
        changes = {
            (c["scene"], c["index"]): c for c in map(json.loads, f) if c.get("split") == "val"
        }
    return episodes, changes


def _type(name: str) -> str:
    return name.split("_")[0]


def _pos(p: dict[str, float]) -> tuple[float, float, float]:
    return (p["x"], p["y"], p["z"])


def _support(
    name: str, poses: dict[str, tuple[float, float, float]], spec: SceneSpec, aff: Affordances
) -> str | None:
    """Receptacle id (fixed) or name (movable) holding ``name`` at ``poses[name]``."""
    fixed = [o for o in spec.objects if not aff.pickupable(o.object_type)]
    movable = [
        _Box(n, _type(n), p, aff.median_size(_type(n)))
        for n, p in poses.items()
        if n != name and aff.receptacle(_type(n))
    ]
    me = _Box(name, _type(name), poses[name], aff.median_size(_type(name)))
    return find_support(me, [*fixed, *movable], aff)


def _nearest_id(spec: SceneSpec, object_id: str) -> str | None:
    parts = object_id.split("|")
    otype, pos = parts[0], (float(parts[1]), float(parts[2]), float(parts[3]))
    cands = [o for o in spec.objects if o.object_type == otype]
    if not cands:
        return None
    return min(
        cands, key=lambda o: sum((a - b) ** 2 for a, b in zip(o.position, pos, strict=True))
    ).object_id


def _home_of(
    name: str, poses: dict[str, tuple[float, float, float]], spec: SceneSpec, aff: Affordances
) -> str | None:
    sup = _support(name, poses, spec, aff)
    if sup is None and poses[name][1] < FLOOR_M:
        return "Floor"  # AI2-THOR 5.0 spawns objects on the floor too
    return sup


def _restore_goal(
    names: list[str], home: dict[str, tuple[float, float, float]], spec: SceneSpec, aff: Affordances
) -> tuple[list[Predicate], int]:
    preds, skipped = [], 0
    for name in names:
        sup = _home_of(name, home, spec, aff)
        if sup is None:
            skipped += 1
            continue
        preds.append(Predicate((_type(name),), (sup,), names=(name,)))
    return preds, skipped


def rearrange_val_tasks(data: Path) -> list[Task]:
    registry = SceneRegistry(data)
    aff = registry.affordances
    episodes, changes = _episodes(data)
    tasks = []
    for scene in sorted(episodes):
        spec = registry.load(scene)
        for index, ep in enumerate(episodes[scene]):
            ch = changes[(scene, index)]
            target = {p["name"]: _pos(p["position"]) for p in ep["target_poses"]}
            start = {p["name"]: _pos(p["position"]) for p in ep["starting_poses"]}
            moved = [m["object"] for m in ch["moved_objects"] if m["distance_m"] >= MOVED_M]
            # Goals are receptacle-level: a shift along the same receptacle is not scored.
            same = [
                n
                for n in moved
                if n in start and _home_of(n, start, spec, aff) == _home_of(n, target, spec, aff)
            ]
            moved = [n for n in moved if n not in same]
            preds, skipped = _restore_goal(moved, target, spec, aff)
            opens, goal_opens = [], []
            for o in ch["openness_changes"]:
                if (o["start_openness"] > 0) == (o["target_openness"] > 0):
                    continue  # opened more or less, but open in both: not a state change
                oid = _nearest_id(spec, o["objectId"])
                if oid is not None:
                    preds.append(
                        Predicate(
                            (_type(o["object"]),),
                            names=(oid,),
                            state={"isOpen": o["target_openness"] > 0},
                        )
                    )
                    opens.append({"objectId": oid, "openness": o["start_openness"]})
                    goal_opens.append({"objectId": oid, "openness": o["target_openness"]})
            if not preds:
                continue
            words = sorted(
                {_type(n) for n in moved} | {_type(o["object"]) for o in ch["openness_changes"]}
            )
            agent = ep["agent_position"]
            tasks.append(
                Task(
                    task_id=f"rearrange/{scene}/{index}",
                    scene=scene,
                    instruction="Put the room back as it was: " + ", ".join(words),
                    subgoals=(tuple(preds),),
                    ordered=False,
                    init={
                        "object_poses": ep["starting_poses"],
                        "openness": opens,
                        "agent": {
                            "x": agent["x"],
                            "z": agent["z"],
                            "rotation": ep["agent_rotation"],
                        },
                        # The challenge's walkthrough phase: the room as the goal has it.
                        "walkthrough": {
                            "object_poses": ep["target_poses"],
                            "openness": goal_opens,
                        },
                        "skipped_no_receptacle": skipped,
                        "skipped_same_receptacle": len(same),
                    },
                    task_type="rearrange",
                    source=f"ai2thor-rearrangement 2023 val {scene} #{index}",
                )
            )
    return tasks


def lifelong_tasks(data: Path) -> list[Task]:
    registry = SceneRegistry(data)
    aff = registry.affordances
    episodes, changes = _episodes(data)
    tasks = []
    for scene in sorted(episodes):
        spec = registry.load(scene)
        eps = episodes[scene]
        home = {p["name"]: _pos(p["position"]) for p in eps[0]["target_poses"]}
        seq = f"lifelong/{scene}"
        made = 0
        for k in range(len(eps)):
            if made == SEQUENCE_LENGTH:
                break
            ep = eps[k]
            start = {p["name"]: _pos(p["position"]) for p in ep["starting_poses"]}
            moved = [
                m["object"]
                for m in changes[(scene, k)]["moved_objects"]
                if m["distance_m"] >= MOVED_M and m["object"] in home
            ]
            # Only displacements that take an object off its home receptacle make a task.
            shifted = {**home, **{n: start[n] for n in moved}}
            moved = [
                n for n in moved if _home_of(n, shifted, spec, aff) != _home_of(n, home, spec, aff)
            ]
            preds, _skipped = _restore_goal(moved, home, spec, aff)
            if not preds:
                continue
            if made == 0:
                poses = [
                    {**p, "position": dict(zip("xyz", shifted[p["name"]], strict=True))}
                    for p in eps[0]["target_poses"]
                ]
                agent = ep["agent_position"]
                init: dict[str, Any] = {
                    "object_poses": poses,
                    "agent": {"x": agent["x"], "z": agent["z"], "rotation": ep["agent_rotation"]},
                }
            else:
                init = {
                    "moves": [
                        {"objectName": n, "position": dict(zip("xyz", start[n], strict=True))}
                        for n in moved
                    ]
                }
            words = ", ".join(sorted({_type(n) for n in moved}))
            tasks.append(
                Task(
                    task_id=f"{seq}/{made}",
                    scene=scene,
                    instruction=f"Someone moved things: put the {words} back where they belong",
                    subgoals=(tuple(preds),),
                    ordered=False,
                    init=init,
                    task_type="lifelong",
                    source=f"ai2thor-rearrangement 2023 val {scene} episodes 0-{k}",
                    sequence=seq,
                    sequence_index=made,
                )
            )
            made += 1
    return tasks
