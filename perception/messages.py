"""One camera frame as ROS messages (depth Image, CameraInfo, loci_msgs/InstanceMasks)
→ object observations; and pairing messages that belong to one frame by header stamp.

Shared by bag replay (rosbags messages) and the perception node (rclpy messages): both
have the same fields, so nothing here depends on where a message came from.
"""

from __future__ import annotations

from collections import Counter, OrderedDict
from typing import Any

import numpy as np
from numpy.typing import NDArray

from memory_core import ObjectObservation
from perception.bag_images import decode_image, intrinsics_from_camera_info
from perception.camera import PinholeIntrinsics, decode_depth
from perception.errors import DepthScaleError, FrameError, SizeMismatchError
from perception.instances import PerceptionConfig, observations_from_frame

__all__ = ["StampSync", "depth_from_messages", "perceive_messages", "skip_reason", "stamp_ns"]


def stamp_ns(header: Any) -> int:
    return int(header.stamp.sec) * 1_000_000_000 + int(header.stamp.nanosec)


def skip_reason(exc: FrameError) -> str:
    """The counter a frame that raised ``exc`` is skipped under."""
    if isinstance(exc, DepthScaleError):
        return "implausible depth scale"
    if isinstance(exc, SizeMismatchError):
        return "size mismatch"
    return "bad image"


def depth_from_messages(
    depth_msg: Any, info: Any, depth_scale: float = 1000.0
) -> tuple[NDArray[np.float32], PinholeIntrinsics]:
    """A depth Image message in metres (NaN where unknown) and its camera, from the
    camera_info; :class:`FrameError` (or a subclass) when they cannot be used."""
    raw = decode_image(depth_msg)
    if raw.ndim != 2:
        raise FrameError(f"depth image {depth_msg.encoding!r} is not single-channel")
    k = intrinsics_from_camera_info(info, raw.shape)
    encoding = "32FC1" if raw.dtype == np.float32 else "16UC1"
    return decode_depth(raw, encoding, depth_scale), k


def perceive_messages(
    depth_msg: Any,
    info: Any,
    masks_msg: Any,
    world_from_camera: NDArray[np.float64],
    fixed_frame: str,
    depth_scale: float = 1000.0,
    config: PerceptionConfig | None = None,
) -> tuple[ObjectObservation, ...]:
    """Raises :class:`FrameError` (or a subclass) when the frame cannot be used."""
    depth, k = depth_from_messages(depth_msg, info, depth_scale)
    mask = decode_image(masks_msg.mask)
    if mask.ndim != 2 or mask.dtype != np.uint16:
        raise FrameError(f"instance mask must be mono16/16UC1, got {masks_msg.mask.encoding!r}")
    # An instance without a label is background to the segmenter (walls, floor): ignored.
    labels = {i + 1: str(label) for i, label in enumerate(masks_msg.labels) if label}
    ids = {i + 1: str(oid) for i, oid in enumerate(masks_msg.object_ids) if oid}
    t = stamp_ns(depth_msg.header) * 1e-9
    result = observations_from_frame(
        depth, mask, labels, k, world_from_camera, t, ids or None, config, fixed_frame
    )
    return result.observations


class StampSync:
    """Collects the messages of one frame (one per kind, equal header stamps). A frame
    still incomplete when ``max_pending`` newer frames are waiting is dropped and counted
    by the first kind it lacks."""

    def __init__(self, kinds: tuple[str, ...], max_pending: int = 64) -> None:
        self.kinds = kinds
        self.max_pending = max_pending
        self._pending: OrderedDict[int, dict[str, Any]] = OrderedDict()
        self.dropped: Counter[str] = Counter()

    def add(self, kind: str, stamp: int, msg: Any) -> dict[str, Any] | None:
        """The complete frame (kind → message) once ``msg`` completes it, else None."""
        parts = self._pending.setdefault(stamp, {})
        parts[kind] = msg
        if len(parts) == len(self.kinds):
            del self._pending[stamp]
            return parts
        while len(self._pending) > self.max_pending:
            _stamp, old = self._pending.popitem(last=False)
            self._count(old)
        return None

    def flush(self) -> None:
        """Count every frame still waiting as dropped (end of a bag)."""
        for old in self._pending.values():
            self._count(old)
        self._pending.clear()

    def _count(self, parts: dict[str, Any]) -> None:
        missing = next(k for k in self.kinds if k not in parts)
        self.dropped[missing] += 1
