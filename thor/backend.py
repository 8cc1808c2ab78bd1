"""The built-in simulator behind AI2-THOR's action vocabulary (``loci thor-backend``).

:class:`ThorBackend` answers one AI2-THOR action at a time with AI2-THOR 5.0's metadata
and frames, computed by the built-in :class:`~sim.world.World` and renderer: what
``ai2thor.controller.Controller`` expects from its Unity process, so AI2-THOR code runs
on a CPU box without Unity. The pipes are :mod:`thor.serve`'s concern.

What is modelled is what the built-in simulator models: agent moves and turns on the
reachable grid, the interaction actions with AI2-THOR's preconditions and error texts,
object poses, toggles, reachable positions, RGB, depth and instance segmentation. Physics,
object collisions along a move, arms and third-party cameras are not; an action outside
the vocabulary is answered as Unity answers an unknown one (``errorCode`` InvalidAction),
never with silence.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from embodiment.skills import Skill, StepResult
from sim.errors import SimError
from sim.registry import SceneRegistry
from sim.render import render
from sim.world import SimConfig, SimObject, World
from thor.protocol import FieldType, image_bytes
from thor.scenes import build_scene_name, scene_of

__all__ = ["Reply", "ThorBackend"]

log = logging.getLogger(__name__)

_LIQUIDS = ("water", "coffee", "wine")
CAMERA_NEAR_M = 0.1
CAMERA_FAR_M = 20.0
DEFAULT_SIZE = 300
"""Unity's window when the controller gives no size (headless runs)."""
_HORIZON_LIMITS = (-30.0, 60.0)
"""AI2-THOR's default agent looks at most 30 degrees up and 60 down."""
_CEILING_M = 2.6


@dataclass(frozen=True, slots=True)
class Reply:
    metadata: dict[str, Any]
    images: list[tuple[FieldType, bytes]]


class _ActionError(Exception):
    def __init__(self, message: str, code: str = "") -> None:
        super().__init__(message)
        self.code = code


def _num(action: dict[str, Any], key: str, default: float | None = None) -> float:
    value = action.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        if value is None:
            raise _ActionError(f"{action['action']} needs {key}", "MissingArguments")
        raise _ActionError(f"{key} must be a finite number, got {value!r}", "InvalidArgument")
    return float(value)


def _xyz(value: Any, name: str) -> tuple[float, float, float]:
    if not isinstance(value, dict):
        raise _ActionError(f"{name} must be an object with x, y, z", "InvalidArgument")
    return (_num(value, "x", 0.0), _num(value, "y", 0.0), _num(value, "z", 0.0))


