"""The built-in simulator as a body (``--body builtin``).

Sensing ``gt``: after every skill, the objects visible to the agent as observations with
the simulator's ids, instance names, positions, boxes, states and supports — perfect
perception. Sensing ``rgbd``: rendered depth frames with labelled instance masks (one
after each skill, four for ``look_around``) for ``perception``; the only perfect thing is
the 2-D segmentation: no ids, no positions, no states. Skills then name memory's nodes,
and the body grounds each one as a robot's detector would: the nearest object of the
skill's label to where memory believes it is.

The map is the reachable grid as an occupancy grid, and the floor plan (rooms, doors) is
given, as a robot is given its building's map.
"""

from __future__ import annotations

import dataclasses
import logging
import math

from embodiment.body import BodyState, FloorPlan, RGBDFrame, Sensed
from embodiment.errors import BodyError
from embodiment.grid import OccupancyGrid
from embodiment.skills import Skill, StepResult
from memory_core import Box3D, Layer, ObjectObservation, Pose, ViewVolume
from memory_core.types import StateValue
from sim.render import render, rep118_depth
from sim.world import SimObject, World

__all__ = ["SENSING_MODES", "BuiltinBody", "gt_observations"]

log = logging.getLogger(__name__)

SENSING_MODES = ("gt", "rgbd")
_GROUNDING_SLACK_M = 1.0
"""How far beyond its own half-size a thing may be from where memory believes it and
still be the one meant (perceived centroids of large furniture are off-centre)..."""
_SMALL_SLACK_M = 0.3
"""...but no further than its own largest side, or this for smaller things: a hand
reaching for a toilet paper believed on the counter does not take the one on the floor a
metre away."""


def _state(o: SimObject) -> dict[str, StateValue]:
    s: dict[str, StateValue] = {"temperature": o.temperature}
    if o.openable:
        s["isOpen"] = o.is_open
    if o.toggleable or o.switched_by is not None:
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
    if o.breakable:
        s["isBroken"] = o.is_broken
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
        self._as_memory: dict[str, str] = {}
        """Simulator id -> the memory id a skill grounded to it (rgbd)."""
        self._as_sim: dict[str, str] = {}

    @property
    def reach_m(self) -> float:
        """How far from an object's footprint the agent can interact with it."""
        return self.world.config.interaction_distance_m

    # ------------------------------------------------------------------ state and maps
    def state(self) -> BodyState:
        w = self.world
        x, z = w.agent_xz
        half = math.radians(w.agent_yaw) / 2
        # Yaw about +y (AI2-THOR: 0 faces +z, 90 faces +x).
        pose = Pose((x, w.spec.agent_height, z), (0.0, math.sin(half), 0.0, math.cos(half)))
        held_label = w.objects[w.held].object_type if w.held else None
        held = self._as_memory.get(w.held, w.held) if w.held else None
        return BodyState(pose, held, held_label, self.up_axis)

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
        grounded = self._ground(skill)
        if isinstance(grounded, StepResult):
            return grounded
        try:
            result = self.world.step(grounded)
            if self.sensing == "gt":
                sensed = self._sense_gt(list(result.seen))
            else:
                sensed = self._sense_rgbd(look_around=grounded.name == "look_around")
        except Exception as exc:  # a body fault is a failed skill, not a crash
            log.exception("builtin body failed on %s", skill)
            return StepResult(skill, False, f"body fault: {type(exc).__name__}: {exc}")
        self.clock += 1.0
        seen = result.seen if self.sensing == "gt" else ()
        return dataclasses.replace(result, skill=skill, seen=seen, sensed=sensed)

    def look(self) -> Sensed:
        if self.sensing == "gt":
            return self._sense_gt(self.world.visible_objects())
        return self._sense_rgbd(look_around=False)

    def _ground(self, skill: Skill) -> Skill | StepResult:
        """The skill on the simulator's own ids. Memory's ids are the simulator's with
        ``gt`` sensing; otherwise a target is found by label near its believed position."""
        target = skill.target
        w = self.world
        if self.sensing == "gt":
            return skill  # memory holds the simulator's own ids; unknown ones fail in it
        if target is None or target in w.objects or target.startswith("point:"):
            return skill
        if any(r.room_id == target for r in w.spec.rooms):
            return skill
        known = self._as_sim.get(target)
        if known is not None and known in w.objects:
            return dataclasses.replace(skill, target=known)  # one this body acted on before
        if skill.label is None or skill.position is None:
            return StepResult(skill, False, f"{target} is unknown to this body and has no label")
        best: tuple[float, str] | None = None
        for o in w.objects.values():
            if o.object_type != skill.label or (o.object_id == w.held and skill.name != "put"):
                continue
            d = math.dist(o.center, skill.position)
            slack = min(_GROUNDING_SLACK_M, max(_SMALL_SLACK_M, max(o.size)))
            if d <= max(o.size) / 2 + slack and (best is None or d < best[0]):
                best = (d, o.object_id)
        if best is None:
            return StepResult(
                skill,
                False,
                f"no {skill.label} found near {tuple(round(c, 2) for c in skill.position)}",
            )
        self._as_memory[best[1]] = target
        self._as_sim[target] = best[1]
        return dataclasses.replace(skill, target=best[1])

    def _view(self) -> ViewVolume:
        w = self.world
        # Negative evidence only where the agent surely looks: a narrow, short cone (walls
        # and occluders are not modelled by the memory's view volume).
        yaw = math.radians(w.agent_yaw)
        cam_y = w.spec.agent_height + w.config.camera_height_m
        return ViewVolume(
            origin=(w.agent_xz[0], cam_y, w.agent_xz[1]),
            forward=(math.sin(yaw), -0.4, math.cos(yaw)),
            half_fov_deg=35.0,
            max_range_m=1.2,
        )

    def _sense_gt(self, ids: list[str]) -> Sensed:
        observations = tuple(gt_observations(self.world, ids, self.clock))
        return Sensed(observations=observations, view=self._view())

    def _sense_rgbd(self, look_around: bool) -> Sensed:
        w = self.world
        start = w.agent_yaw
        frames = []
        try:
            for k in range(4 if look_around else 1):
                # Turning, with what it holds in front of the camera (it hides things).
                w.move_agent(w.agent_xz, start + 90 * k)
                frames.append(self._frame())
        finally:
            w.move_agent(w.agent_xz, start)
        # No view volume: with perception, a thing not segmented in a frame may simply be
        # occluded or too small; the memory is not told to expect it.
        return Sensed(frames=tuple(frames))

    def _frame(self) -> RGBDFrame:
        w = self.world
        frame = render(w)
        labels = tuple(
            w.objects[o].object_type if o in w.objects else "" for o in frame.instance_ids
        )
        return RGBDFrame(
            depth=rep118_depth(frame.depth),
            intrinsics=frame.intrinsics,
            world_from_camera=frame.world_from_camera,
            t=self.clock,
            instance=frame.instance,
            labels=labels,
            rgb=frame.rgb,
        )
