"""Perception preprocessing: RGB-D + instance masks + pose → object observations.

Pure Python (numpy, scipy; open3d for the map from depth, an optional extra); nothing in
this package may import ROS. Depends on ``memory_core`` (and ``embodiment.grid``: the
map from depth is the body interface's occupancy grid). Bags are read through
``rosbags`` (:mod:`perception.replay`).
"""

from perception.camera import PinholeIntrinsics, backproject, decode_depth, transform
from perception.depth_map import DepthMap, DepthMapConfig
from perception.errors import DepthScaleError, FrameError, SizeMismatchError
from perception.instances import FrameResult, PerceptionConfig, observations_from_frame

__all__ = [
    "DepthMap",
    "DepthMapConfig",
    "DepthScaleError",
    "FrameError",
    "FrameResult",
    "PerceptionConfig",
    "PinholeIntrinsics",
    "SizeMismatchError",
    "backproject",
    "decode_depth",
    "observations_from_frame",
    "transform",
]
