"""What the body sensed, into memory; and how memory is scoped per mode.

Observations go in as they are; RGB-D frames go through ``perception`` first.
"""

from __future__ import annotations

import dataclasses
import math

from embodiment.body import BodyState, FloorPlan, RGBDFrame, Sensed
from embodiment.skills import Skill
from memory_core import (
    Layer,
    Memory,
    MemoryConfig,
    ObjectObservation,
    Relation,
    SceneGraphConfig,
    SceneNode,
)
from memory_core.geometry import horizontal
from perception.instances import PerceptionConfig, observations_from_frame

__all__ = [
    "MEMORY_MODES",
    "add_floor_plan",
    "frame_observations",
    "ingest_sensed",
    "new_memory",
    "own_hands",
    "perceive",
]

MEMORY_MODES = ("none", "ltm", "stm", "full")


def new_memory(up_axis: str = "y", id_namespace: str = "") -> Memory:
    """An empty memory for a body whose world has ``up_axis`` up (simulators: y); with
    ``id_namespace`` (a robot id), the ids it mints carry it (robots sharing a store)."""
    config = SceneGraphConfig(up_axis=up_axis, id_namespace=id_namespace)
    return Memory(MemoryConfig(scene_graph=config))


def add_floor_plan(memory: Memory, plan: FloorPlan | None) -> None:
    """The building and its rooms (with doors) as the map a robot starts with; objects
    are only ever learned by sensing them."""
    if plan is None:
        return
    graph = memory.graph
    building = f"building|{plan.name}"
    if building in graph:
        return
    graph.add_node(SceneNode(building, Layer.BUILDING, "House", (0.0, 0.0, 0.0)))
    for room in plan.rooms:
        cu = sum(p[0] for p in room.polygon) / len(room.polygon)
        cv = sum(p[1] for p in room.polygon) / len(room.polygon)
        centre = (cu, 0.0, cv) if graph.up_axis == "y" else (cu, cv, 0.0)
        graph.add_node(
            SceneNode(room.room_id, Layer.ROOM, room.room_type, centre), polygon=room.polygon
        )
        graph.add_edge(building, room.room_id, Relation.CONTAINS)
    for door in plan.doors:
        graph.add_edge(door.room_a, door.room_b, Relation.ADJACENT, door=door.door_id)
        graph.add_edge(door.room_b, door.room_a, Relation.ADJACENT, door=door.door_id)


def frame_observations(
    frame: RGBDFrame, t: float, config: PerceptionConfig | None = None
) -> list[ObjectObservation]:
    """One RGB-D frame with labelled instance masks through perception: observations
    with labels, positions and boxes, no ids (memory associates them)."""
    if frame.instance is None:
        return []  # a frame without masks gives no objects (no segmenter runs here)
    labels = {i: label for i, label in enumerate(frame.labels) if label}
    result = observations_from_frame(
        frame.depth,
        frame.instance,
        labels,
        frame.intrinsics,
        frame.world_from_camera,
        t,
        config=config,
    )
    return list(result.observations)


def ingest_sensed(memory: Memory, sensed: Sensed | None, t: float) -> None:
    """Fuse what a body sensed into memory at time ``t``: its observations (with the view,
    negative evidence), then each perceived frame as a batch of its own (frames not yet
    perceived go through perception first).

    A support the memory has never seen (not in this batch, not in the graph) is
    dropped from the observation: memory learns what holds a thing by seeing it.
    """
    sensed = perceive(sensed, t)
    if sensed is None:
        return
    graph = memory.graph
    for k, batch in enumerate((sensed.observations, *sensed.perceived)):
        if not batch and (k > 0 or sensed.view is None):
            continue
        ids = {o.object_id for o in batch if o.object_id is not None}
        kept = [
            o
            if o.parent_id is None or o.parent_id in ids or o.parent_id in graph
            else dataclasses.replace(o, parent_id=None)
            for o in batch
        ]
        memory.observe(kept, t=t, view=sensed.view if k == 0 else None)


