"""Static description of a scene: rooms, doors, objects, reachable grid, agent start."""

from __future__ import annotations

from dataclasses import dataclass, field

from embodiment.body import Door, Room
from memory_core.types import Vec3

__all__ = ["DoorSpec", "ObjectSpec", "RoomSpec", "SceneSpec", "ithor_object_id", "type_of_id"]


def _coord(v: float) -> str:
    s = f"{v:+06.2f}"
    # AI2-THOR writes zero without a sign (GarbageCan|-01.94|00.00|+02.03).
    return "00.00" if s in ("+00.00", "-00.00") else s


def ithor_object_id(obj_type: str, position: Vec3) -> str:
    """An iTHOR-style objectId, ``Type|+x.xx|+y.yy|+z.zz``."""
    return f"{obj_type}|{_coord(position[0])}|{_coord(position[1])}|{_coord(position[2])}"


def type_of_id(object_id: str) -> str:
    """Type named by an AI2-THOR objectId; sub-objects (``Sink|...|SinkBasin``) and slices
    (``Apple|...|AppleSliced_2``) end in it."""
    parts = object_id.split("|")
    return parts[-1].split("_")[0] if len(parts) == 5 else parts[0]


@dataclass(frozen=True, slots=True)
class ObjectSpec:
    object_id: str
    object_type: str
    position: Vec3
    size: Vec3
    rotation_y: float = 0.0
    parent_id: str | None = None
    openness: float | None = None
    toggled: bool | None = None
    inferred: bool = False
    """True when the data holds no position for this object and a documented rule placed it."""
    source: str = ""
    name: str = ""
    box_center: Vec3 | None = None
    """Centre of the bounding box when it is not the position (AI2-THOR pivots sit at the
    base of furniture)."""
    controls: tuple[str, ...] = ()
    """A StoveKnob's burners, where the recording says (AI2-THOR's ``controlledObjects``)."""

    @property
    def center(self) -> Vec3:
        return self.box_center if self.box_center is not None else self.position


# One type for a room and a door, whether a scene file or a robot's map describes them.
RoomSpec = Room
DoorSpec = Door


@dataclass(frozen=True, slots=True)
class SceneSpec:
    name: str
    kind: str  # "procthor" | "ithor"
    rooms: tuple[RoomSpec, ...]
    objects: tuple[ObjectSpec, ...]
    reachable: tuple[tuple[float, float], ...]
    agent_start: tuple[float, float, float]
    """x, z, yaw (degrees)."""
    doors: tuple[DoorSpec, ...] = ()
    grid_size: float = 0.25
    agent_height: float = 0.9009992
    notes: tuple[str, ...] = field(default_factory=tuple)
    interact_poses: tuple[tuple[str, tuple[float, float, float, float]], ...] = ()
    """ALFRED's agent pose (x, z, yaw, horizon) for interacting with an object, where known."""

    @property
    def n_inferred(self) -> int:
        return sum(1 for o in self.objects if o.inferred)
