"""The Habitat body: the closed loop acting and sensing through habitat-sim.

habitat-sim is imported only here, when a body is made: it has no wheel for this
platform on PyPI (users install it as Habitat documents), and without it making a body is
a :class:`HabitatUnavailableError` saying so.

- **World**: habitat-sim's own frame, kept as it is (y up; :mod:`hsim.convert`).
- **Navigation**: a shortest path on the navmesh (``PathFinder.find_path``), walked by
  setting the agent's state at each of its points; the steps counted are the path's
  length over ``step_m`` plus the turns. ``navigate`` takes a floor point
  (``point:x,z``, snapped to the navmesh) or a thing (memory's belief of where it is: the
  body stands at the navigable point nearest to it and faces it). Rooms: no floor plan.
- **Sensing**: RGB-D + semantic frames through ``perception`` (the loop's rgbd sensing);
  semantic ids are named by the labels of the objects this body placed and, where the
  scene has semantic annotations, their categories.
- **Objects**: the rigid objects this body placed (:class:`PlacedObject`): ``pickup``
  takes one within ``reach_m`` out of the scene, ``put`` sets it on top of another,
  ``drop`` on the floor in front. habitat-sim's rigid objects have no open/closed, on/off,
  sliced, dirty, filled or broken state: ``open``, ``close``, ``toggle_on``,
  ``toggle_off``, ``slice``, ``clean``, ``heat``, ``cool``, ``fill``, ``empty`` and
  ``break`` fail, saying so.
- **Map**: the navmesh's top-down navigable cells at the agent's height.

Memory's ids are not habitat-sim's: a skill's target is grounded by its label and the
position memory believes (the placed object of that label nearest to it).
"""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from numpy.typing import NDArray

from embodiment.body import BodyState, FloorPlan, RGBDFrame, Sensed
from embodiment.grid import FREE, OCCUPIED, OccupancyGrid
from embodiment.skills import Skill, StepResult
from hsim.convert import agent_pose, forward
from hsim.errors import HabitatDataError, HabitatUnavailableError
from hsim.observations import HabitatCamera, frame_from_observations

__all__ = ["HabitatBody", "HabitatBodyConfig", "PlacedObject", "habitat_sim_module"]

log = logging.getLogger(__name__)

_NO_STATE = {
    "open": "open or closed",
    "close": "open or closed",
    "toggle_on": "on or off",
    "toggle_off": "on or off",
    "slice": "sliced",
    "clean": "clean or dirty",
    "heat": "hot or cold",
    "cool": "hot or cold",
    "fill": "filled",
    "empty": "filled",
    "break": "broken",
}
"""Skills habitat-sim's rigid objects cannot do, and the state they lack."""


def habitat_sim_module() -> Any:
    """habitat_sim, or a clear error where it is not installed."""
    try:
        import habitat_sim
    except ImportError as exc:
        raise HabitatUnavailableError(
            "the habitat body needs habitat-sim, which has no wheel for this platform on "
            "PyPI: install it as Habitat documents (conda, or built from its sources) "
            f"({exc})"
        ) from exc
    return habitat_sim


@dataclass(frozen=True, slots=True)
class HabitatBodyConfig:
    camera: HabitatCamera = field(default_factory=lambda: HabitatCamera(320, 240, 90.0))
    reach_m: float = 1.5
    """Floor distance within which a thing can be picked up or put on."""
    step_m: float = 0.25
    """habitat-lab's forward step: how a path's length is counted in steps."""
    turn_deg: float = 30.0
    """habitat-lab's turn: how a change of heading is counted in steps."""
    look_headings: int = 4
    """Headings ``look_around`` senses from (evenly spaced)."""
    map_resolution_m: float = 0.1
    agent_radius_m: float = 0.1
    agent_height_m: float = 1.5
    gpu_device_id: int = -1
    """-1 renders on the CPU (Mesa llvmpipe where there is no GPU)."""


