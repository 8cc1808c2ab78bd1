"""What the body sensed, into memory; and how memory is scoped per mode.

Observations go in as they are; RGB-D frames go through ``perception`` first.
"""

from __future__ import annotations

import dataclasses

from embodiment.body import FloorPlan, RGBDFrame, Sensed
from memory_core import (
    Layer,
    Memory,
    MemoryConfig,
    ObjectObservation,
    Relation,
    SceneGraphConfig,
    SceneNode,
)
from perception.instances import PerceptionConfig, observations_from_frame

__all__ = ["MEMORY_MODES", "add_floor_plan", "frame_observations", "ingest_sensed", "new_memory"]

MEMORY_MODES = ("none", "ltm", "stm", "full")


def new_memory(up_axis: str = "y") -> Memory:
    """An empty memory for a body whose world has ``up_axis`` up (simulators: y)."""
    return Memory(MemoryConfig(scene_graph=SceneGraphConfig(up_axis=up_axis)))


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
    """Fuse what a body sensed into memory at time ``t``.

    A support the memory has never seen (not in this batch, not in the graph) is
    dropped from the observation: memory learns what holds a thing by seeing it.
    """
    if sensed is None:
        return
    batch = list(sensed.observations)
    for frame in sensed.frames:
        batch.extend(frame_observations(frame, t))
    ids = {o.object_id for o in batch if o.object_id is not None}
    graph = memory.graph
    batch = [
        o
        if o.parent_id is None or o.parent_id in ids or o.parent_id in graph
        else dataclasses.replace(o, parent_id=None)
        for o in batch
    ]
    memory.observe(batch, t=t, view=sensed.view)
