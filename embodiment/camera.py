"""AI2-THOR's camera as a pose: shared by the built-in renderer and the AI2-THOR body, so
both bodies put the same camera at the same place."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

__all__ = ["HORIZON_DEG", "ai2thor_camera_pose", "ai2thor_camera_rotation"]

HORIZON_DEG = 30.0
"""Where the camera looks, in degrees below the horizon (ALFRED's agents look 30 degrees
down)."""


def ai2thor_camera_rotation(yaw_deg: float, horizon_deg: float) -> NDArray[np.float64]:
    """3x3 world-from-camera rotation (OpenCV axes: x right, y down, z forward) of a camera
    turned ``yaw_deg`` about +y (0 faces +z, 90 faces +x) and pitched ``horizon_deg`` down."""
    yaw = math.radians(yaw_deg)
    pitch = math.radians(horizon_deg)
    fwd = np.array(
        [math.sin(yaw) * math.cos(pitch), -math.sin(pitch), math.cos(yaw) * math.cos(pitch)]
    )
    right = np.array([math.cos(yaw), 0.0, -math.sin(yaw)])
    down = np.cross(right, fwd)  # AI2-THOR is left-handed: this keeps "down" pointing down
    return np.stack([right, down, fwd], axis=1)


def ai2thor_camera_pose(
    position: tuple[float, float, float], yaw_deg: float, horizon_deg: float
) -> NDArray[np.float64]:
    """4x4 world-from-camera pose of that camera at ``position``."""
    pose = np.eye(4)
    pose[:3, :3] = ai2thor_camera_rotation(yaw_deg, horizon_deg)
    pose[:3, 3] = position
    return pose