class ThorBackend:
    """One AI2-THOR agent on the built-in simulator."""

    def __init__(
        self, registry: SceneRegistry, width: int = DEFAULT_SIZE, height: int = DEFAULT_SIZE
    ) -> None:
        self.registry = registry
        self.width, self.height = width, height
        self.world: World | None = None
        self.scene = ""
        self.horizon = 0.0
        self.params: dict[str, Any] = {}
        """Initialize's parameters (renderDepthImage, visibilityDistance...)."""
        self._colors: dict[str, tuple[int, int, int]] = {}
        self.actions = 0
        """Actions answered (AI2-THOR's currentTime stands in for it)."""
        self._handlers: dict[str, Callable[[dict[str, Any]], Any]] = {
            "Initialize": self._initialize,
            "Reset": self._reset,
            "GetScenesInBuild": lambda _a: [build_scene_name(n) for n in self.registry.names()],
            "ChangeResolution": self._change_resolution,
            "Pass": lambda _a: None,
            "Done": lambda _a: None,
            "MoveAhead": lambda a: self._move(a, 0.0),
            "MoveRight": lambda a: self._move(a, 90.0),
            "MoveBack": lambda a: self._move(a, 180.0),
            "MoveLeft": lambda a: self._move(a, 270.0),
            "RotateRight": lambda a: self._rotate(a, 1.0),
            "RotateLeft": lambda a: self._rotate(a, -1.0),
            "LookDown": lambda a: self._look(a, 1.0),
            "LookUp": lambda a: self._look(a, -1.0),
            "Teleport": self._teleport,
            "TeleportFull": self._teleport,
            "GetReachablePositions": self._reachable,
            "SetObjectPoses": self._set_object_poses,
            "SetObjectToggles": self._set_object_toggles,
            "PickupObject": lambda a: self._skill(a, "pickup"),
            "PutObject": lambda a: self._skill(a, "put"),
            "OpenObject": self._open,
            "CloseObject": lambda a: self._skill(a, "close"),
            "ToggleObjectOn": lambda a: self._skill(a, "toggle_on"),
            "ToggleObjectOff": lambda a: self._skill(a, "toggle_off"),
            "SliceObject": lambda a: self._skill(a, "slice"),
            "DropHandObject": lambda a: self._skill(a, "drop"),
            "CleanObject": lambda a: self._set_dirty(a, False),
            "DirtyObject": lambda a: self._set_dirty(a, True),
            "BreakObject": lambda a: self._skill(a, "break"),
            "FillObjectWithLiquid": lambda a: self._set_liquid(a, fill=True),
            "EmptyLiquidFromObject": lambda a: self._set_liquid(a, fill=False),
        }

    # ------------------------------------------------------------------ the one entry point
    def handle(self, action: dict[str, Any]) -> Reply:
        """Answer one action (its ``sequenceId`` already taken off). Never raises for
        what the action asks: a bad action is a failed reply with AI2-THOR's error."""
        name = str(action.get("action", ""))
        self.actions += 1
        handler = self._handlers.get(name)
        success, message, code, value = True, "", "", None
        if handler is None:
            success, message, code = False, f"Invalid action: {name}", "InvalidAction"
        elif self.world is None and name not in ("Initialize", "Reset", "GetScenesInBuild"):
            if name not in ("ChangeResolution", "Pass", "Done"):
                success, message = False, f"{name} needs a scene: send Reset first"
            else:
                value = handler(action)
        else:
            try:
                value = handler(action)
            except _ActionError as exc:
                success, message, code = False, str(exc), exc.code
            except (SimError, KeyError, TypeError, ValueError) as exc:
                log.warning("%s failed in the simulator: %s", name, exc)
                success, message = False, f"{name} failed: {type(exc).__name__}: {exc}"
        if isinstance(value, StepResult):
            success, message, value = value.success, value.error_message, None
        render_image = action.get("renderImage", True) is not False
        return self._reply(name, success, message, code, value, render_image)

    def ready(self) -> Reply:
        """What Unity sends once it is up, before any action."""
        return self._reply("", True, "", "", None, render_image=False)

    # ------------------------------------------------------------------ scene and settings
    def _initialize(self, action: dict[str, Any]) -> dict[str, float]:
        params = {k: v for k, v in action.items() if k != "action"}
        grid = params.get("gridSize")
        if grid is not None and self.world is not None and grid != self.world.spec.grid_size:
            raise _ActionError(
                f"gridSize {grid} is not this scene's grid ({self.world.spec.grid_size} m)",
                "InvalidArgument",
            )
        self.params = {**self.params, **params}
        if self.world is not None:
            self._load(self.scene)
        return {"cameraNearPlane": CAMERA_NEAR_M, "cameraFarPlane": CAMERA_FAR_M}

    def _config(self) -> SimConfig:
        p = self.params
        return SimConfig(
            visibility_distance_m=float(p.get("visibilityDistance", 1.5)),
            field_of_view_deg=float(p.get("fieldOfView", 90.0)),
        )

    def _reset(self, action: dict[str, Any]) -> None:
        name = scene_of(str(action.get("sceneName") or ""))
        try:
            self.registry.load(name)
        except SimError as exc:
            raise _ActionError(str(exc), "InvalidArgument") from exc
        self._load(name)

    def _load(self, name: str) -> None:
        self.world = World(self.registry.load(name), self.registry.affordances, self._config())
        self.scene = name
        self.horizon = 0.0
        self._colors = {}

    def _change_resolution(self, action: dict[str, Any]) -> None:
        x, y = int(_num(action, "x")), int(_num(action, "y"))
        if not (0 < x <= 4096 and 0 < y <= 4096):
            raise _ActionError(f"resolution {x}x{y} is out of range", "InvalidArgument")
        self.width, self.height = x, y

    # ------------------------------------------------------------------ the agent
    def _w(self) -> World:
        assert self.world is not None
        return self.world

    def _move(self, action: dict[str, Any], relative_deg: float) -> None:
        w = self._w()
        step = _num(action, "moveMagnitude", w.spec.grid_size)
        yaw = math.radians(w.agent_yaw + relative_deg)
        dx, dz = step * math.sin(yaw), step * math.cos(yaw)
        target = (w.agent_xz[0] + dx, w.agent_xz[1] + dz)
        if target not in w.nav or w.nav.key(target) == w.nav.key(w.agent_xz):
            raise _ActionError(
                f"Wall is blocking Agent 0 from moving by ({dx:.4f}, 0.0000, {dz:.4f})."
            )
        w.move_agent(target, w.agent_yaw)

    def _rotate(self, action: dict[str, Any], sign: float) -> None:
        w = self._w()
        w.move_agent(w.agent_xz, w.agent_yaw + sign * _num(action, "degrees", 90.0))

    def _look(self, action: dict[str, Any], sign: float) -> None:
        horizon = self.horizon + sign * _num(action, "degrees", 30.0)
        lo, hi = _HORIZON_LIMITS
        if not lo <= horizon <= hi:
            raise _ActionError(f"can't look beyond {hi if sign > 0 else lo} degrees")
        self.horizon = horizon

    def _teleport(self, action: dict[str, Any]) -> None:
        w = self._w()
        if "position" in action:
            x, _y, z = _xyz(action["position"], "position")
        else:
            x, z = _num(action, "x", w.agent_xz[0]), _num(action, "z", w.agent_xz[1])
        rotation = action.get("rotation")
        if isinstance(rotation, dict):
            yaw = _num(rotation, "y", w.agent_yaw)
        elif rotation is None:
            yaw = w.agent_yaw
        else:
            yaw = _num(action, "rotation")
        if "horizon" in action:
            self.horizon = _num(action, "horizon")
        # The nearest reachable cell, as the built-in world places an episode's agent
        # (real AI2-THOR refuses a position off its grid).
        cell = w.nav.snap((x, z))
        w.move_agent(cell, yaw)

    def _reachable(self, _action: dict[str, Any]) -> list[dict[str, float]]:
        w = self._w()
        y = w.spec.agent_height
        return [{"x": x, "y": y, "z": z} for x, z in sorted(w.spec.reachable)]

    # ------------------------------------------------------------------ objects
    def _set_object_poses(self, action: dict[str, Any]) -> None:
        poses = action.get("objectPoses")
        if not isinstance(poses, list):
            code = "MissingArguments" if poses is None else "InvalidArgument"
            raise _ActionError("SetObjectPoses needs objectPoses (a list)", code)
        for pose in poses:
            if not isinstance(pose, dict) or not isinstance(pose.get("objectName"), str):
                raise _ActionError("every object pose needs an objectName", "InvalidArgument")
            _xyz(pose.get("position"), "position")
        self._w().set_object_poses(poses)

    def _set_object_toggles(self, action: dict[str, Any]) -> None:
        toggles = action.get("objectToggles")
        if not isinstance(toggles, list) or not all(
            isinstance(t, dict) and isinstance(t.get("objectType"), str) and "isOn" in t
            for t in toggles
        ):
            raise _ActionError(
                "SetObjectToggles needs objectToggles: [{objectType, isOn}]", "InvalidArgument"
            )
        self._w().set_toggles(toggles)

    def _skill(self, action: dict[str, Any], skill: str) -> StepResult:
        target = action.get("objectId")
        if skill != "drop" and not isinstance(target, str):
            raise _ActionError(f"{action['action']} needs an objectId", "MissingArguments")
        force = bool(action.get("forceAction", False))
        return self._w().step(Skill(skill, target if skill != "drop" else None, force=force))

    def _open(self, action: dict[str, Any]) -> StepResult:
        result = self._skill(action, "open")
        openness = action.get("openness")
        if result.success and openness is not None:
            value = _num(action, "openness")
            if not 0.0 < value <= 1.0:
                raise _ActionError("openness must be in (0, 1]", "InvalidArgument")
            self._w().objects[str(action["objectId"])].openness = value
        return result

    def _object(self, action: dict[str, Any]) -> SimObject:
        w = self._w()
        target = action.get("objectId")
        if not isinstance(target, str) or target not in w.objects:
            raise _ActionError(
                f"objectId: {target} is not the objectId on any object in the scene!",
                "InvalidArgument",
            )
        return w.objects[target]

    def _set_liquid(self, action: dict[str, Any], fill: bool) -> None:
        """AI2-THOR's FillObjectWithLiquid (``fillLiquid``: water, coffee or wine) and
        EmptyLiquidFromObject."""
        o = self._object(action)
        if not o.fillable:
            raise _ActionError(f"{o.object_id} cannot be filled with liquid")
        if fill:
            liquid = action.get("fillLiquid")
            if liquid not in _LIQUIDS:
                raise _ActionError(
                    f"fillLiquid must be one of {', '.join(_LIQUIDS)}", "InvalidArgument"
                )
            o.is_filled, o.fill_liquid = True, str(liquid)
        else:
            if not o.is_filled:
                raise _ActionError(f"{o.object_id} is not filled with liquid")
            o.is_filled, o.fill_liquid = False, None

    def _set_dirty(self, action: dict[str, Any], dirty: bool) -> None:
        o = self._object(action)
        target = o.object_id
        if not o.dirtyable:
            raise _ActionError(f"{target} is not dirtyable")
        o.is_dirty = dirty
        if not dirty:
            o.is_cleaned = True

    # ------------------------------------------------------------------ replies
    def _color(self, instance: str) -> tuple[int, int, int]:
        """A colour of its own for every instance, stable over the episode (as Unity's)."""
        if instance not in self._colors:
            n = len(self._colors) + 1
            # Spread over the cube so neighbours in the list do not look alike.
            k = (n * 2654435761) & 0xFFFFFF or n
            self._colors[instance] = ((k >> 16) & 255, (k >> 8) & 255, k & 255)
        return self._colors[instance]

    def _reply(
        self,
        name: str,
        success: bool,
        message: str,
        code: str,
        value: Any,
        render_image: bool,
    ) -> Reply:
        if self.world is None:
            meta: dict[str, Any] = {"sceneName": "", "objects": [], "inventoryObjects": []}
            meta["agent"] = {
                "name": "agent",
                "position": {"x": 0.0, "y": 0.0, "z": 0.0},
                "rotation": {"x": 0.0, "y": 0.0, "z": 0.0},
                "cameraHorizon": 0.0,
                "isStanding": True,
            }
            meta["cameraPosition"] = {"x": 0.0, "y": 0.0, "z": 0.0}
        else:
            w = self.world
            w.last_error = message if not success else ""
            meta = w.metadata()
            meta["sceneName"] = build_scene_name(self.scene)
            meta["agent"]["cameraHorizon"] = self.horizon
            meta["cameraPosition"] = {
                "x": w.agent_xz[0],
                "y": w.spec.agent_height + w.config.camera_height_m,
                "z": w.agent_xz[1],
            }
        meta.update(
            {
                "screenWidth": self.width,
                "screenHeight": self.height,
                "thirdPartyCameras": [],
                "lastAction": name,
                "lastActionSuccess": success,
                "errorMessage": message,
                "errorCode": code,
                "actionReturn": value,
                "depthFormat": "Meters",
                "isSceneAtRest": True,
                "collided": False,
                "colors": [],
                "colorBounds": None,
                "currentTime": float(self.actions),
                # What Unity sends for the features nothing here models.
                "actionFloatReturn": 0.0,
                "actionFloatsReturn": [],
                "actionIntReturn": 0,
                "actionStringsReturn": [],
                "actionVector3sReturn": [],
                "agentId": 0,
                "arm": None,
                "cameraOrthSize": -1.0,
                "collidedObjects": [],
                "distances": [],
                "flatSurfacesOnGrid": [],
                "isOpenableGrid": [],
                "normals": [],
                "objectIdsInBox": [],
                "segmentedObjectIds": [],
                **self._bounds(meta),
            }
        )
        images: list[tuple[FieldType, bytes]] = []
        if self.world is not None and render_image:
            images = self._frames(meta)
        return Reply(meta, images)

    def _bounds(self, meta: dict[str, Any]) -> dict[str, Any]:
        """sceneBounds (the rooms' extent, floor to ceiling) and heldObjectPose (where a
        held thing is carried)."""
        agent = meta["agent"]
        carry = agent["position"]
        if self.world is not None and self.world.held is not None:
            held = self.world.objects[self.world.held]
            carry = {"x": held.position[0], "y": held.position[1], "z": held.position[2]}
        pose = {
            "position": carry,
            "rotation": agent["rotation"],
            "localPosition": {"x": 0.0, "y": -0.16, "z": 0.38},
            "localRotation": {"x": 0.0, "y": 0.0, "z": 0.0},
        }
        points = [p for r in self.world.spec.rooms for p in r.polygon] if self.world else []
        if not points:
            return {"heldObjectPose": pose, "sceneBounds": None}
        xs, zs = [p[0] for p in points], [p[1] for p in points]
        lo, hi = (min(xs), -0.1, min(zs)), (max(xs), _CEILING_M, max(zs))
        corners = [
            [x, y, z] for x in (hi[0], lo[0]) for y in (hi[1], lo[1]) for z in (hi[2], lo[2])
        ]
        bounds = {
            "cornerPoints": corners,
            "center": {k: (a + b) / 2 for k, a, b in zip("xyz", lo, hi, strict=True)},
            "size": {k: b - a for k, a, b in zip("xyz", lo, hi, strict=True)},
        }
        return {"heldObjectPose": pose, "sceneBounds": bounds}

    def _frames(self, meta: dict[str, Any]) -> list[tuple[FieldType, bytes]]:
        w = self._w()
        frame = render(w, self.width, self.height, horizon_deg=self.horizon)
        out = [(FieldType.RGB_IMAGE, image_bytes(frame.rgb))]
        if self.params.get("renderDepthImage"):
            out.append((FieldType.DEPTH_IMAGE, image_bytes(frame.depth.astype(np.float32))))
        if self.params.get("renderInstanceSegmentation"):
            palette = np.zeros((len(frame.instance_ids) + 1, 4), dtype=np.uint8)
            palette[:, 3] = 255
            colors = []
            for i, instance in enumerate(frame.instance_ids):
                rgb = self._color(instance)
                palette[i + 1, :3] = rgb
                colors.append({"name": instance, "color": list(rgb)})
            out.append((FieldType.IDS_IMAGE, image_bytes(palette[frame.instance + 1])))
            meta["colors"] = colors
        return out
