"""The built-in household simulator: AI2-THOR semantics on a scene description.

State is mutable (it is a world, not a value); everything handed out —
metadata, step results — is fresh data. Skills follow AI2-THOR's
preconditions and effects; an invalid skill returns a failed
:class:`StepResult` with an AI2-THOR-like ``errorMessage`` and never raises out
of an episode. Visibility is AI2-THOR's rule without ray casting: in the
agent's room, within ``visibility_distance_m`` of the agent's vertical axis,
inside the horizontal field of view, and not inside a closed container.
Occlusion by other objects is not modelled.
"""

from __future__ import annotations

import copy
import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import shapely
from shapely.geometry import Polygon

from embodiment.affordances import Affordances
from embodiment.appliances import BURNER, KNOB, pair_knobs
from embodiment.approach import footprint_gap
from embodiment.body import rooms_seen_from
from embodiment.navigation import GridNav
from embodiment.skills import SKILLS, Skill, StepResult
from sim.errors import SimError
from sim.scene import SceneSpec, ithor_object_id
from sim.support import find_support

__all__ = ["SKILLS", "SimConfig", "SimObject", "Skill", "StepResult", "World"]

_KNIVES = ("Knife", "ButterKnife")
# Receptacles whose contents sit inside them (others hold things on top).
_INSIDE = frozenset(
    {
        "Fridge",
        "Cabinet",
        "Drawer",
        "Microwave",
        "Safe",
        "Box",
        "SinkBasin",
        "BathtubBasin",
        "GarbageCan",
        "LaundryHamper",
        "Pot",
        "Pan",
        "Bowl",
        "Cup",
        "Mug",
        "Toaster",
        "CoffeeMachine",
    }
)


@dataclass(frozen=True, slots=True)
class SimConfig:
    visibility_distance_m: float = 1.5
    """AI2-THOR's visibilityDistance (ALFRED uses 1.5 m)."""
    field_of_view_deg: float = 90.0
    interaction_distance_m: float = 1.5
    camera_height_m: float = 0.675
    """Camera above the agent's position (ALFRED's CAMERA_HEIGHT_OFFSET is 0.75)."""
    slices_per_object: int = 3


@dataclass
class SimObject:
    object_id: str
    object_type: str
    position: tuple[float, float, float]
    size: tuple[float, float, float]
    rotation_y: float
    parent_id: str | None
    name: str
    inferred: bool
    pickupable: bool
    receptacle: bool
    openable: bool
    toggleable: bool
    sliceable: bool
    cookable: bool
    dirtyable: bool
    fillable: bool
    openness: float = 0.0
    is_toggled: bool = False
    is_sliced: bool = False
    is_cooked: bool = False
    is_dirty: bool = False
    is_filled: bool = False
    temperature: str = "RoomTemp"
    is_picked_up: bool = False
    is_cleaned: bool = False
    """Washed under running water at least once (ALFRED's isClean; not an AI2-THOR field)."""
    is_heated: bool = False
    """Heated at least once (ALFRED's isHot, which later cooling does not undo)."""
    is_cooled: bool = False
    """Cooled at least once (ALFRED's isCool)."""
    children: list[str] = field(default_factory=list)
    offset: tuple[float, float, float] = (0.0, 0.0, 0.0)
    """Box centre minus position (AI2-THOR furniture pivots sit at their base)."""
    breakable: bool = False
    is_broken: bool = False
    fill_liquid: str | None = None
    """What it is filled with (AI2-THOR's ``fillLiquid``: water, coffee), if filled."""
    controls: tuple[str, ...] = ()
    """A StoveKnob's burners (AI2-THOR's ``controlledObjects``)."""
    switched_by: str | None = None
    """A StoveBurner's knob: the burner itself takes no toggle action."""

    @property
    def is_open(self) -> bool:
        return self.openness > 0.0

    @property
    def center(self) -> tuple[float, float, float]:
        p, d = self.position, self.offset
        return (p[0] + d[0], p[1] + d[1], p[2] + d[2])


_OBJECT_FIELDS = tuple(f.name for f in dataclasses.fields(SimObject))


def _vec(v: Any) -> tuple[float, float, float]:
    x, y, z = v
    return (float(x), float(y), float(z))


