"""The body interface: the one thing the closed loop talks to besides memory.

A body executes skills and reports outcomes, knows its own pose and what it holds, may
have a map (an occupancy grid; a floor plan of rooms and doors), and senses: either
labelled object observations (a simulator's ground truth) or RGB-D frames for
``perception``. Planners and the critic read memory and this, never a simulator's world.
Bodies are created by name (:mod:`embodiment.registry`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from embodiment.grid import OccupancyGrid
from embodiment.skills import Skill, StepResult
from memory_core import InvalidInputError, ObjectObservation, PinholeIntrinsics, Pose, ViewVolume
from memory_core.geometry import horizontal
from memory_core.types import COORDINATE_LIMIT_M, check_text

__all__ = [
    "Body",
    "BodyState",
    "Door",
    "FloorPlan",
    "RGBDFrame",
    "Room",
    "Sensed",
    "floor_plan_from_json",
    "floor_plan_to_json",
    "rooms_seen_from",
]


@dataclass(frozen=True, slots=True)
class BodyState:
    pose: Pose
    """The agent's base in the body's world frame."""
    held: str | None = None
    """Id of the object in hand, as memory knows it (the id its observations carry)."""
    held_label: str | None = None
    up_axis: str = "z"

    @property
    def floor_xy(self) -> tuple[float, float]:
        """The pose's floor-plane coordinates (x, z for a y-up world)."""
        return horizontal(self.pose.position, self.up_axis)


@dataclass(frozen=True, slots=True, eq=False)
class RGBDFrame:
    """One depth frame with its camera, and optionally labelled instance masks."""

    depth: NDArray[np.float32]
    """Metres; NaN where invalid (REP 118)."""
    intrinsics: PinholeIntrinsics
    world_from_camera: NDArray[np.float64]
    """4x4 pose of the camera (OpenCV axes: x right, y down, z forward) in the world."""
    t: float = 0.0
    instance: NDArray[np.int32] | None = None
    """Per pixel an index into ``labels``; -1 for none."""
    labels: tuple[str, ...] = ()
    rgb: NDArray[np.uint8] | None = None


@dataclass(frozen=True, slots=True)
class Sensed:
    """What a body sensed: observations ready for memory, or frames for perception."""

    observations: tuple[ObjectObservation, ...] = ()
    frames: tuple[RGBDFrame, ...] = ()
    view: ViewVolume | None = None
    """Where the body surely looked: memory's negative evidence (things expected inside
    and not seen lose confidence)."""
    perceived: tuple[tuple[ObjectObservation, ...], ...] = ()
    """Frames already through perception (a perception node's reports): one batch of
    observations per frame, in order. Memory fuses them frame by frame, so a thing seen in
    two frames is one thing."""


@dataclass(frozen=True, slots=True)
class Room:
    room_id: str
    room_type: str
    polygon: tuple[tuple[float, float], ...]
    """Floor-plane outline."""


@dataclass(frozen=True, slots=True)
class Door:
    door_id: str
    room_a: str
    room_b: str
    center: tuple[float, float]
    """Floor-plane centre of the opening."""
    half_width: float
    open_plan: bool = False
    """No wall at all between the rooms here (a kitchen open to its living room): each is
    seen from the other."""


def rooms_seen_from(doors: Iterable[Door], room: str) -> set[str]:
    """``room`` and the rooms it opens onto with no wall (``Door.open_plan``): what is seen,
    and reached, from it."""
    out = {room}
    for d in doors:
        if d.open_plan and room in (d.room_a, d.room_b):
            out |= {d.room_a, d.room_b}
    return out


@dataclass(frozen=True, slots=True)
class FloorPlan:
    """A building's rooms and doors: the map a robot starts with (objects are learned)."""

    name: str
    rooms: tuple[Room, ...]
    doors: tuple[Door, ...] = ()


def floor_plan_to_json(plan: FloorPlan) -> dict[str, Any]:
    return {
        "name": plan.name,
        "rooms": [
            {"id": r.room_id, "type": r.room_type, "polygon": [list(p) for p in r.polygon]}
            for r in plan.rooms
        ],
        "doors": [
            {
                "id": d.door_id,
                "rooms": [d.room_a, d.room_b],
                "center": list(d.center),
                "half_width": d.half_width,
                **({"open_plan": True} if d.open_plan else {}),
            }
            for d in plan.doors
        ],
    }


def floor_plan_from_json(data: Any) -> FloorPlan:
    """A floor plan from :func:`floor_plan_to_json`'s form; a defect is an
    ``InvalidInputError`` naming it."""
    try:
        rooms = tuple(
            Room(
                _text(r["id"]),
                _text(r["type"]),
                tuple((_num(p[0]), _num(p[1])) for p in r["polygon"]),
            )
            for r in data["rooms"]
        )
        doors = tuple(
            Door(
                _text(d["id"]),
                _text(d["rooms"][0]),
                _text(d["rooms"][1]),
                (_num(d["center"][0]), _num(d["center"][1])),
                _num(d["half_width"]),
                _flag(d.get("open_plan", False)),
            )
            for d in data.get("doors", [])
        )
        plan = FloorPlan(_text(data["name"]), rooms, doors)
    except (KeyError, IndexError, TypeError, AttributeError) as exc:
        raise InvalidInputError(f"malformed floor plan: {type(exc).__name__}: {exc}") from exc
    for room in plan.rooms:
        if len(room.polygon) < 3:
            raise InvalidInputError(f"room {room.room_id} needs a polygon of 3 or more points")
    return plan


def _text(v: Any) -> str:
    if not isinstance(v, str) or not v:
        raise InvalidInputError(f"expected a non-empty string, got {v!r}")
    return check_text("floor plan text", v)


def _flag(v: Any) -> bool:
    if not isinstance(v, bool):
        raise InvalidInputError(f"expected true or false, got {v!r}")
    return v


def _num(v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        raise InvalidInputError(f"expected a finite number, got {v!r}")
    if abs(v) > COORDINATE_LIMIT_M:
        raise InvalidInputError(f"coordinate {v} is beyond {COORDINATE_LIMIT_M} m")
    return float(v)


class Body(Protocol):
    """What the loop needs of anything that acts and senses."""

    @property
    def up_axis(self) -> str:
        """'y' (AI2-THOR) or 'z' (ROS, Habitat after conversion)."""
        ...

    def state(self) -> BodyState: ...

    def execute(self, skill: Skill) -> StepResult:
        """Run one skill. A skill that fails, or a body fault during it, is a failed
        result with the reason; this never raises for what happens in the world."""
        ...

    def look(self) -> Sensed:
        """Sense now, without acting."""
        ...

    def occupancy(self) -> OccupancyGrid | None:
        """The map for navigation and exploration, if the body has one."""
        ...

    def floor_plan(self) -> FloorPlan | None: ...