@dataclass(frozen=True, slots=True)
class PlacedObject:
    """A rigid object the body adds to the scene: an object config (``*.object_config.json``)
    or an asset habitat-sim loads, with the label perception will see it under."""

    template: str
    label: str
    position: tuple[float, float, float]
    semantic_id: int


@dataclass
class _Thing:
    label: str
    template_id: int
    semantic_id: int
    object_id: int | None
    """habitat-sim's id while in the scene; None while held."""
    position: tuple[float, float, float] = (0.0, 0.0, 0.0)
    size: tuple[float, float, float] = (0.0, 0.0, 0.0)


class HabitatBody:
    """A :class:`embodiment.Body` on a habitat-sim simulator (see the module doc)."""

    def __init__(
        self,
        sim: Any,
        config: HabitatBodyConfig | None = None,
        labels: Mapping[int, str] | None = None,
    ) -> None:
        self.hs = habitat_sim_module()
        self.sim = sim
        self.config = config or HabitatBodyConfig()
        self._scene_labels = dict(labels or {})
        self._things: dict[int, _Thing] = {}  # by semantic id
        self._held: int | None = None
        self.t = 0.0

    # ------------------------------------------------------------------ making one
    @classmethod
    def open(
        cls,
        scene: str | Path,
        config: HabitatBodyConfig | None = None,
        objects: Sequence[PlacedObject] = (),
        start: tuple[Sequence[float], Sequence[float]] | None = None,
    ) -> HabitatBody:
        """A simulator on ``scene`` with this body's camera, ``objects`` placed, the
        navmesh made with them as obstacles, the agent at ``start`` (position and
        ``[x, y, z, w]`` rotation) or at a navigable point."""
        hs = habitat_sim_module()
        import magnum as mn

        cfg = config or HabitatBodyConfig()
        path = Path(scene)
        if not path.is_file():
            raise HabitatDataError(f"no scene file {path}")
        backend = hs.SimulatorConfiguration()
        backend.scene_id = str(path)
        backend.gpu_device_id = cfg.gpu_device_id
        backend.enable_physics = False
        cam = cfg.camera
        specs = []
        for uuid, kind in (
            ("color_sensor", hs.SensorType.COLOR),
            ("depth_sensor", hs.SensorType.DEPTH),
            ("semantic_sensor", hs.SensorType.SEMANTIC),
        ):
            spec = hs.CameraSensorSpec()
            spec.uuid = uuid
            spec.sensor_type = kind
            spec.resolution = [cam.height, cam.width]
            spec.position = mn.Vector3(*cam.position)  # a list is refused at run time
            spec.hfov = mn.Deg(cam.hfov_deg)
            specs.append(spec)
        agent = hs.agent.AgentConfiguration()
        agent.sensor_specifications = specs
        agent.radius = cfg.agent_radius_m
        agent.height = cfg.agent_height_m
        sim = hs.Simulator(hs.Configuration(backend, [agent]))
        labels: dict[int, str] = {}
        semantic = getattr(sim, "semantic_scene", None)
        for obj in getattr(semantic, "objects", None) or []:
            if obj is None or obj.category is None:
                continue
            try:
                labels[int(obj.semantic_id)] = str(obj.category.name())
            except (AttributeError, TypeError, ValueError):
                continue
        body = cls(sim, cfg, labels)
        for placed in objects:
            body._place(placed)
        settings = hs.NavMeshSettings()
        settings.set_defaults()
        settings.agent_radius = cfg.agent_radius_m
        settings.agent_height = cfg.agent_height_m
        settings.include_static_objects = True
        if not sim.recompute_navmesh(sim.pathfinder, settings):
            raise HabitatDataError(f"habitat-sim could not make a navmesh for {path}")
        if start is not None:
            body.teleport(start[0], start[1])
        else:
            body.teleport(body.random_point(), (0.0, 0.0, 0.0, 1.0))
        return body

    def floor_island(self) -> int:
        """The navmesh island with the largest area: the floor (tables and shelves make
        small islands of their own, unreachable from it)."""
        pf = self.sim.pathfinder
        return max(range(pf.num_islands), key=pf.island_area)

    def random_point(self) -> NDArray[np.float64]:
        """A random navigable point on the floor island (``pathfinder.seed`` seeds it)."""
        point = self.sim.pathfinder.get_random_navigable_point(island_index=self.floor_island())
        return np.asarray(point, dtype=np.float64)

    def close(self) -> None:
        self.sim.close()

    def _place(self, placed: PlacedObject) -> None:
        import magnum as mn

        if placed.semantic_id in self._things or placed.semantic_id <= 0:
            raise HabitatDataError(
                f"semantic id {placed.semantic_id} of {placed.label} is taken or not > 0"
            )
        templates = self.sim.get_object_template_manager()
        ids = templates.load_configs(placed.template)
        if not ids:
            raise HabitatDataError(f"habitat-sim loaded no object from {placed.template}")
        thing = _Thing(placed.label, int(ids[0]), placed.semantic_id, None)
        self._things[placed.semantic_id] = thing
        self._add(thing, mn.Vector3(*placed.position))

    def _add(self, thing: _Thing, where: Any) -> None:
        manager = self.sim.get_rigid_object_manager()
        obj = manager.add_object_by_template_id(thing.template_id)
        if obj is None:
            raise HabitatDataError(f"habitat-sim could not add {thing.label}")
        # Placed first: a static object does not move afterwards.
        obj.translation = where
        obj.motion_type = self.hs.physics.MotionType.STATIC
        obj.semantic_id = thing.semantic_id
        thing.object_id = int(obj.object_id)
        bb = obj.root_scene_node.cumulative_bb
        thing.size = (float(bb.size_x()), float(bb.size_y()), float(bb.size_z()))
        c = bb.center()
        thing.position = (
            float(where[0] + c[0]),
            float(where[1] + c[1]),
            float(where[2] + c[2]),
        )

    def _remove(self, thing: _Thing) -> None:
        if thing.object_id is not None:
            self.sim.get_rigid_object_manager().remove_object_by_id(thing.object_id)
            thing.object_id = None

    # ------------------------------------------------------------------ the Body protocol
    @property
    def up_axis(self) -> str:
        return "y"

    def _agent_state(self) -> tuple[list[float], list[float]]:
        state = self.sim.get_agent(0).get_state()
        q = self.hs.utils.common.quat_to_coeffs(state.rotation)
        return [float(v) for v in state.position], [float(v) for v in q]

    def state(self) -> BodyState:
        position, rotation = self._agent_state()
        held = self._things.get(self._held) if self._held is not None else None
        return BodyState(
            pose=agent_pose(position, rotation),
            held=self._held_id() if held is not None else None,
            held_label=held.label if held is not None else None,
            up_axis="y",
        )

    def _held_id(self) -> str:
        thing = self._things[self._held]  # type: ignore[index]
        return f"{thing.label}_{thing.semantic_id}"

    def teleport(
        self, position: Sequence[float] | npt.NDArray[Any], rotation: Sequence[float]
    ) -> None:
        """Stand at ``position`` (snapped to the navmesh) facing ``rotation``."""
        agent = self.sim.get_agent(0)
        state = agent.get_state()
        snapped = self.sim.pathfinder.snap_point(np.asarray(position, dtype=np.float32))
        if not np.all(np.isfinite(snapped)):
            raise HabitatDataError(f"no navigable point near {list(position)}")
        state.position = np.asarray(snapped, dtype=np.float32)
        state.rotation = self.hs.utils.common.quat_from_coeffs(np.asarray(rotation))
        agent.set_state(state)

    def look(self) -> Sensed:
        return Sensed(frames=(self._frame(),))

    def _frame(self) -> RGBDFrame:
        obs = self.sim.get_sensor_observations()
        position, rotation = self._agent_state()
        return frame_from_observations(
            obs, position, rotation, self.config.camera, labels=self._labels(), t=self.t
        )

    def _labels(self) -> dict[int, str]:
        out = dict(self._scene_labels)
        out.update({sid: t.label for sid, t in self._things.items() if t.object_id is not None})
        return out

    def occupancy(self) -> OccupancyGrid:
        res = self.config.map_resolution_m
        lower, _upper = self.sim.pathfinder.get_bounds()
        height = self._agent_state()[0][1]
        view = np.asarray(self.sim.pathfinder.get_topdown_view(res, height), dtype=bool)
        if view.size == 0 or not view.any():
            raise HabitatDataError("the navmesh has no navigable cell at the agent's height")
        data = np.where(view, FREE, OCCUPIED).astype(np.int8)
        # Rows run along z, columns along x, from the navmesh bounds' lower corner.
        return OccupancyGrid(res, (float(lower[0]), float(lower[2])), data, "y")

    def floor_plan(self) -> FloorPlan | None:
        return None

    # ------------------------------------------------------------------ skills
    def execute(self, skill: Skill) -> StepResult:
        self.t += 1.0
        try:
            if skill.name == "navigate":
                return self._navigate(skill)
            if skill.name == "look_around":
                return self._look_around(skill)
            if skill.name == "pickup":
                return self._pickup(skill)
            if skill.name == "put":
                return self._put(skill)
            if skill.name == "drop":
                return self._drop(skill)
            if skill.name in _NO_STATE:
                return StepResult(
                    skill,
                    False,
                    f"habitat-sim's rigid objects are never {_NO_STATE[skill.name]}: this "
                    f"body cannot {skill.name}",
                )
            return StepResult(skill, False, f"unknown skill {skill.name!r}")
        except HabitatDataError as exc:
            return StepResult(skill, False, str(exc))

    def _done(
        self, skill: Skill, ok: bool, why: str = "", steps: int = 0, dist: float = 0.0
    ) -> StepResult:
        return StepResult(skill, ok, why, steps, dist, sensed=self.look())

    def _ground(self, skill: Skill) -> _Thing | None:
        """The placed thing a skill means: memory's label and belief of where it is."""
        if skill.label is None or skill.position is None:
            return None
        same = [
            t for t in self._things.values() if t.label == skill.label and t.object_id is not None
        ]
        if not same:
            return None
        return min(same, key=lambda t: math.dist(t.position, skill.position))  # type: ignore[arg-type]

    def _navigate(self, skill: Skill) -> StepResult:
        target = skill.target or ""
        face: tuple[float, float] | None = None
        if target.startswith("point:"):
            try:
                x, z = (float(v) for v in target.removeprefix("point:").split(","))
            except ValueError:
                return StepResult(skill, False, f"bad point {target!r}: want point:x,z")
            goal = [x, self._agent_state()[0][1], z]
            if skill.position is not None:
                face = (skill.position[0], skill.position[2])
        elif skill.position is not None:
            goal = list(skill.position)
            face = (skill.position[0], skill.position[2])
        else:
            return StepResult(skill, False, f"nowhere to go: {target!r} has no position")
        return self._walk(skill, goal, face)

    def _walk(
        self, skill: Skill, goal: Sequence[float], face: tuple[float, float] | None
    ) -> StepResult:
        hs = self.hs
        start, rotation = self._agent_state()
        end = self.sim.pathfinder.snap_point(np.asarray(goal, dtype=np.float32))
        if not np.all(np.isfinite(end)):
            return StepResult(skill, False, f"no navigable point near {list(goal)}")
        path = hs.ShortestPath()
        path.requested_start = np.asarray(start, dtype=np.float32)
        path.requested_end = np.asarray(end, dtype=np.float32)
        if not self.sim.pathfinder.find_path(path) or not math.isfinite(path.geodesic_distance):
            return StepResult(skill, False, f"no path from {start} to {list(goal)}")
        points = [np.asarray(p, dtype=np.float64) for p in path.points]
        heading = _yaw(forward(rotation))
        turns = 0.0
        for a, b in itertools.pairwise(points):
            d = b - a
            if math.hypot(d[0], d[2]) < 1e-6:
                continue
            new = math.atan2(-d[0], -d[2])
            turns += abs(_wrap(new - heading))
            heading = new
        if face is not None:
            fx, fz = face[0] - points[-1][0], face[1] - points[-1][2]
            if math.hypot(fx, fz) > 1e-6:
                new = math.atan2(-fx, -fz)
                turns += abs(_wrap(new - heading))
                heading = new
        self.teleport(points[-1], (0.0, math.sin(heading / 2), 0.0, math.cos(heading / 2)))
        dist = float(path.geodesic_distance)
        steps = math.ceil(dist / self.config.step_m - 1e-9) + round(
            math.degrees(turns) / self.config.turn_deg
        )
        return self._done(skill, True, steps=steps, dist=dist)

    def _look_around(self, skill: Skill) -> StepResult:
        position, rotation = self._agent_state()
        yaw0 = _yaw(forward(rotation))
        n = max(1, self.config.look_headings)
        frames = []
        for k in range(n):
            yaw = yaw0 + 2 * math.pi * k / n
            self.teleport(position, (0.0, math.sin(yaw / 2), 0.0, math.cos(yaw / 2)))
            frames.append(self._frame())
        self.teleport(position, rotation)
        steps = round(360.0 / self.config.turn_deg)
        return StepResult(skill, True, "", steps, 0.0, sensed=Sensed(frames=tuple(frames)))

    def _reachable(self, thing: _Thing) -> bool:
        x, _y, z = self._agent_state()[0]
        return math.hypot(thing.position[0] - x, thing.position[2] - z) <= self.config.reach_m

    def _pickup(self, skill: Skill) -> StepResult:
        if self._held is not None:
            return StepResult(skill, False, "hands full")
        thing = self._ground(skill)
        if thing is None:
            return StepResult(skill, False, f"no {skill.label} here to pick up")
        if not self._reachable(thing):
            return StepResult(skill, False, f"the {thing.label} is out of reach")
        self._remove(thing)
        self._held = thing.semantic_id
        return self._done(skill, True, steps=1)

    def _put(self, skill: Skill) -> StepResult:
        import magnum as mn

        if self._held is None:
            return StepResult(skill, False, "not holding anything to put")
        support = self._ground(skill)
        if support is None:
            return StepResult(skill, False, f"no {skill.label} here to put on")
        if not self._reachable(support):
            return StepResult(skill, False, f"the {support.label} is out of reach")
        held = self._things[self._held]
        top = support.position[1] + support.size[1] / 2 + held.size[1] / 2
        self._add(held, mn.Vector3(support.position[0], top, support.position[2]))
        self._held = None
        return self._done(skill, True, steps=1)

    def _drop(self, skill: Skill) -> StepResult:
        import magnum as mn

        if self._held is None:
            return StepResult(skill, False, "not holding anything to drop")
        position, rotation = self._agent_state()
        f = forward(rotation)
        spot = self.sim.pathfinder.snap_point(
            np.asarray(
                [position[0] + 0.5 * f[0], position[1], position[2] + 0.5 * f[2]], np.float32
            )
        )
        held = self._things[self._held]
        self._add(
            held, mn.Vector3(float(spot[0]), float(spot[1]) + held.size[1] / 2, float(spot[2]))
        )
        self._held = None
        return self._done(skill, True, steps=1)

    # ------------------------------------------------------------------ ground truth
    def things(self) -> list[tuple[str, str, tuple[float, float, float]]]:
        """``(label, semantic id as a name, centre)`` of every placed object in the scene:
        the scorer's view (never the planner's)."""
        return [
            (t.label, f"{t.label}_{t.semantic_id}", t.position)
            for t in self._things.values()
            if t.object_id is not None
        ]


def _yaw(f: Sequence[float] | npt.NDArray[np.float64]) -> float:
    return math.atan2(-float(f[0]), -float(f[2]))


def _wrap(a: float) -> float:
    return (a + math.pi) % (2 * math.pi) - math.pi