class World:
    def __init__(
        self, spec: SceneSpec, affordances: Affordances, config: SimConfig | None = None
    ) -> None:
        self.spec = spec
        self.aff = affordances
        self.config = config or SimConfig()
        self.nav = GridNav(spec.reachable, spec.grid_size)
        self._rooms = [(r.room_id, r.room_type, Polygon(r.polygon)) for r in spec.rooms]
        self._seen_from = {r.room_id: rooms_seen_from(spec.doors, r.room_id) for r in spec.rooms}
        """Room → rooms seen from it: itself and those it opens onto with no wall."""
        for _rid, _t, poly in self._rooms:
            shapely.prepare(poly)
        # Point-in-room answers by 1 cm cell: objects and the agent revisit the same spots.
        self._room_memo: dict[tuple[int, int], str | None] = {}
        self._interact = dict(spec.interact_poses)
        self._initial = self._build_objects()
        self.reset()

    # ------------------------------------------------------------------ state
    def _build_objects(self) -> dict[str, SimObject]:
        a = self.aff
        objs: dict[str, SimObject] = {}
        for o in self.spec.objects:
            t = o.object_type
            objs[o.object_id] = SimObject(
                o.object_id,
                t,
                o.position,
                o.size,
                o.rotation_y,
                o.parent_id,
                o.name or o.object_id,
                o.inferred,
                a.pickupable(t),
                a.receptacle(t),
                a.openable(t),
                a.toggleable(t),
                a.sliceable(t),
                a.cookable(t),
                a.dirtyable(t),
                a.fillable(t),
                openness=o.openness or 0.0,
                is_toggled=bool(o.toggled),
                offset=(
                    o.center[0] - o.position[0],
                    o.center[1] - o.position[1],
                    o.center[2] - o.position[2],
                ),
                breakable=a.breakable(t),
                controls=o.controls,
            )
        _wire_knobs(objs)
        for so in objs.values():
            if so.parent_id is not None:
                if so.parent_id not in objs:
                    so.parent_id = None
                else:
                    objs[so.parent_id].children.append(so.object_id)
        return objs

    def reset(self) -> None:
        self.objects: dict[str, SimObject] = copy.deepcopy(self._initial)
        x, z, yaw = self.spec.agent_start
        cell = self.nav.snap((x, z))
        self.agent_xz: tuple[float, float] = cell
        self.agent_yaw: float = round(yaw / 90) * 90 % 360
        self.held: str | None = None
        self.trajectory: list[tuple[float, float]] = [self.agent_xz]
        """Every grid cell the agent has stood on, in order."""
        self.steps_taken = 0
        self.distance_m = 0.0
        self.last_error = ""

    def state(self) -> dict[str, Any]:
        """The dynamic state (objects, agent, counters) as JSON-able data: what a process
        that mirrors this world needs after every step. The trajectory is left out (it
        only grows; mirrors keep their own)."""
        return {
            # Field by field: dataclasses.asdict deep-copies and costs ~4 ms per house.
            "objects": [
                {**{k: getattr(o, k) for k in _OBJECT_FIELDS}, "children": list(o.children)}
                for o in self.objects.values()
            ],
            "agent": [self.agent_xz[0], self.agent_xz[1], self.agent_yaw],
            "held": self.held,
            "steps_taken": self.steps_taken,
            "distance_m": self.distance_m,
            "last_error": self.last_error,
        }

    def set_state(self, state: Mapping[str, Any]) -> None:
        """Adopt a :meth:`state` of a world on the same scene; on bad input nothing changes.

        With ``"changed_only": true`` the state lists only the objects that changed (and
        ``"removed"`` ids); every other object is kept as it is here."""
        try:
            partial = bool(state.get("changed_only", False))
            objects = dict(self.objects) if partial else {}
            for object_id in state.get("removed", ()) if partial else ():
                objects.pop(str(object_id), None)
            for d in state["objects"]:
                o = SimObject(**d)
                o.position, o.size, o.offset = (
                    _vec(o.position),
                    _vec(o.size),
                    _vec(o.offset),
                )
                o.children = list(o.children)
                o.controls = tuple(o.controls)
                objects[o.object_id] = o
            x, z, yaw = (float(v) for v in state["agent"])
            held = state["held"]
            counters = (int(state["steps_taken"]), float(state["distance_m"]))
            last_error = str(state["last_error"])
        except (KeyError, TypeError, ValueError) as exc:
            raise SimError(f"malformed world state: {type(exc).__name__}: {exc}") from exc
        if held is not None and held not in objects:
            raise SimError(f"malformed world state: held object {held!r} is not in it")
        self.objects = objects
        self.agent_xz, self.agent_yaw, self.held = (x, z), yaw, held
        if self.trajectory[-1] != self.agent_xz:
            self.trajectory.append(self.agent_xz)
        self.steps_taken, self.distance_m = counters
        self.last_error = last_error

    # ------------------------------------------------------------------ task initialisation
    def set_object_poses(self, poses: list[dict[str, Any]]) -> None:
        """AI2-THOR's SetObjectPoses: listed objects (by name) move there, new names are
        spawned, listed twice is duplicated, and every pickupable not listed is removed."""
        self.place_objects(poses, remove_unlisted=True)

    def place_objects(self, poses: list[dict[str, Any]], remove_unlisted: bool = False) -> None:
        """Move (or spawn) the named objects; with ``remove_unlisted``, SetObjectPoses."""
        by_name: dict[str, list[SimObject]] = {}
        for o in self.objects.values():
            by_name.setdefault(o.name, []).append(o)
        keep: set[str] = set()
        placed: list[SimObject] = []
        used: dict[str, int] = {}
        for pose in poses:
            name = str(pose["objectName"])
            p = pose["position"]
            pos = (float(p["x"]), float(p["y"]), float(p["z"]))
            k = used.get(name, 0)
            used[name] = k + 1
            known = [o for o in by_name.get(name, []) if o.pickupable]
            if k < len(known):
                o = known[k]
                self._detach(o)
                o.position = (pos[0] - o.offset[0], pos[1] - o.offset[1], pos[2] - o.offset[2])
            else:
                otype = name.split("_")[0]
                oid = ithor_object_id(otype, pos)
                while oid in self.objects:
                    oid += "+"
                a = self.aff
                o = SimObject(
                    oid,
                    otype,
                    pos,
                    a.median_size(otype),
                    float((pose.get("rotation") or {}).get("y", 0.0)),
                    None,
                    name,
                    False,
                    a.pickupable(otype),
                    a.receptacle(otype),
                    a.openable(otype),
                    a.toggleable(otype),
                    a.sliceable(otype),
                    a.cookable(otype),
                    a.dirtyable(otype),
                    a.fillable(otype),
                    breakable=a.breakable(otype),
                )
                self.objects[oid] = o
            keep.add(o.object_id)
            placed.append(o)
        for o in list(self.objects.values()):
            if remove_unlisted and o.pickupable and o.object_id not in keep:
                self._detach(o)
                for child in list(o.children):
                    self.objects[child].parent_id = None
                del self.objects[o.object_id]
        everything = list(self.objects.values())
        for o in placed:
            self._detach(o)
            if o.object_id == self.held:
                self.held = None
                o.is_picked_up = False
            parent = find_support(o, everything, self.aff)
            if parent is not None:
                o.parent_id = parent
                self.objects[parent].children.append(o.object_id)

    def place_agent(self, x: float, z: float, yaw: float) -> None:
        """Teleport to the reachable cell nearest (x, z) (ALFRED's TeleportFull)."""
        self.agent_xz = self.nav.snap((x, z))
        self.agent_yaw = round(yaw / 90) * 90 % 360

    def move_agent(self, xz: tuple[float, float], yaw: float) -> None:
        """Stand on ``xz`` facing ``yaw`` (a single move or turn: AI2-THOR's agent actions);
        what the agent holds comes along."""
        if xz not in self.nav:
            raise SimError(f"{xz} is not a reachable position")
        xz = self.nav.xz(self.nav.key(xz))
        if xz != self.agent_xz:
            self.distance_m += math.dist(xz, self.agent_xz)
            self.trajectory.append(xz)
        self.agent_xz, self.agent_yaw = xz, yaw % 360.0
        self._carry()

    def set_toggles(self, toggles: list[dict[str, Any]]) -> None:
        for t in toggles:
            for o in self.objects.values():
                if o.object_type == t["objectType"] and o.toggleable:
                    o.is_toggled = bool(t["isOn"])

    # ------------------------------------------------------------------ geometry helpers
    def room_of_point(self, x: float, z: float) -> str | None:
        key = (round(x * 100), round(z * 100))
        if key not in self._room_memo:
            self._room_memo[key] = next(
                (rid for rid, _t, poly in self._rooms if shapely.intersects_xy(poly, x, z)), None
            )
        return self._room_memo[key]

    @property
    def agent_room(self) -> str | None:
        return self.room_of_point(*self.agent_xz)

    def _horizontal_gap(self, o: SimObject) -> float:
        """Distance from the agent's vertical axis to the object's footprint."""
        return self._gap_from(self.agent_xz, o)

    def _in_fov(self, o: SimObject) -> bool:
        ax, az = self.agent_xz
        c = o.center
        dx, dz = c[0] - ax, c[2] - az
        if math.hypot(dx, dz) < 1e-6 or self._horizontal_gap(o) == 0.0:
            return True
        bearing = math.degrees(math.atan2(dx, dz)) % 360
        off = abs((bearing - self.agent_yaw + 180) % 360 - 180)
        # Wide things count when any part is in view: widen by their angular half-size.
        half = math.degrees(math.atan2(max(o.size[0], o.size[2]) / 2, math.hypot(dx, dz)))
        return off <= self.config.field_of_view_deg / 2 + half

    def ancestors(self, object_id: str) -> list[str]:
        """The receptacles holding an object, innermost first."""
        out = []
        p = self.objects[object_id].parent_id
        while p is not None:
            out.append(p)
            p = self.objects[p].parent_id
        return out

    def enclosed(self, object_id: str) -> bool:
        """True when some closed container up the parent chain hides the object."""
        return any(
            (a := self.objects[p]).openable and not a.is_open and a.object_type in _INSIDE
            for p in self.ancestors(object_id)
        )

    def is_visible(self, object_id: str) -> bool:
        o = self.objects[object_id]
        if object_id == self.held:
            return True
        if self.enclosed(object_id):
            return False
        room = self.agent_room
        # Walls hide other rooms (doors are not modelled as see-through; open walls are).
        if room is not None and len(self._rooms) > 1:
            there = self.room_of_point(o.center[0], o.center[2])
            if there is not None and there not in self._seen_from.get(room, {room}):
                return False
        return self._horizontal_gap(o) <= self.config.visibility_distance_m and self._in_fov(o)

    def visible_objects(self) -> list[str]:
        return sorted(i for i in self.objects if self.is_visible(i))

    # ------------------------------------------------------------------ skills
    def step(self, skill: Skill) -> StepResult:
        handler = getattr(self, f"_do_{skill.name}", None)
        if skill.name not in SKILLS or handler is None:
            result = StepResult(skill, False, f"Invalid action: {skill.name}")
        elif skill.name not in ("drop", "look_around") and skill.target is None:
            result = StepResult(skill, False, f"{skill.name} needs a target objectId")
        elif (
            skill.target is not None
            and skill.name != "navigate"
            and skill.target not in self.objects
        ):
            result = StepResult(
                skill,
                False,
                f"ArgumentException: objectId: {skill.target} is not "
                "the objectId on any object in the scene!",
            )
        else:
            result = handler(skill)
        seen = self.visible_objects()
        result = dataclasses.replace(
            result,
            primitive_steps=max(result.primitive_steps, 1),
            seen=tuple(sorted(set(result.seen) | set(seen))),
        )
        self.steps_taken += result.primitive_steps
        self.distance_m += result.distance_m
        self.last_error = result.error_message
        return result

    def _fail(self, skill: Skill, msg: str) -> StepResult:
        return StepResult(skill, False, msg)

    def _reachable_to_interact(self, o: SimObject, skill: Skill) -> StepResult | None:
        if self.enclosed(o.object_id):
            return self._fail(skill, f"{o.object_id} is not visible")
        if self._horizontal_gap(o) > self.config.interaction_distance_m or not self.is_visible(
            o.object_id
        ):
            return self._fail(
                skill,
                f"{o.object_id} is not interactable: it is not visible "
                f"within {self.config.interaction_distance_m} m",
            )
        return None

    def _do_navigate(self, skill: Skill) -> StepResult:
        assert skill.target is not None
        target = skill.target
        room = next((r for r in self._rooms if r[0] == target), None)
        dist = self.nav.distances_from(self.agent_xz)
        face: tuple[float, float] | None = None
        if target.startswith("point:"):
            try:
                px, pz = (float(v) for v in target.removeprefix("point:").split(","))
            except ValueError:
                return self._fail(skill, f"bad navigation point {target!r} (want point:x,z)")
            goal_cell = self.nav.key((px, pz))
            cands = [goal_cell] if goal_cell in dist else []
            if skill.position is not None:  # a pose: arrive facing that place
                face = (skill.position[0], skill.position[2])
        elif room is not None:
            cands = [c for c in dist if self.room_of_point(*self.nav.xz(c)) == room[0]]
        elif target in self.objects:
            o = self.objects[target]
            if o.object_id == self.held:
                return self._fail(skill, f"{target} is in the agent's hand")
            pose = self._interact.get(target)
            if pose is not None and self.nav.key((pose[0], pose[1])) in dist:
                cands = [self.nav.key((pose[0], pose[1]))]
            else:
                # Not through a wall: a cell near the thing but in another room sees nothing.
                there = self.room_of_point(o.center[0], o.center[2])
                seen = self._seen_from.get(there, set()) if there is not None else set()
                near = [
                    c for c in dist if (not seen or self.room_of_point(*self.nav.xz(c)) in seen)
                ]
                cands = [
                    c
                    for c in near
                    if self._gap_from(self.nav.xz(c), o)
                    <= self.config.interaction_distance_m - 0.25
                ]
                if not cands:
                    cands = [
                        c
                        for c in near
                        if self._gap_from(self.nav.xz(c), o) <= self.config.interaction_distance_m
                    ]
            face = (o.center[0], o.center[2])
        else:
            return self._fail(skill, f"unknown navigation target {target}")
        if not cands:
            return self._fail(skill, f"no reachable position near {target}")
        goal = min(cands, key=lambda c: (dist[c], c))
        path = self.nav.path(self.agent_xz, self.agent_yaw, self.nav.xz(goal), face)
        assert path is not None
        self.trajectory.extend(path.cells[1:])
        self.agent_xz = path.cells[-1]
        self.agent_yaw = path.final_yaw
        self._carry()
        return StepResult(skill, True, "", path.steps, path.moves * self.nav.grid)

    def _gap_from(self, xz: tuple[float, float], o: SimObject) -> float:
        """Floor-plane distance from a point to the object's footprint."""
        c = o.center
        return footprint_gap(xz, (c[0], c[2]), (o.size[0] / 2, o.size[2] / 2))

    def _carry(self) -> None:
        """The held object (and what it holds) moves with the agent."""
        if self.held is None:
            return
        yaw = math.radians(self.agent_yaw)
        pos = (
            self.agent_xz[0] + 0.3 * math.sin(yaw),
            self.spec.agent_height + 0.3,
            self.agent_xz[1] + 0.3 * math.cos(yaw),
        )
        self._move_tree(self.held, pos)

    def _move_tree(self, object_id: str, pos: tuple[float, float, float]) -> None:
        o = self.objects[object_id]
        d = (pos[0] - o.position[0], pos[1] - o.position[1], pos[2] - o.position[2])
        stack = [object_id]
        while stack:
            cur = self.objects[stack.pop()]
            cur.position = (cur.position[0] + d[0], cur.position[1] + d[1], cur.position[2] + d[2])
            stack.extend(cur.children)

    def _detach(self, o: SimObject) -> None:
        if o.parent_id is not None:
            self.objects[o.parent_id].children.remove(o.object_id)
            o.parent_id = None

    def _do_pickup(self, skill: Skill) -> StepResult:
        o = self.objects[skill.target or ""]
        if not o.pickupable:
            return self._fail(skill, f"{o.object_id} is not pickupable")
        if self.held is not None:
            return self._fail(skill, f"Agent is already holding {self.held}")
        blocked = None if skill.force else self._reachable_to_interact(o, skill)
        if blocked:
            return blocked
        self._detach(o)
        o.is_picked_up = True
        self.held = o.object_id
        self._carry()
        return StepResult(skill, True)

    def _place(self, o: SimObject, r: SimObject) -> None:
        self._detach(o)
        k = len(r.children)
        rc = r.center
        inside = r.object_type in _INSIDE
        y = (
            rc[1] - r.size[1] / 2 + o.size[1] / 2
            if inside
            else rc[1] + r.size[1] / 2 + o.size[1] / 2
        )
        # Where the agent puts it: the part of the receptacle nearest to the agent (a thing
        # put in a deep fridge stays within reach and sight), several things spread so
        # they do not share a point.
        off = ((k % 3) - 1) * min(r.size[0] / 4, 0.15)
        near = [
            min(max(a, c - max(h / 2 - m / 2, 0.0)), c + max(h / 2 - m / 2, 0.0))
            for a, c, h, m in zip(
                self.agent_xz,
                (rc[0], rc[2]),
                (r.size[0], r.size[2]),
                (o.size[0], o.size[2]),
                strict=True,
            )
        ]
        target = (near[0] + off - o.offset[0], y - o.offset[1], near[1] - o.offset[2])
        self._move_tree(o.object_id, target)
        o.parent_id = r.object_id
        r.children.append(o.object_id)

    def _do_put(self, skill: Skill) -> StepResult:
        r = self.objects[skill.target or ""]
        if self.held is None:
            return self._fail(skill, "Agent is not holding any object")
        o = self.objects[self.held]
        if r.object_id == o.object_id:
            return self._fail(skill, f"{o.name} cannot be placed in {o.name}")
        if not r.receptacle or not (
            skill.force or self.aff.can_place(o.object_type, r.object_type)
        ):
            return self._fail(skill, "No valid Receptacle found")
        if r.openable and not r.is_open and r.object_type in _INSIDE:
            return self._fail(skill, f"{r.object_id} is closed")
        blocked = self._reachable_to_interact(r, skill)
        if blocked:
            return blocked
        o.is_picked_up = False
        self.held = None
        self._place(o, r)
        self._settle(o)
        return StepResult(skill, True)

    def _do_drop(self, skill: Skill) -> StepResult:
        if self.held is None:
            return self._fail(skill, "Agent is not holding any object")
        o = self.objects[self.held]
        yaw = math.radians(self.agent_yaw)
        pos = (
            self.agent_xz[0] + 0.4 * math.sin(yaw),
            o.size[1] / 2,
            self.agent_xz[1] + 0.4 * math.cos(yaw),
        )
        self._move_tree(o.object_id, pos)
        o.is_picked_up = False
        self.held = None
        return StepResult(skill, True)

    def _do_open(self, skill: Skill) -> StepResult:
        return self._set_open(skill, 1.0)

    def _do_close(self, skill: Skill) -> StepResult:
        return self._set_open(skill, 0.0)

    def _set_open(self, skill: Skill, openness: float) -> StepResult:
        o = self.objects[skill.target or ""]
        if not o.openable:
            return self._fail(skill, f"{o.object_id} is not openable")
        blocked = self._reachable_to_interact(o, skill)
        if blocked:
            return blocked
        if (openness > 0) == o.is_open:
            return StepResult(
                skill, False, "Object failed to open/close successfully.", unchanged=True
            )
        if openness > 0 and o.object_type == "Microwave" and o.is_toggled:
            return self._fail(skill, "Microwave must be turned off to be opened")
        o.openness = openness
        return StepResult(skill, True)

    def _do_toggle_on(self, skill: Skill) -> StepResult:
        return self._toggle(skill, True)

    def _do_toggle_off(self, skill: Skill) -> StepResult:
        return self._toggle(skill, False)

    def _toggle(self, skill: Skill, on: bool) -> StepResult:
        o = self.objects[skill.target or ""]
        if not o.toggleable:
            if o.switched_by is not None:
                # AI2-THOR: burners are switched only through their knob.
                return self._fail(
                    skill, f"{o.object_id} is not toggleable: it is switched by {o.switched_by}"
                )
            return self._fail(skill, f"{o.object_id} is not toggleable")
        blocked = None if skill.force else self._reachable_to_interact(o, skill)
        if blocked:
            return blocked
        if o.is_toggled == on:
            msg = f"{o.object_id} is already {'on' if on else 'off'}"
            return StepResult(skill, False, msg, unchanged=True)
        if on and o.is_broken:
            return self._fail(skill, f"{o.object_id} is broken and cannot be turned on")
        if on and o.openable and o.is_open and o.object_type == "Microwave":
            return self._fail(skill, "Microwave must be closed to be turned on")
        o.is_toggled = on
        for burner in o.controls:
            if burner in self.objects:
                self.objects[burner].is_toggled = on
        if on:
            for source in (o, *(self.objects[b] for b in o.controls if b in self.objects)):
                self._apply_receptacle_effects(source)
            if o.object_type == "Faucet":
                for b in self.objects.values():
                    if b.object_type == "SinkBasin" and self.faucet_of(b) is o:
                        self._apply_receptacle_effects(b, running_water=True)
        return StepResult(skill, True)

    def _apply_receptacle_effects(self, r: SimObject, running_water: bool = False) -> None:
        """AI2-THOR's contextual rules for what ``r`` holds, all the way down (the egg
        in the pan on the burner): a heat source that is on (microwave, toaster, coffee
        machine, a burner whose knob is on) makes it hot and cooks what is cookable; a
        coffee machine that is on fills an empty mug with coffee; a fridge makes it cold;
        running water washes it and fills what is empty and fillable."""
        stack = list(r.children)
        while stack:
            c = self.objects[stack.pop()]
            stack.extend(c.children)
            if self.aff.cold_source(r.object_type):
                c.temperature = "Cold"
                c.is_cooled = True
            elif self.aff.heat_source(r.object_type) and r.is_toggled:
                c.temperature = "Hot"
                c.is_heated = True
                if c.cookable:
                    c.is_cooked = True
                if r.object_type == "CoffeeMachine" and c.fillable and not c.is_filled:
                    c.is_filled, c.fill_liquid = True, "coffee"
            elif running_water or (r.object_type == "SinkBasin" and self._faucet_on_near(r)):
                _under_running_water(c)

    def _settle(self, o: SimObject) -> None:
        """``o`` was just put somewhere: the rules of every receptacle up its chain apply
        (a slice put in the pan that stands on a lit burner cooks)."""
        for rid in self.ancestors(o.object_id):
            self._apply_receptacle_effects(self.objects[rid])

    def faucet_of(self, basin: SimObject) -> SimObject | None:
        """The faucet that runs into a basin: the one nearest to its footprint (scene data
        that places a faucet a metre off still has one faucet per sink)."""
        faucets = [f for f in self.objects.values() if f.object_type == "Faucet"]
        if not faucets:
            return None
        return min(
            faucets, key=lambda f: (self._gap_from((f.center[0], f.center[2]), basin), f.object_id)
        )

    def _faucet_on_near(self, basin: SimObject) -> bool:
        faucet = self.faucet_of(basin)
        return faucet is not None and faucet.is_toggled

    def _do_slice(self, skill: Skill) -> StepResult:
        o = self.objects[skill.target or ""]
        if not o.sliceable:
            return self._fail(skill, f"{o.object_id} is not sliceable")
        if self.held is None or self.objects[self.held].object_type not in _KNIVES:
            return self._fail(skill, "Agent must be holding a knife to slice")
        blocked = self._reachable_to_interact(o, skill)
        if blocked:
            return blocked
        if o.is_sliced:
            return self._fail(skill, f"{o.object_id} is already sliced")
        o.is_sliced = True
        if o.object_type == "Egg":
            o.is_broken = o.breakable
            self._spawn_slices(o, "EggCracked", 1)
        else:
            self._spawn_slices(o)
        return StepResult(skill, True)

    def _do_break(self, skill: Skill) -> StepResult:
        """AI2-THOR's BreakObject: a broken thing stays broken; an appliance that breaks
        switches off for good; an egg becomes an EggCracked."""
        o = self.objects[skill.target or ""]
        if not o.breakable:
            return self._fail(skill, f"{o.object_id} is not breakable")
        blocked = None if o.object_id == self.held else self._reachable_to_interact(o, skill)
        if blocked:
            return blocked
        if o.is_broken:
            return StepResult(skill, False, f"{o.object_id} is already broken", unchanged=True)
        o.is_broken = True
        o.is_toggled = False
        if o.is_filled:
            o.is_filled, o.fill_liquid = False, None
        if o.object_type == "Egg":
            if o.object_id == self.held:
                self.held, o.is_picked_up = None, False
            self._spawn_slices(o, "EggCracked", 1)
        return StepResult(skill, True)

    def _do_fill(self, skill: Skill) -> StepResult:
        """Fill a held thing with water at a sink: into the basin, faucet on and off,
        pick up (4 actions, 2 where the faucet already runs; AI2-THOR fills what is moved
        under running water)."""
        o = self._held_target(skill)
        if isinstance(o, StepResult):
            return o
        if not o.fillable:
            return self._fail(skill, f"{o.object_id} cannot be filled with liquid")
        basin = self._appliance_near("SinkBasin")
        if basin is None:
            return self._fail(skill, "No visible SinkBasin within reach")
        if self.faucet_of(basin) is None:
            return self._fail(skill, "No Faucet runs into that SinkBasin")
        _under_running_water(o)
        return StepResult(skill, True, "", 2 if self._faucet_on_near(basin) else 4)

    def _do_empty(self, skill: Skill) -> StepResult:
        """AI2-THOR's EmptyLiquidFromObject on the held thing (poured out)."""
        o = self._held_target(skill)
        if isinstance(o, StepResult):
            return o
        if not o.fillable:
            return self._fail(skill, f"{o.object_id} cannot hold liquid")
        if not o.is_filled:
            msg = f"{o.object_id} is not filled with liquid"
            return StepResult(skill, False, msg, unchanged=True)
        o.is_filled, o.fill_liquid = False, None
        return StepResult(skill, True)

    def _spawn_slices(self, o: SimObject, kind: str | None = None, n: int | None = None) -> None:
        """AI2-THOR replaces a sliced object by ``<Type>Sliced`` pieces where it lay (an
        egg by one EggCracked); the whole object stays in the metadata, sliced (or broken)
        and no longer pickupable."""
        kind = kind or f"{o.object_type}Sliced"
        sx, sy, sz = o.size
        n = n or self.config.slices_per_object
        for i in range(n):
            sid = f"{o.object_id}|{kind}_{i}"
            dx = (i - (n - 1) / 2) * sx / n
            piece = SimObject(
                sid,
                kind,
                (o.position[0] + dx, o.position[1], o.position[2]),
                (sx / n, sy, sz),
                o.rotation_y,
                o.parent_id,
                f"{kind}_{i}",
                o.inferred,
                True,
                False,
                False,
                False,
                False,
                self.aff.cookable(kind),
                False,
                False,
                temperature=o.temperature,
                is_cooked=o.is_cooked,
                offset=o.offset,
            )
            self.objects[sid] = piece
            if o.parent_id is not None:
                self.objects[o.parent_id].children.append(sid)
        o.pickupable = False

    def _appliance_near(self, kind: str) -> SimObject | None:
        near = [
            a
            for a in self.objects.values()
            if a.object_type == kind
            and self._horizontal_gap(a) <= self.config.interaction_distance_m
            and self.is_visible(a.object_id)
        ]
        return min(near, key=self._horizontal_gap) if near else None

    def _held_target(self, skill: Skill) -> SimObject | StepResult:
        if self.held is None or self.held != skill.target:
            return self._fail(skill, f"Agent must be holding {skill.target}")
        return self.objects[self.held]

    def _do_clean(self, skill: Skill) -> StepResult:
        """ALFRED's CleanObject: into the sink basin, faucet on and off, pick up (4 actions;
        2 where the faucet already runs: it is left running)."""
        o = self._held_target(skill)
        if isinstance(o, StepResult):
            return o
        basin = self._appliance_near("SinkBasin")
        if basin is None:
            return self._fail(skill, "No visible SinkBasin within reach")
        _under_running_water(o)
        return StepResult(skill, True, "", 2 if self._faucet_on_near(basin) else 4)

    def _do_heat(self, skill: Skill) -> StepResult:
        """ALFRED's HeatObject with a microwave: open, put, close, on, off, open, pick, close
        (a microwave found open is neither opened first nor closed last)."""
        o = self._held_target(skill)
        if isinstance(o, StepResult):
            return o
        oven = self._appliance_near("Microwave")
        if oven is None:
            return self._fail(skill, "No visible Microwave within reach")
        if not self.aff.can_place(o.object_type, "Microwave"):
            return self._fail(skill, "No valid Receptacle found")
        o.temperature = "Hot"
        o.is_heated = True
        if o.cookable:
            o.is_cooked = True
        return StepResult(skill, True, "", 6 if oven.is_open else 8)

    def _do_cool(self, skill: Skill) -> StepResult:
        """ALFRED's CoolObject with the fridge: open, put, close, open, pick, close (a fridge
        found open is neither opened first nor closed last)."""
        o = self._held_target(skill)
        if isinstance(o, StepResult):
            return o
        fridge = self._appliance_near("Fridge")
        if fridge is None:
            return self._fail(skill, "No visible Fridge within reach")
        if not self.aff.can_place(o.object_type, "Fridge"):
            return self._fail(skill, "No valid Receptacle found")
        o.temperature = "Cold"
        o.is_cooled = True
        return StepResult(skill, True, "", 4 if fridge.is_open else 6)

    def _do_look_around(self, skill: Skill) -> StepResult:
        seen: set[str] = set()
        start = self.agent_yaw
        for k in range(4):
            self.agent_yaw = (start + 90 * k) % 360
            seen.update(self.visible_objects())
        self.agent_yaw = start
        return StepResult(skill, True, "", 4, 0.0, tuple(sorted(seen)))

    # ------------------------------------------------------------------ metadata
    def metadata(self) -> dict[str, Any]:
        """``event.metadata`` in AI2-THOR 5.0's shape (the fields this simulator models)."""
        objs = []
        for o in self.objects.values():
            sx, sy, sz = o.size
            c = o.center
            corners = [
                [c[0] + dx * sx / 2, c[1] + dy * sy / 2, c[2] + dz * sz / 2]
                for dx in (1, -1)
                for dy in (1, -1)
                for dz in (1, -1)
            ]
            parents = [o.parent_id] if o.parent_id else None
            objs.append(
                {
                    "name": o.name,
                    "objectId": o.object_id,
                    "objectType": o.object_type,
                    "position": _xyz(o.position),
                    "rotation": {"x": 0.0, "y": o.rotation_y, "z": 0.0},
                    "visible": self.is_visible(o.object_id),
                    "isInteractable": self.is_visible(o.object_id),
                    "receptacle": o.receptacle,
                    "toggleable": o.toggleable,
                    "isToggled": o.is_toggled,
                    "breakable": o.breakable,
                    "isBroken": o.is_broken,
                    "canFillWithLiquid": o.fillable,
                    "isFilledWithLiquid": o.is_filled,
                    "fillLiquid": o.fill_liquid if o.is_filled else None,
                    "dirtyable": o.dirtyable,
                    "isDirty": o.is_dirty,
                    "canBeUsedUp": False,
                    "isUsedUp": False,
                    "cookable": o.cookable,
                    "isCooked": o.is_cooked,
                    "temperature": o.temperature,
                    "isHeatSource": False,
                    "isColdSource": False,
                    "sliceable": o.sliceable,
                    "isSliced": o.is_sliced,
                    "openable": o.openable,
                    "isOpen": o.is_open,
                    "openness": o.openness,
                    "pickupable": o.pickupable,
                    "isPickedUp": o.is_picked_up,
                    "moveable": False,
                    "mass": 0.0,
                    "salientMaterials": [],
                    "receptacleObjectIds": list(o.children) if o.receptacle else None,
                    "distance": math.hypot(
                        o.center[0] - self.agent_xz[0], o.center[2] - self.agent_xz[1]
                    ),
                    "assetId": "",
                    "parentReceptacles": parents,
                    "controlledObjects": list(o.controls) if o.object_type == KNOB else None,
                    "isMoving": False,
                    "axisAlignedBoundingBox": {
                        "cornerPoints": corners,
                        "center": _xyz(c),
                        "size": {"x": sx, "y": sy, "z": sz},
                    },
                    "objectOrientedBoundingBox": None,
                }
            )
        held = self.objects[self.held] if self.held else None
        return {
            "sceneName": self.spec.name,
            "agent": {
                "name": "agent",
                "position": {
                    "x": self.agent_xz[0],
                    "y": self.spec.agent_height,
                    "z": self.agent_xz[1],
                },
                "rotation": {"x": 0.0, "y": self.agent_yaw, "z": 0.0},
                "cameraHorizon": 30.0,
                "isStanding": True,
                "inHighFrictionArea": False,
            },
            "objects": objs,
            "inventoryObjects": (
                [{"objectId": held.object_id, "objectType": held.object_type}] if held else []
            ),
            "lastActionSuccess": self.last_error == "",
            "errorMessage": self.last_error,
            "fov": self.config.field_of_view_deg,
            "visibleRange": self.config.visibility_distance_m,
        }


