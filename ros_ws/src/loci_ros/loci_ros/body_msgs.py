"""The body interface's types ↔ ROS messages: skills as ``loci_msgs/ExecuteSkill`` goals
and results, maps as ``nav_msgs/OccupancyGrid``, poses as ``geometry_msgs/PoseStamped``.

Messages are in ROS's convention (REP-103, z up); a body or memory in AI2-THOR's
(``up_axis == "y"``) is converted on the way. A y-up map's floor axes (x, z) are ROS's
(-y, x), so its cells are turned a quarter: ROS row i, column j is the y-up map's row j,
column ``width - 1 - i``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from geometry_msgs.msg import Point, Pose, Quaternion, Vector3
from loci_msgs.action import ExecuteSkill
from nav_msgs.msg import MapMetaData
from nav_msgs.msg import OccupancyGrid as GridMsg

from embodiment.body import BodyState, Sensed
from embodiment.grid import OccupancyGrid
from embodiment.skills import Skill, StepResult
from loci_ros.conversions import header, observation_from_msg, observation_to_msg
from memory_core import InvalidInputError, ViewVolume
from memory_core import Pose as CorePose
from memory_core.convention import from_ros, quat_from_ros, quat_to_ros, size_from_ros, to_ros
from memory_core.convention import size_to_ros as _size_to_ros

__all__ = [
    "grid_from_msg",
    "grid_to_msg",
    "pose_from_msg",
    "pose_to_msg",
    "result_from_msg",
    "result_to_msg",
    "skill_from_goal",
    "skill_to_goal",
]


def _point(p: tuple[float, float, float], up_axis: str) -> Point:
    x, y, z = to_ros(p, up_axis)
    return Point(x=x, y=y, z=z)


def _vec(p: Any, up_axis: str) -> tuple[float, float, float]:
    return from_ros((p.x, p.y, p.z), up_axis)


# ---------------------------------------------------------------------------- poses
def pose_to_msg(pose: CorePose, up_axis: str) -> Pose:
    x, y, z, w = quat_to_ros(pose.orientation, up_axis)
    return Pose(position=_point(pose.position, up_axis), orientation=Quaternion(x=x, y=y, z=z, w=w))


def pose_from_msg(msg: Pose, up_axis: str) -> CorePose:
    q = msg.orientation
    return CorePose(_vec(msg.position, up_axis), quat_from_ros((q.x, q.y, q.z, q.w), up_axis))


# ---------------------------------------------------------------------------- skills
def skill_to_goal(skill: Skill, up_axis: str) -> ExecuteSkill.Goal:
    goal = ExecuteSkill.Goal(name=skill.name, target=skill.target or "", force=skill.force)
    if skill.label is not None and skill.position is not None:
        goal.has_hint, goal.label = True, skill.label
        goal.position = _point(skill.position, up_axis)
        if skill.size is not None:
            sx, sy, sz = _size_to_ros(skill.size, up_axis)
            goal.size = Vector3(x=sx, y=sy, z=sz)
    return goal


def skill_from_goal(goal: ExecuteSkill.Goal, up_axis: str) -> Skill:
    label = position = size = None
    if goal.has_hint:
        label, position = goal.label, _vec(goal.position, up_axis)
        s = goal.size
        if (s.x, s.y, s.z) != (0.0, 0.0, 0.0):
            size = size_from_ros((s.x, s.y, s.z), up_axis)
    return Skill(goal.name, goal.target or None, bool(goal.force), label, position, size)


def result_to_msg(result: StepResult, state: BodyState, up_axis: str) -> ExecuteSkill.Result:
    msg = ExecuteSkill.Result(
        success=bool(result.success),
        error_message=result.error_message,
        unchanged=bool(result.unchanged),
        primitive_steps=int(result.primitive_steps),
        distance_m=float(result.distance_m),
        held_id=state.held or "",
        held_label=state.held_label or "",
        pose=pose_to_msg(state.pose, up_axis),
    )
    sensed = result.sensed
    if sensed is not None:
        msg.sensed = [observation_to_msg(o, up_axis) for o in sensed.observations]
        v = sensed.view
        if v is not None:
            msg.has_view = True
            msg.view_origin = _point(v.origin, up_axis)
            fx, fy, fz = to_ros(v.forward, up_axis)
            msg.view_forward = Vector3(x=fx, y=fy, z=fz)
            msg.view_half_fov_deg = float(v.half_fov_deg)
            msg.view_max_range_m = float(v.max_range_m)
            msg.view_min_range_m = float(v.min_range_m)
    return msg


def result_from_msg(
    msg: ExecuteSkill.Result, skill: Skill, up_axis: str
) -> tuple[StepResult, BodyState, Sensed]:
    """The outcome, the body's state after it, and what it sensed during it."""
    observations = tuple(observation_from_msg(o, up_axis) for o in msg.sensed)
    view = None
    if msg.has_view:
        view = ViewVolume(
            origin=_vec(msg.view_origin, up_axis),
            forward=_vec(msg.view_forward, up_axis),
            half_fov_deg=msg.view_half_fov_deg,
            max_range_m=msg.view_max_range_m,
            min_range_m=msg.view_min_range_m,
        )
    sensed = Sensed(observations=observations, view=view)
    result = StepResult(
        skill,
        bool(msg.success),
        msg.error_message,
        int(msg.primitive_steps),
        float(msg.distance_m),
        sensed=sensed,
        unchanged=bool(msg.unchanged),
    )
    state = BodyState(
        pose_from_msg(msg.pose, up_axis), msg.held_id or None, msg.held_label or None, up_axis
    )
    return result, state, sensed


# ---------------------------------------------------------------------------- maps
def grid_to_msg(grid: OccupancyGrid, t: float, frame_id: str) -> GridMsg:
    res = grid.resolution_m
    data, origin = grid.ros_layout()
    rows, cols = data.shape
    info = MapMetaData(
        resolution=float(res),
        width=int(cols),
        height=int(rows),
        origin=Pose(
            position=Point(x=float(origin[0]), y=float(origin[1])), orientation=Quaternion(w=1.0)
        ),
    )
    info.map_load_time = header(t, frame_id).stamp
    return GridMsg(
        header=header(t, frame_id),
        info=info,
        data=np.ascontiguousarray(data, dtype=np.int8).ravel().tolist(),
    )


def grid_from_msg(msg: GridMsg, up_axis: str) -> OccupancyGrid:
    """A map in the body's convention; a rotated map origin is refused (not handled)."""
    info = msg.info
    q = info.origin.orientation
    if abs(q.x) + abs(q.y) + abs(q.z) > 1e-9 or not math.isclose(abs(q.w), 1.0):
        raise InvalidInputError("a map whose origin is rotated is not supported")
    if len(msg.data) != info.width * info.height or info.width == 0:
        raise InvalidInputError(
            f"map data holds {len(msg.data)} cells, not {info.width} x {info.height}"
        )
    data = np.asarray(msg.data, dtype=np.int8).reshape(info.height, info.width)
    # float32 on the wire: 0.25 m is exact, other resolutions are rounded to 1 nm.
    res = round(float(info.resolution), 9)
    ox, oy = float(info.origin.position.x), float(info.origin.position.y)
    if up_axis == "y":
        rows_ros = data.shape[0]
        return OccupancyGrid(
            res, (-oy - rows_ros * res, ox), np.ascontiguousarray(data[::-1, :].T), "y"
        )
    return OccupancyGrid(res, (ox, oy), data, "z")
