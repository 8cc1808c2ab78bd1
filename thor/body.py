"""AI2-THOR as a body (``--body ai2thor``): Loci's skills on ``ai2thor``'s own Controller.

Works with whatever the Controller runs: a real AI2-THOR build, or ``loci thor-backend``.
Only the Controller's public API is used (``step``, ``last_event``), and only AI2-THOR's
own actions: ``TeleportFull`` along a path planned on ``GetReachablePositions``,
``PickupObject``, ``PutObject``, ``OpenObject``, ``CloseObject``, ``ToggleObjectOn/Off``,
``SliceObject``, ``DropHandObject``, ``RotateRight``; ALFRED's clean, heat and cool are
the action sequences ALFRED's own agents used (sink basin + faucet, microwave, fridge).

Sensing ``gt``: the event's visible objects as observations with AI2-THOR's ids.
Sensing ``rgbd``: the event's depth frame and instance segmentation, labelled by the
objects' types, for ``perception``; skills then name memory's nodes and are grounded as
a detector would (the nearest object of the label to where memory believes it is).

ALFRED's history flags (cleaned, heated, cooled) are not AI2-THOR state: this body keeps
them, as ALFRED's environment wrapper did, from what its actions did.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import threading
from collections.abc import Iterable
from typing import Any

import numpy as np

from embodiment.approach import footprint_gap
from embodiment.body import BodyState, FloorPlan, RGBDFrame, Sensed
from embodiment.camera import HORIZON_DEG, ai2thor_camera_pose
from embodiment.grid import OccupancyGrid
from embodiment.navigation import GridNav
from embodiment.skills import SWITCHES, Skill, StepResult
from memory_core import (
    Box3D,
    Layer,
    ObjectObservation,
    PinholeIntrinsics,
    Pose,
    ViewVolume,
)
from memory_core.types import StateValue
from thor.errors import ThorError

__all__ = ["SENSING_MODES", "Ai2ThorBody"]

log = logging.getLogger(__name__)

SENSING_MODES = ("gt", "rgbd")
GRID_SIZE_M = 0.25
"""AI2-THOR's default gridSize (``start_controller`` keeps it)."""
_GROUNDING_SLACK_M = 1.0

_ACTIONS = {
    "pickup": "PickupObject",
    "put": "PutObject",
    "open": "OpenObject",
    "close": "CloseObject",
    "toggle_on": "ToggleObjectOn",
    "toggle_off": "ToggleObjectOff",
    "slice": "SliceObject",
    "break": "BreakObject",
    "empty": "EmptyLiquidFromObject",
}
_HEAT_SOURCES = ("Microwave", "StoveBurner", "Toaster", "CoffeeMachine")


def _xyz(d: dict[str, Any]) -> tuple[float, float, float]:
    return (float(d["x"]), float(d["y"]), float(d["z"]))


def _center(o: dict[str, Any]) -> tuple[float, float, float]:
    box = o.get("axisAlignedBoundingBox") or {}
    return _xyz(box["center"]) if "center" in box else _xyz(o["position"])


def _size(o: dict[str, Any]) -> tuple[float, float, float]:
    box = o.get("axisAlignedBoundingBox") or {}
    return _xyz(box["size"]) if "size" in box else (0.0, 0.0, 0.0)