def _xyz(p: tuple[float, float, float]) -> dict[str, float]:
    return {"x": p[0], "y": p[1], "z": p[2]}


def _under_running_water(o: SimObject) -> None:
    """AI2-THOR's running water: washed, clean if it can be dirty, filled with water if it
    holds liquid and is empty."""
    o.is_cleaned = True
    if o.dirtyable:
        o.is_dirty = False
    if o.fillable and not o.is_filled:
        o.is_filled, o.fill_liquid = True, "water"


def _wire_knobs(objects: dict[str, SimObject]) -> None:
    """Link stove knobs to their burners: as recorded (AI2-THOR's ``controlledObjects``),
    else by :func:`embodiment.appliances.pair_knobs` (a guess: AI2-THOR's wiring of
    unrecorded kitchens is not in the data). A burner with a knob takes no toggle."""
    knobs = [o for o in objects.values() if o.object_type == KNOB]
    burners = {o.object_id: o for o in objects.values() if o.object_type == BURNER}
    if not knobs or not burners:
        return
    if not any(k.controls for k in knobs):
        pairs = pair_knobs(
            {k.object_id: k.center for k in knobs}, {b: o.center for b, o in burners.items()}
        )
        for k in knobs:
            k.controls = (pairs[k.object_id],) if k.object_id in pairs else ()
    for k in knobs:
        k.controls = tuple(b for b in k.controls if b in burners)
        for b in k.controls:
            burners[b].switched_by = k.object_id
            burners[b].toggleable = False
