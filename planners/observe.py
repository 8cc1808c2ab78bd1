"""What the agent sees, as memory observations, and how memory is scoped per mode."""

from __future__ import annotations

import math

from memory_core import (
    Box3D,
    Layer,
    Memory,
    MemoryConfig,
    ObjectObservation,
    Relation,
    SceneGraphConfig,
    SceneNode,
    ViewVolume,
)
from memory_core.types import StateValue
from sim.scene import SceneSpec
from sim.world import SimObject, World

__all__ = ["MEMORY_MODES", "add_floor_plan", "new_memory", "observe"]

MEMORY_MODES = ("none", "ltm", "stm", "full")


def new_memory() -> Memory:
    # Simulator worlds are AI2-THOR worlds: y is up.
    return Memory(MemoryConfig(scene_graph=SceneGraphConfig(up_axis="y")))


def add_floor_plan(memory: Memory, spec: SceneSpec) -> None:
    """The building and its rooms (with doors) as the map a robot starts with; objects
    are only ever learned by seeing them."""
    graph = memory.graph
    building = f"building|{spec.name}"
    if building in graph:
        return
    graph.add_node(SceneNode(building, Layer.BUILDING, "House", (0.0, 0.0, 0.0)))
    for room in spec.rooms:
        cx = sum(p[0] for p in room.polygon) / len(room.polygon)
        cz = sum(p[1] for p in room.polygon) / len(room.polygon)
        graph.add_node(
            SceneNode(room.room_id, Layer.ROOM, room.room_type, (cx, 0.0, cz)), polygon=room.polygon
        )
        graph.add_edge(building, room.room_id, Relation.CONTAINS)
    for door in spec.doors:
        graph.add_edge(door.room_a, door.room_b, Relation.ADJACENT, door=door.door_id)
        graph.add_edge(door.room_b, door.room_a, Relation.ADJACENT, door=door.door_id)


def _state(o: SimObject) -> dict[str, StateValue]:
    s: dict[str, StateValue] = {"temperature": o.temperature}
    if o.openable:
        s["isOpen"] = o.is_open
    if o.toggleable:
        s["isToggled"] = o.is_toggled
    if o.sliceable:
        s["isSliced"] = o.is_sliced
    if o.cookable:
        s["isCooked"] = o.is_cooked
    if o.dirtyable:
        s["isDirty"] = o.is_dirty
    return s


def observe(world: World, memory: Memory, t: float, ids: list[str] | None = None) -> list[str]:
    """Put what is visible now (or ``ids``) into memory; returns the ids seen."""
    add_floor_plan(memory, world.spec)
    seen = ids if ids is not None else world.visible_objects()
    seen_set = set(seen)
    batch = []
    for oid in seen:
        o = world.objects[oid]
        parent = (
            o.parent_id
            if o.parent_id in seen_set or (o.parent_id is not None and o.parent_id in memory.graph)
            else None
        )
        batch.append(
            ObjectObservation(
                label=o.object_type,
                position=o.center,
                box=Box3D(o.center, o.size),
                state=_state(o),
                timestamp=t,
                object_id=oid,
                parent_id=parent,
                layer=Layer.OBJECT if o.pickupable else Layer.RECEPTACLE,
            )
        )
    # Negative evidence only where the agent surely looks: a narrow, short cone (walls and
    # occluders are not modelled by the memory's view volume).
    yaw = math.radians(world.agent_yaw)
    cam_y = world.spec.agent_height + world.config.camera_height_m
    view = ViewVolume(
        origin=(world.agent_xz[0], cam_y, world.agent_xz[1]),
        forward=(math.sin(yaw), -0.4, math.cos(yaw)),
        half_fov_deg=35.0,
        max_range_m=1.2,
    )
    memory.observe(batch, t=t, view=view)
    return list(seen)