class Ai2ThorBody:
    """A Controller (already reset to its scene) driven through the body interface."""

    up_axis = "y"

    def __init__(
        self,
        controller: Any,
        sensing: str = "gt",
        floor_plan: FloorPlan | None = None,
        reach_m: float = 1.5,
        step_timeout_s: float = 60.0,
    ) -> None:
        if sensing not in SENSING_MODES:
            raise ThorError(
                f"sensing {sensing!r} is not available for the ai2thor body "
                f"(known: {', '.join(SENSING_MODES)})"
            )
        self.controller, self.sensing = controller, sensing
        self.reach_m, self.step_timeout_s = reach_m, step_timeout_s
        self._plan = floor_plan
        self.clock = 0.0
        self.fault: str | None = None
        """Why the Controller can no longer be used (its backend died or hung)."""
        self.history: dict[str, set[str]] = {}
        """objectId -> the ALFRED history flags it has earned (isCleaned/isHeated/isCooled)."""
        self._nav: GridNav | None = None
        self._grid: OccupancyGrid | None = None
        self._as_memory: dict[str, str] = {}
        self._as_thor: dict[str, str] = {}

    # ------------------------------------------------------------------ the controller
    @property
    def metadata(self) -> dict[str, Any]:
        return dict(self.controller.last_event.metadata)

    def _objects(self) -> dict[str, dict[str, Any]]:
        return {o["objectId"]: o for o in self.metadata.get("objects") or []}

    def step(self, action: str, **args: Any) -> tuple[bool, str]:
        """One AI2-THOR action: (success, errorMessage). A dead or hung backend is a
        fault: this action and every later one fail with the reason."""
        if self.fault is not None:
            return False, self.fault
        proc = getattr(getattr(self.controller, "server", None), "unity_proc", None)
        # A backend that hangs is killed, so the Controller's read ends at once instead of
        # waiting (or spinning) out its own timeout.
        watchdog = threading.Timer(self.step_timeout_s, proc.kill) if proc is not None else None
        if watchdog is not None:
            watchdog.daemon = True
            watchdog.start()
        try:
            event = self.controller.step(action=action, **args)
        except ValueError as exc:
            if "closed file" in str(exc):
                self.fault = f"body fault: the AI2-THOR controller is closed ({exc})"
                return False, self.fault
            return False, str(exc)  # InvalidAction / InvalidArgument: AI2-THOR's words
        except Exception as exc:  # the backend died, hung or broke the protocol
            cause = exc.__context__ or exc.__cause__
            detail = f"{exc}" + (f" ({cause})" if cause is not None else "")
            self.fault = f"body fault: AI2-THOR backend failed on {action}: {detail}"
            log.warning("%s", self.fault)
            return False, self.fault
        finally:
            if watchdog is not None:
                watchdog.cancel()
        meta = event.metadata
        return bool(meta["lastActionSuccess"]), str(meta.get("errorMessage") or "")

    # ------------------------------------------------------------------ state and maps
    def state(self) -> BodyState:
        agent = self.metadata["agent"]
        x, y, z = _xyz(agent["position"])
        half = math.radians(float(agent["rotation"]["y"])) / 2
        pose = Pose((x, y, z), (0.0, math.sin(half), 0.0, math.cos(half)))
        inventory = self.metadata.get("inventoryObjects") or []
        held = str(inventory[0]["objectId"]) if inventory else None
        held_label = str(inventory[0]["objectType"]) if inventory else None
        held_id = self._as_memory.get(held, held) if held is not None else None
        return BodyState(pose, held_id, held_label, self.up_axis)

    def _agent(self) -> tuple[tuple[float, float], float]:
        agent = self.metadata["agent"]
        x, _y, z = _xyz(agent["position"])
        return (x, z), float(agent["rotation"]["y"])

    def navigation(self) -> GridNav:
        if self._nav is None:
            ok, err = self.step("GetReachablePositions")
            ret = self.metadata.get("actionReturn") if ok else None
            if not ret:
                raise ThorError(f"GetReachablePositions gave no positions: {err}")
            cells = [(float(p["x"]), float(p["z"])) for p in ret]
            grid = GRID_SIZE_M
            self._nav = GridNav(cells, grid)
            self._grid = OccupancyGrid.from_free_cells(cells, grid, self.up_axis)
        return self._nav

    def occupancy(self) -> OccupancyGrid | None:
        try:
            self.navigation()
        except ThorError as exc:
            log.warning("no map: %s", exc)
            return None
        return self._grid

    def floor_plan(self) -> FloorPlan | None:
        return self._plan

    # ------------------------------------------------------------------ acting
    def execute(self, skill: Skill) -> StepResult:
        grounded = self._ground(skill)
        if isinstance(grounded, StepResult):
            return grounded
        if grounded.name == "look_around":
            result = self._look_around(grounded)
        else:
            if grounded.name == "navigate":
                result = self._navigate(grounded)
            elif grounded.name in ("clean", "heat", "cool", "fill"):
                result = self._treat(grounded)
            elif grounded.name == "drop":
                ok, err = self.step("DropHandObject")
                result = StepResult(grounded, ok, err, 1)
            elif grounded.name in _ACTIONS:
                result = self._interact(grounded)
            else:
                result = StepResult(grounded, False, f"Invalid action: {grounded.name}")
            if self.fault is None:
                result = dataclasses.replace(result, sensed=self.look())
        self.clock += 1.0
        if self.fault is not None:
            return dataclasses.replace(result, skill=skill, error_message=self.fault, fault=True)
        return dataclasses.replace(result, skill=skill)

    def _navigate(self, skill: Skill) -> StepResult:
        target = skill.target or ""
        if not target.startswith("point:"):
            return StepResult(skill, False, f"the ai2thor body goes to points only, not {target!r}")
        try:
            px, pz = (float(v) for v in target.removeprefix("point:").split(","))
        except ValueError:
            return StepResult(skill, False, f"bad navigation point {target!r} (want point:x,z)")
        try:
            nav = self.navigation()
        except ThorError as exc:
            return StepResult(skill, False, str(exc))
        here, yaw = self._agent()
        dist = nav.distances_from(here)
        goal = nav.key((px, pz))
        if goal not in dist:
            return StepResult(skill, False, f"no reachable position near {target}")
        face = (skill.position[0], skill.position[2]) if skill.position is not None else None
        path = nav.path(here, yaw, nav.xz(goal), face)
        if path is None:
            return StepResult(skill, False, f"no reachable position near {target}")
        x, z = path.cells[-1]
        y = float(self.metadata["agent"]["position"]["y"])
        ok, err = self.step(
            "TeleportFull",
            x=x,
            y=y,
            z=z,
            rotation={"x": 0.0, "y": path.final_yaw, "z": 0.0},
            horizon=HORIZON_DEG,
            standing=True,
        )
        return StepResult(skill, ok, err, max(path.steps, 1), path.moves * nav.grid)

    def _interact(self, skill: Skill) -> StepResult:
        args: dict[str, Any] = {"objectId": skill.target}
        if skill.name == "put" and skill.force:
            args["forceAction"] = True
        before = self.metadata
        held = (before.get("inventoryObjects") or [{}])[0].get("objectId")
        ok, err = self.step(_ACTIONS[skill.name], **args)
        if ok:
            self._note_effects(skill, held)
        unchanged = False
        if not ok and skill.name in SWITCHES and self.fault is None:
            # AI2-THOR's words for this failure vary ("already on", "failed to open/close");
            # the object's own flag tells whether it already was as the skill leaves it.
            key, want = SWITCHES[skill.name]
            target = self._objects().get(skill.target or "")
            unchanged = target is not None and target.get(key) is want
        return StepResult(skill, ok, err, 1, unchanged=unchanged)

    def _look_around(self, skill: Skill) -> StepResult:
        """A look at each quarter, starting with the one it faces, and back to that
        heading: four quarter turns."""
        sensed = [self.look()]
        for turn in range(1, 5):
            ok, err = self.step("RotateRight", degrees=90)
            if not ok:
                return StepResult(skill, False, err, turn, sensed=_merge(sensed))
            if turn < 4:
                sensed.append(self.look())
        return StepResult(skill, True, "", 4, 0.0, sensed=_merge(sensed))

    # ------------------------------------------------------------------ ALFRED's macros
    def _near(self, kind: str) -> dict[str, Any] | None:
        """The nearest visible object of ``kind`` within reach."""
        (ax, az), _ = self._agent()
        near = [
            o
            for o in self._objects().values()
            if o["objectType"] == kind
            and o.get("visible")
            and _floor_gap((ax, az), o) <= self.reach_m
        ]
        return min(near, key=lambda o: _floor_gap((ax, az), o)) if near else None

    def _treat(self, skill: Skill) -> StepResult:
        inventory = self.metadata.get("inventoryObjects") or []
        obj = str(inventory[0]["objectId"]) if inventory else None
        if obj is None or obj != skill.target:  # both AI2-THOR's ids (grounded)
            return StepResult(skill, False, f"Agent must be holding {skill.target}")
        place = {"clean": "SinkBasin", "fill": "SinkBasin", "heat": "Microwave", "cool": "Fridge"}[
            skill.name
        ]
        appliance = self._near(place)
        if appliance is None:
            return StepResult(skill, False, f"No visible {place} within reach")
        aid = str(appliance["objectId"])
        if skill.name in ("clean", "fill"):
            # Filling is washing's plan: AI2-THOR fills what is moved under running water.
            faucet = self._faucet_for(appliance, self._objects())
            if faucet is None:
                return StepResult(skill, False, "No Faucet runs into that SinkBasin")
            # A faucet found running is left running (water reaches the thing at once).
            running = bool(self._objects()[faucet].get("isToggled"))
            plan = [
                ("PutObject", aid),
                *([] if running else [("ToggleObjectOn", faucet), ("ToggleObjectOff", faucet)]),
                ("PickupObject", obj),
            ]
        else:
            # A microwave or fridge found open is left open: not opened first, not closed last.
            was_open = bool(appliance.get("isOpen"))
            treat = (
                [("CloseObject", aid), ("ToggleObjectOn", aid), ("ToggleObjectOff", aid)]
                if skill.name == "heat"
                else [("CloseObject", aid)]
            )
            plan = [
                *([] if was_open else [("OpenObject", aid)]),
                ("PutObject", aid),
                *treat,
                ("OpenObject", aid),
                ("PickupObject", obj),
                *([] if was_open else [("CloseObject", aid)]),
            ]
        for n, (action, target) in enumerate(plan, start=1):
            was_held = obj if action == "PutObject" else None
            # Taking the thing back out, and the faucet (which may stand beyond reach or
            # sight of the basin), are forced, as ALFRED's macro actions do not check them.
            forced = action in ("PickupObject", "ToggleObjectOn", "ToggleObjectOff")
            ok, err = self.step(action, objectId=target, forceAction=forced)
            if not ok:
                return StepResult(skill, False, err, n)
            self._note_effects(Skill(_SKILL_OF[action], target), was_held)
        return StepResult(skill, True, "", len(plan))

    def _faucet_for(self, basin: dict[str, Any], objects: dict[str, dict[str, Any]]) -> str | None:
        """The faucet nearest to the basin's footprint (one faucet per sink)."""
        faucets = [o for o in objects.values() if o["objectType"] == "Faucet"]
        if not faucets:
            return None
        best = min(
            faucets,
            key=lambda o: (_floor_gap((_center(o)[0], _center(o)[2]), basin), o["objectId"]),
        )
        return str(best["objectId"])

    def _note_effects(self, skill: Skill, held_before: str | None) -> None:
        """ALFRED's history flags, from what the action did: a thing put in a fridge is
        cooled; what a heat source holds when switched on is heated; what a basin holds
        when its faucet runs is cleaned."""
        objects = self._objects()
        target = objects.get(skill.target or "")
        if target is None:
            return
        kind = target["objectType"]
        if skill.name == "put" and held_before is not None:
            if kind == "Fridge":
                self._flag([held_before], "isCooled")
            elif kind in _HEAT_SOURCES and target.get("isToggled"):
                self._flag([held_before], "isHeated")
            elif kind == "SinkBasin":
                faucet = self._faucet_for(target, objects)
                if faucet is not None and objects[faucet].get("isToggled"):
                    self._flag([held_before], "isCleaned")
        elif skill.name == "toggle_on":
            if kind in _HEAT_SOURCES:
                self._flag(_contents(objects, target), "isHeated")
            elif kind == "StoveKnob":
                for burner in target.get("controlledObjects") or []:
                    if burner in objects:
                        self._flag(_contents(objects, objects[burner]), "isHeated")
            elif kind == "Faucet":
                for basin in objects.values():
                    if (
                        basin["objectType"] == "SinkBasin"
                        and self._faucet_for(basin, objects) == target["objectId"]
                    ):
                        self._flag(_contents(objects, basin), "isCleaned")

    def _flag(self, ids: Iterable[str], flag: str) -> None:
        for oid in ids:
            self.history.setdefault(oid, set()).add(flag)

    # ------------------------------------------------------------------ grounding (rgbd)
    def _ground(self, skill: Skill) -> Skill | StepResult:
        target = skill.target
        if self.sensing == "gt" or target is None or target.startswith("point:"):
            return skill
        objects = self._objects()
        if target in objects:
            return skill
        if self._plan is not None and any(r.room_id == target for r in self._plan.rooms):
            return skill
        known = self._as_thor.get(target)
        if known is not None and known in objects:
            return dataclasses.replace(skill, target=known)
        if skill.label is None or skill.position is None:
            return StepResult(skill, False, f"{target} is unknown to this body and has no label")
        held = {o.get("objectId") for o in self.metadata.get("inventoryObjects") or []}
        best: tuple[float, str] | None = None
        for oid, o in objects.items():
            if o["objectType"] != skill.label or (oid in held and skill.name != "put"):
                continue
            d = math.dist(_center(o), skill.position)
            if d <= max(_size(o)) / 2 + _GROUNDING_SLACK_M and (best is None or d < best[0]):
                best = (d, oid)
        if best is None:
            where = tuple(round(c, 2) for c in skill.position)
            return StepResult(skill, False, f"no {skill.label} found near {where}")
        self._as_memory[best[1]] = target
        self._as_thor[target] = best[1]
        return dataclasses.replace(skill, target=best[1])

    # ------------------------------------------------------------------ sensing
    def look(self) -> Sensed:
        if self.sensing == "gt":
            return Sensed(observations=tuple(self._gt()), view=self._view())
        frame = self._frame()
        return Sensed(frames=(frame,) if frame is not None else ())

    def _gt(self) -> list[ObjectObservation]:
        out = []
        for oid, o in sorted(self._objects().items()):
            if not o.get("visible"):
                continue
            parents = o.get("parentReceptacles") or []
            center = _center(o)
            out.append(
                ObjectObservation(
                    label=str(o["objectType"]),
                    position=center,
                    box=Box3D(center, _size(o)),
                    state=self._state(o),
                    timestamp=self.clock,
                    object_id=oid,
                    parent_id=str(parents[0]) if parents else None,
                    layer=Layer.OBJECT if o.get("pickupable") else Layer.RECEPTACLE,
                    name=str(o.get("name") or oid),
                )
            )
        return out

    def _state(self, o: dict[str, Any]) -> dict[str, StateValue]:
        s: dict[str, StateValue] = {"temperature": str(o.get("temperature", "RoomTemp"))}
        for flag, key in (
            ("openable", "isOpen"),
            ("toggleable", "isToggled"),
            ("sliceable", "isSliced"),
            ("cookable", "isCooked"),
            ("dirtyable", "isDirty"),
        ):
            if o.get(flag):
                s[key] = bool(o.get(key))
        if o.get("pickupable") or o.get("dirtyable"):
            earned = self.history.get(o["objectId"], set())
            for key in ("isCleaned", "isHeated", "isCooled"):
                s[key] = key in earned
        if o.get("canFillWithLiquid"):
            s["isFilledWithLiquid"] = bool(o.get("isFilledWithLiquid"))
        if o.get("breakable"):
            s["isBroken"] = bool(o.get("isBroken"))
        if o["objectType"] == "StoveBurner":
            # Switched by its knob, not toggleable itself; its flame is still seen.
            s["isToggled"] = bool(o.get("isToggled"))
        return s

    def _view(self) -> ViewVolume:
        (x, z), yaw_deg = self._agent()
        cam = self.metadata.get("cameraPosition") or self.metadata["agent"]["position"]
        yaw = math.radians(yaw_deg)
        return ViewVolume(
            origin=(x, float(cam["y"]), z),
            forward=(math.sin(yaw), -0.4, math.cos(yaw)),
            half_fov_deg=35.0,
            max_range_m=1.2,
        )

    def _frame(self) -> RGBDFrame | None:
        event = self.controller.last_event
        depth = event.depth_frame
        if depth is None:
            return None
        meta = event.metadata
        height, width = depth.shape
        fov = float(meta.get("fov", 90.0))
        cam = _xyz(meta.get("cameraPosition") or meta["agent"]["position"])
        pose = ai2thor_camera_pose(
            cam, float(meta["agent"]["rotation"]["y"]), float(meta["agent"]["cameraHorizon"])
        )
        depth_m = np.asarray(depth, dtype=np.float32)
        depth_m = np.where(np.isfinite(depth_m) & (depth_m > 0), depth_m, np.nan)
        instance = np.full((height, width), -1, dtype=np.int32)
        labels: list[str] = []
        types = {oid: str(o["objectType"]) for oid, o in self._objects().items()}
        for oid, mask in (event.instance_masks or {}).items():
            label = types.get(oid)
            if label is None:
                continue  # walls, floor: no object
            instance[mask] = len(labels)
            labels.append(label)
        return RGBDFrame(
            depth=depth_m.astype(np.float32),
            intrinsics=PinholeIntrinsics.from_fov(width, height, fov),
            world_from_camera=pose,
            t=self.clock,
            instance=instance,
            labels=tuple(labels),
            rgb=np.asarray(event.frame, dtype=np.uint8) if event.frame is not None else None,
        )


