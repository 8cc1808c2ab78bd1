"""Perception preprocessing: RGB-D + instance masks + pose → object observations.

Pure Python (numpy); nothing in this package may import ROS. Depends on
``memory_core`` only. Bags are read through ``rosbags`` (:mod:`perception.replay`).
"""

from perception.camera import PinholeIntrinsics, backproject, decode_depth, transform
from perception.errors import DepthScaleError, FrameError
from perception.instances import FrameResult, PerceptionConfig, observations_from_frame

__all__ = [
    "DepthScaleError",
    "FrameError",
    "FrameResult",
    "PerceptionConfig",
    "PinholeIntrinsics",
    "backproject",
    "decode_depth",
    "observations_from_frame",
    "transform",
]
