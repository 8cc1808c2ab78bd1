"""World conventions: ROS (REP-103: right-handed, z up) and AI2-THOR (left-handed, y up).

A memory whose scene graph has ``up_axis == "y"`` is in AI2-THOR's convention (the
built-in simulator's worlds); ``"z"`` is ROS's. Messages between processes are always in
ROS's convention. AI2-THOR → ROS is x_ros = z, y_ros = -x, z_ros = y: a reflection (the
handedness differs) made of a permutation and one negation, so both directions are exact
in floating point.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.spatial.transform import Rotation

from memory_core.errors import InvalidInputError

__all__ = [
    "THOR_TO_ROS",
    "from_ros",
    "quat_from_ros",
    "quat_to_ros",
    "size_from_ros",
    "size_to_ros",
    "to_ros",
]

Vec3 = tuple[float, float, float]
Quat = tuple[float, float, float, float]

THOR_TO_ROS: NDArray[np.float64] = np.array([[0.0, 0.0, 1.0], [-1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])


def _check(up_axis: str) -> bool:
    if up_axis not in ("y", "z"):
        raise InvalidInputError(f"up axis must be 'y' (AI2-THOR) or 'z' (ROS), got {up_axis!r}")
    return up_axis == "y"


def to_ros(p: Vec3, up_axis: str) -> Vec3:
    if not _check(up_axis):
        return (float(p[0]), float(p[1]), float(p[2]))
    return (float(p[2]), -float(p[0]), float(p[1]))


def from_ros(p: Vec3, up_axis: str) -> Vec3:
    if not _check(up_axis):
        return (float(p[0]), float(p[1]), float(p[2]))
    return (-float(p[1]), float(p[2]), float(p[0]))


def size_to_ros(s: Vec3, up_axis: str) -> Vec3:
    """Box extents are unsigned: permuted, never negated."""
    if not _check(up_axis):
        return (float(s[0]), float(s[1]), float(s[2]))
    return (float(s[2]), float(s[0]), float(s[1]))


def size_from_ros(s: Vec3, up_axis: str) -> Vec3:
    if not _check(up_axis):
        return (float(s[0]), float(s[1]), float(s[2]))
    return (float(s[1]), float(s[2]), float(s[0]))


def quat_to_ros(q: Quat, up_axis: str) -> Quat:
    """An orientation (x, y, z, w) in the memory's convention, in ROS's."""
    if not _check(up_axis) or tuple(q) == (0.0, 0.0, 0.0, 1.0):
        return (float(q[0]), float(q[1]), float(q[2]), float(q[3]))
    m = THOR_TO_ROS @ Rotation.from_quat(q).as_matrix() @ THOR_TO_ROS.T
    x, y, z, w = Rotation.from_matrix(m).as_quat()
    return (float(x), float(y), float(z), float(w))


def quat_from_ros(q: Quat, up_axis: str) -> Quat:
    if not _check(up_axis) or tuple(q) == (0.0, 0.0, 0.0, 1.0):
        return (float(q[0]), float(q[1]), float(q[2]), float(q[3]))
    m = THOR_TO_ROS.T @ Rotation.from_quat(q).as_matrix() @ THOR_TO_ROS
    x, y, z, w = Rotation.from_matrix(m).as_quat()
    return (float(x), float(y), float(z), float(w))


def camera_to_ros(world_from_camera: NDArray[np.float64]) -> tuple[Vec3, Quat]:
    """A camera pose (OpenCV optical axes) in an AI2-THOR world → position and
    orientation (x, y, z, w) in ROS's map frame. The optical frame is right-handed, the
    AI2-THOR world is not, so the matrix has determinant -1 until its axes are expressed in
    ROS's frame."""
    m = np.asarray(world_from_camera, dtype=np.float64)
    x, y, z, w = Rotation.from_matrix(THOR_TO_ROS @ m[:3, :3]).as_quat()
    p = m[:3, 3]
    return to_ros((p[0], p[1], p[2]), "y"), (float(x), float(y), float(z), float(w))