def perceive(sensed: Sensed | None, t: float) -> Sensed | None:
    """``sensed`` with its frames through perception (one perceived batch per frame)."""
    if sensed is None or not sensed.frames:
        return sensed
    batches = tuple(tuple(frame_observations(frame, t)) for frame in sensed.frames)
    return Sensed(
        observations=sensed.observations,
        view=sensed.view,
        perceived=sensed.perceived + batches,
    )


_HAND_REACH_M = 0.8
"""How far from the body's base (floor distance) a thing in its hand can be seen."""
_PLACED_REACH_M = 2.0
"""How far from the body's base (floor distance) a thing it just put down can be."""
_KNOWN_INSTANCE_M = 0.3
"""Closer than this to a known instance of its type, a thing is that instance."""


def own_hands(
    sensed: Sensed | None,
    memory: Memory,
    skill: Skill,
    success: bool,
    before: BodyState,
    after: BodyState,
) -> Sensed | None:
    """Perceived observations (no ids) of what the body holds, or has just put down, named
    as memory knows that object (and the latter on what it was put on): a robot knows what
    is in its gripper and what it just placed. Without this, the object seen in hand, or
    where it was put, becomes a second node of its type (and a "two of them" goal looks
    done with one)."""
    if sensed is None or not sensed.perceived:
        return sensed
    batches = tuple(
        _name_own(batch, memory, skill, success, before, after) for batch in sensed.perceived
    )
    return dataclasses.replace(sensed, perceived=batches)


def _name_own(
    batch: tuple[ObjectObservation, ...],
    memory: Memory,
    skill: Skill,
    success: bool,
    before: BodyState,
    after: BodyState,
) -> tuple[ObjectObservation, ...]:
    up = memory.graph.up_axis
    named: dict[int, tuple[str, str | None]] = {}
    if after.held is not None and after.held_label is not None:
        hand = after.floor_xy
        near = [
            (math.dist(horizontal(o.position, up), hand), i)
            for i, o in enumerate(batch)
            if o.object_id is None and o.label == after.held_label
        ]
        near = [(d, i) for d, i in near if d <= _HAND_REACH_M]
        if near:
            named[min(near)[1]] = (after.held, None)
    dest = skill.target
    if (
        skill.name == "put"
        and success
        and before.held is not None
        and before.held_label is not None
        and dest is not None
        and dest in memory.graph
    ):
        # What was just put down is near the body, and is not an instance memory already
        # knows there (the first of two put on the same table).
        here = after.floor_xy
        others = [
            n.position for n in memory.graph.find_by_label(before.held_label) if n.id != before.held
        ]
        placed = [
            (math.dist(horizontal(o.position, up), here), i)
            for i, o in enumerate(batch)
            if o.object_id is None
            and o.label == before.held_label
            and i not in named
            and all(math.dist(o.position, p) > _KNOWN_INSTANCE_M for p in others)
        ]
        placed = [(d, i) for d, i in placed if d <= _PLACED_REACH_M]
        if placed:
            named[min(placed)[1]] = (before.held, dest)
    # What memory believes a carried thing holds goes along in it (the knife in the bowl in
    # hand, then in the bowl put on the table), not a loose thing with no support.
    holders = [(after.held, _HAND_REACH_M)] if after.held is not None else []
    if skill.name == "put" and success and before.held is not None:
        holders.append((before.held, _PLACED_REACH_M))
    for holder, reach in holders:
        if holder not in memory.graph:
            continue
        for content in memory.graph.contents(holder):
            inside = [
                (math.dist(horizontal(o.position, up), after.floor_xy), i)
                for i, o in enumerate(batch)
                if o.object_id is None and o.label == content.label and i not in named
            ]
            inside = [(d, i) for d, i in inside if d <= reach]
            if inside:
                named[min(inside)[1]] = (content.id, holder)
    if not named:
        return batch
    return tuple(
        dataclasses.replace(o, object_id=named[i][0], parent_id=named[i][1] or o.parent_id)
        if i in named
        else o
        for i, o in enumerate(batch)
    )