_SKILL_OF = {
    "PutObject": "put",
    "ToggleObjectOn": "toggle_on",
    "ToggleObjectOff": "toggle_off",
    "PickupObject": "pickup",
    "OpenObject": "open",
    "CloseObject": "close",
}


def _floor_gap(xz: tuple[float, float], o: dict[str, Any]) -> float:
    """Floor distance from a point to an object's footprint."""
    cx, _cy, cz = _center(o)
    sx, _sy, sz = _size(o)
    return footprint_gap(xz, (cx, cz), (sx / 2, sz / 2))


def _contents(objects: dict[str, dict[str, Any]], receptacle: dict[str, Any]) -> list[str]:
    """What a receptacle holds, and what those hold."""
    out, stack = [], list(receptacle.get("receptacleObjectIds") or [])
    while stack:
        oid = stack.pop()
        if oid in out or oid not in objects:
            continue
        out.append(oid)
        stack.extend(objects[oid].get("receptacleObjectIds") or [])
    return out


def _merge(sensed: list[Sensed]) -> Sensed:
    """Several looks as one: each object once (its last observation, in id order, as one
    glance that saw them all), frames in the order taken, and the last view."""
    latest = {o.object_id: o for s in sensed for o in s.observations}
    return Sensed(
        observations=tuple(latest[k] for k in sorted(latest, key=str)),
        frames=tuple(f for s in sensed for f in s.frames),
        view=sensed[-1].view if sensed else None,
    )
