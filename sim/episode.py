"""Setting a world up for a task, and replaying reference plans."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from embodiment.tasks import walkthrough_task
from sim.registry import SceneRegistry
from sim.scene import type_of_id
from sim.tasks import GoalChecker, Task, check_types_exist
from sim.world import Skill, StepResult, World

__all__ = [
    "ReplayResult",
    "apply_init",
    "make_world",
    "replay_reference_plan",
    "resolve_object",
    "walkthrough_world",
]


def make_world(task: Task, registry: SceneRegistry) -> World:
    """The task's scene with the task's initial changes applied (validated first)."""
    spec = registry.load(task.scene)
    world = World(spec, registry.affordances)
    apply_init(world, task)
    return world


def walkthrough_world(task: Task, registry: SceneRegistry) -> World | None:
    """The room as the task's goal leaves it (``init.walkthrough``), the agent where the
    task starts it; None for a task without a walkthrough."""
    walk = walkthrough_task(task)
    if walk is None:
        return None
    world = World(registry.load(task.scene), registry.affordances)
    apply_init(world, walk)
    return world


def apply_init(world: World, task: Task) -> None:
    """Apply a task's initial changes to a world (a fresh one, or the world a lifelong
    sequence carries over from its previous task)."""
    init = task.init
    if init.get("object_poses"):
        world.set_object_poses(list(init["object_poses"]))
    if init.get("moves"):
        world.place_objects(list(init["moves"]))
    if init.get("object_toggles"):
        world.set_toggles(list(init["object_toggles"]))
    for entry in init.get("openness") or []:
        oid = resolve_object(world, str(entry["objectId"]))
        if oid is not None and world.objects[oid].openable:
            world.objects[oid].openness = float(entry["openness"])
    agent = init.get("agent")
    if isinstance(agent, Mapping):
        world.place_agent(float(agent["x"]), float(agent["z"]), float(agent.get("rotation", 0)))
    check_types_exist(task, {o.object_type for o in world.objects.values()})


def resolve_object(world: World, object_id: str, exclude: set[str] | None = None) -> str | None:
    """An AI2-THOR id from another run of the scene → this world's object: the same id, or
    the nearest object of the same type to the position the id encodes."""
    if object_id in world.objects:
        return object_id
    parts = object_id.split("|")
    otype = type_of_id(object_id)
    try:
        pos = (float(parts[1]), float(parts[2]), float(parts[3]))
    except (IndexError, ValueError):
        return None
    cands = [
        o
        for o in world.objects.values()
        if o.object_type == otype and (exclude is None or o.object_id not in exclude)
    ]
    if not cands:
        return None
    return min(cands, key=lambda o: (math.dist(o.position, pos), o.object_id)).object_id


@dataclass(frozen=True, slots=True)
class ReplayResult:
    task_id: str
    success: bool
    goal_conditions: float
    steps: int
    failed_action: str = ""
    error: str = ""


_TARGET_KEY = {
    "PickupObject": "objectId",
    "PutObject": "receptacleObjectId",
    "ToggleObject": "objectId",
    "SliceObject": "objectId",
    "CleanObject": "objectId",
    "HeatObject": "objectId",
    "CoolObject": "objectId",
    "OpenObject": "objectId",
    "CloseObject": "objectId",
}


def _skills_for(
    world: World, action: Mapping[str, Any], nxt: Mapping[str, Any] | None, placed: set[str]
) -> list[Skill]:
    name = action["action"]
    if name == "GotoLocation":
        if nxt is None or nxt["action"] not in _TARGET_KEY:
            return []
        next_key = _TARGET_KEY[nxt["action"]]
        if nxt["action"] in ("CleanObject", "HeatObject", "CoolObject"):
            # The plan goes to the appliance: the sink basin, microwave or fridge.
            appliance = {
                "CleanObject": "SinkBasin",
                "HeatObject": "Microwave",
                "CoolObject": "Fridge",
            }[nxt["action"]]
            near = [o for o in world.objects.values() if o.object_type == appliance]
            if not near:
                return []
            return [Skill("navigate", near[0].object_id)]
        goal = resolve_object(
            world, nxt[next_key], placed if nxt["action"] == "PickupObject" else None
        )
        return [Skill("navigate", goal)] if goal else []
    key = _TARGET_KEY.get(name)
    if key is None:
        return []
    target = resolve_object(world, action[key], placed if name == "PickupObject" else None)
    if target is None:
        return [Skill(name, action[key])]  # fails with AI2-THOR's unknown-id message
    # ALFRED's high-level actions open (and afterwards close) the closed containers
    # around their target, and a put into a closed receptacle opens it first.
    closed = [p for p in world.ancestors(target) if _closed(world, p)]
    if name == "PutObject" and _closed(world, target):
        closed.insert(0, target)
    opens = [Skill("open", p) for p in reversed(closed)]
    closes = [Skill("close", p) for p in closed]
    if name == "PickupObject":
        return [*opens, Skill("pickup", target), *closes]
    if name == "PutObject":
        # ALFRED puts with forceAction, which lifts AI2-THOR's receptacle type restriction.
        return [*opens, Skill("put", target, force=True), *closes]
    if name == "ToggleObject":
        return [Skill("toggle_off" if world.objects[target].is_toggled else "toggle_on", target)]
    if name == "SliceObject":
        return [*opens, Skill("slice", target), *closes]
    if name in ("CleanObject", "HeatObject", "CoolObject"):
        held = world.held or target
        return [Skill(name.removesuffix("Object").lower(), held)]
    return [Skill(name.removesuffix("Object").lower(), target)]


def _closed(world: World, object_id: str) -> bool:
    o = world.objects[object_id]
    return o.openable and not o.is_open


def replay_reference_plan(task: Task, registry: SceneRegistry) -> ReplayResult:
    world = make_world(task, registry)
    checker = GoalChecker(task)
    plan = list(task.reference_plan)
    placed: set[str] = set()
    for i, action in enumerate(plan):
        nxt = plan[i + 1] if i + 1 < len(plan) else None
        for skill in _skills_for(world, action, nxt, placed):
            held = world.held
            result: StepResult = world.step(skill)
            checker.update(world)
            if not result.success:
                return ReplayResult(
                    task.task_id,
                    checker.success(world),
                    checker.goal_conditions(world),
                    world.steps_taken,
                    action["action"],
                    result.error_message,
                )
            if skill.name == "put" and held is not None:
                # A placed object is done with: later ids of its type mean another instance
                # (pick_two_obj_and_place).
                placed.add(held)
    return ReplayResult(
        task.task_id, checker.success(world), checker.goal_conditions(world), world.steps_taken
    )
