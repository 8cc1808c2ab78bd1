"""The built-in simulator as a body (``--body builtin``).

Sensing ``gt``: after every skill, the objects visible to the agent as observations with
the simulator's ids, instance names, positions, boxes, states and supports — perfect
perception. The map is the reachable grid as an occupancy grid, and the floor plan
(rooms, doors) is given, as a robot is given its building's map. Sensing ``rgbd`` is
not implemented yet (it will render depth + instance masks for ``perception``).
"""

from __future__ import annotations

import dataclasses
import logging
import math

from embodiment.body import BodyState, FloorPlan, Sensed
from embodiment.errors import BodyError
from embodiment.grid import OccupancyGrid
from embodiment.skills import Skill, StepResult
from memory_core import Box3D, Layer, ObjectObservation, Pose, ViewVolume
from memory_core.types import StateValue
from sim.world import SimObject, World

__all__ = ["SENSING_MODES", "BuiltinBody", "gt_observations"]

log = logging.getLogger(__name__)

SENSING_MODES = ("gt",)


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
    if o.pickupable or o.dirtyable:
        # ALFRED's history flags (washed, heated, cooled at least once).
        s["isCleaned"] = o.is_cleaned
        s["isHeated"] = o.is_heated
        s["isCooled"] = o.is_cooled
    if o.fillable:
        s["isFilledWithLiquid"] = o.is_filled
    return s


def gt_observations(world: World, ids: list[str], t: float) -> list[ObjectObservation]:
    """The objects ``ids`` of ``world`` as perfect observations."""
    out = []
    for oid in ids:
        o = world.objects[oid]
        out.append(
            ObjectObservation(
                label=o.object_type,
                position=o.center,
                box=Box3D(o.center, o.size),
                state=_state(o),
                timestamp=t,
                object_id=oid,
                parent_id=o.parent_id,
                layer=Layer.OBJECT if o.pickupable else Layer.RECEPTACLE,
                name=o.name,
            )
        )
    return out


class BuiltinBody:
    """A :class:`World` driven through the body interface."""

    up_axis = "y"  # AI2-THOR's world

    def __init__(self, world: World, sensing: str = "gt") -> None:
        if sensing not in SENSING_MODES:
            raise BodyError(
                f"sensing {sensing!r} is not available for the builtin body "
                f"(known: {', '.join(SENSING_MODES)})"
            )
        self.world, self.sensing = world, sensing
        self.clock = 0.0
        self._grid: OccupancyGrid | None = None

    # ------------------------------------------------------------------ state and maps
    def state(self) -> BodyState:
        w = self.world
        x, z = w.agent_xz
        half = math.radians(w.agent_yaw) / 2
        # Yaw about +y (AI2-THOR: 0 faces +z, 90 faces +x).
        pose = Pose((x, w.spec.agent_height, z), (0.0, math.sin(half), 0.0, math.cos(half)))
        held_label = w.objects[w.held].object_type if w.held else None
        return BodyState(pose, w.held, held_label, self.up_axis)

    def occupancy(self) -> OccupancyGrid:
        if self._grid is None:
            spec = self.world.spec
            self._grid = OccupancyGrid.from_free_cells(
                list(spec.reachable), spec.grid_size, self.up_axis
            )
        return self._grid

    def floor_plan(self) -> FloorPlan:
        spec = self.world.spec
        return FloorPlan(name=spec.name, rooms=spec.rooms, doors=spec.doors)

    # ------------------------------------------------------------------ acting, sensing
    def execute(self, skill: Skill) -> StepResult:
        try:
            result = self.world.step(skill)
        except Exception as exc:  # a body fault is a failed skill, not a crash
            log.exception("builtin body failed on %s", skill)
            return StepResult(skill, False, f"body fault: {type(exc).__name__}: {exc}")
        self.clock += 1.0
        return dataclasses.replace(result, sensed=self._sense(list(result.seen)))

    def look(self) -> Sensed:
        return self._sense(self.world.visible_objects())

    def _sense(self, ids: list[str]) -> Sensed:
        w = self.world
        # Negative evidence only where the agent surely looks: a narrow, short cone (walls
        # and occluders are not modelled by the memory's view volume).
        yaw = math.radians(w.agent_yaw)
        cam_y = w.spec.agent_height + w.config.camera_height_m
        view = ViewVolume(
            origin=(w.agent_xz[0], cam_y, w.agent_xz[1]),
            forward=(math.sin(yaw), -0.4, math.cos(yaw)),
            half_fov_deg=35.0,
            max_range_m=1.2,
        )
        return Sensed(observations=tuple(gt_observations(w, ids, self.clock)), view=view)
