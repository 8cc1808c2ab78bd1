"""Habitat's conventions, converted exactly.

habitat-sim's world is y-up and right-handed; an agent (and a camera) looks along its
own -Z with +Y up (OpenGL axes); rotations are unit quaternions written ``[x, y, z, w]``
in episode files and recorded states. Loci keeps a Habitat world as it is (memory with
``up_axis: y``: floor coordinates are x and z) and needs camera poses in OpenCV axes
(x right, y down, z forward): the camera's y and z flip.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray
from scipy.spatial.transform import Rotation

from memory_core import InvalidInputError, Pose

__all__ = [
    "DEFAULT_SENSOR_HEIGHT_M",
    "GL_TO_CV",
    "agent_pose",
    "forward",
    "heading",
    "rotation",
    "world_from_camera",
]

DEFAULT_SENSOR_HEIGHT_M = 1.5
"""Where habitat-sim's examples and tests mount their cameras on the agent (y, metres)."""

GL_TO_CV = np.diag([1.0, -1.0, -1.0, 1.0])
"""A camera's OpenGL axes (y up, looking along -z) to OpenCV's (y down, along +z)."""


def rotation(q_xyzw: Sequence[float]) -> Rotation:
    """A Habitat ``[x, y, z, w]`` quaternion as a rotation (refused unless 4 finite
    numbers of non-zero norm)."""
    try:
        q = np.asarray(q_xyzw, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"a Habitat rotation is 4 numbers [x, y, z, w]: {exc}") from exc
    if q.shape != (4,) or not np.all(np.isfinite(q)) or float(np.linalg.norm(q)) < 1e-9:
        raise InvalidInputError(
            f"a Habitat rotation is 4 finite numbers [x, y, z, w], got {q_xyzw!r}"
        )
    return Rotation.from_quat(q)  # scipy's order is scalar-last too


def agent_pose(position: Sequence[float], q_xyzw: Sequence[float]) -> Pose:
    """An agent state as a Loci pose (the same frame, the same quaternion order)."""
    r = rotation(q_xyzw).as_quat()
    return Pose(tuple(float(v) for v in position), tuple(float(v) for v in r))  # type: ignore[arg-type]


def forward(q_xyzw: Sequence[float]) -> NDArray[np.float64]:
    """The unit direction the agent faces (its -Z) in the world."""
    out: NDArray[np.float64] = rotation(q_xyzw).apply([0.0, 0.0, -1.0])
    return out


def heading(q_xyzw: Sequence[float]) -> float:
    """Rotation about +y, radians, counter-clockwise seen from above; 0 faces -z."""
    f = forward(q_xyzw)
    return math.atan2(-f[0], -f[2])


def world_from_camera(
    agent_position: Sequence[float],
    agent_rotation: Sequence[float],
    sensor_position: Sequence[float] = (0.0, DEFAULT_SENSOR_HEIGHT_M, 0.0),
    sensor_rotation: Sequence[float] = (0.0, 0.0, 0.0, 1.0),
) -> NDArray[np.float64]:
    """The 4x4 pose of a camera on the agent, in OpenCV axes, in the world (what
    :class:`embodiment.RGBDFrame` wants)."""
    world_agent = np.eye(4)
    world_agent[:3, :3] = rotation(agent_rotation).as_matrix()
    world_agent[:3, 3] = np.asarray(agent_position, dtype=np.float64)
    agent_sensor = np.eye(4)
    agent_sensor[:3, :3] = rotation(sensor_rotation).as_matrix()
    agent_sensor[:3, 3] = np.asarray(sensor_position, dtype=np.float64)
    out: NDArray[np.float64] = world_agent @ agent_sensor @ GL_TO_CV
    if not np.all(np.isfinite(out)):
        raise InvalidInputError("camera pose is not finite")
    return out
