"""One camera frame as ROS messages (depth Image, CameraInfo, loci_msgs/InstanceMasks)
→ object observations, or without masks (depth, CameraInfo, an optional colour Image)
→ ``unknown`` observations from the geometric segmenter; and pairing messages that
belong to one frame by header stamp.

Shared by bag replay (rosbags messages) and the perception node (rclpy messages): both
have the same fields, so nothing here depends on where a message came from.
"""

from __future__ import annotations

import logging
from collections import Counter, OrderedDict
from typing import Any

import numpy as np
from numpy.typing import NDArray

from memory_core import ObjectObservation
from perception.bag_images import decode_image, intrinsics_from_camera_info
from perception.camera import PinholeIntrinsics, decode_depth
from perception.errors import DepthScaleError, FrameError, SizeMismatchError
from perception.instances import PerceptionConfig, observations_from_frame
from perception.segment import (
    Segmentation,
    SegmenterConfig,
    segment_frame,
    unknown_observations,
)

__all__ = [
    "StampSync",
    "depth_from_messages",
    "perceive_masks",
    "perceive_messages",
    "segment_decoded",
    "segment_messages",
    "skip_reason",
    "stamp_ns",
]

_log = logging.getLogger(__name__)


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
    t = stamp_ns(depth_msg.header) * 1e-9
    return perceive_masks(depth, k, masks_msg, world_from_camera, t, fixed_frame, config)


def perceive_masks(
    depth: NDArray[np.float32],
    k: PinholeIntrinsics,
    masks_msg: Any,
    world_from_camera: NDArray[np.float64],
    t: float,
    fixed_frame: str,
    config: PerceptionConfig | None = None,
) -> tuple[ObjectObservation, ...]:
    """A decoded depth frame and its ``loci_msgs/InstanceMasks`` → observations."""
    mask = decode_image(masks_msg.mask)
    if mask.ndim != 2 or mask.dtype != np.uint16:
        raise FrameError(f"instance mask must be mono16/16UC1, got {masks_msg.mask.encoding!r}")
    # An instance without a label is background to the segmenter (walls, floor): ignored.
    labels = {i + 1: str(label) for i, label in enumerate(masks_msg.labels) if label}
    ids = {i + 1: str(oid) for i, oid in enumerate(masks_msg.object_ids) if oid}
    result = observations_from_frame(
        depth, mask, labels, k, world_from_camera, t, ids or None, config, fixed_frame
    )
    return result.observations


def segment_messages(
    depth_msg: Any,
    info: Any,
    colour_msg: Any | None,
    world_from_camera: NDArray[np.float64],
    fixed_frame: str,
    depth_scale: float = 1000.0,
    config: SegmenterConfig | None = None,
) -> tuple[tuple[ObjectObservation, ...], Segmentation]:
    """A frame without instance masks → ``unknown`` observations (see
    :func:`segment_decoded`). Raises :class:`FrameError` (or a subclass) when the depth
    frame cannot be used."""
    depth, k = depth_from_messages(depth_msg, info, depth_scale)
    t = stamp_ns(depth_msg.header) * 1e-9
    return segment_decoded(depth, k, colour_msg, world_from_camera, t, fixed_frame, config)


def segment_decoded(
    depth: NDArray[np.float32],
    k: PinholeIntrinsics,
    colour_msg: Any | None,
    world_from_camera: NDArray[np.float64],
    t: float,
    fixed_frame: str,
    config: SegmenterConfig | None = None,
) -> tuple[tuple[ObjectObservation, ...], Segmentation]:
    """What stands on the frame's support planes, as ``unknown`` observations, with
    colour descriptors from ``colour_msg`` when it is registered to the depth image (same
    size; otherwise none, and the frame is still used)."""
    seg = segment_frame(depth, k, world_from_camera, config)
    colour = None
    if colour_msg is not None:
        try:
            image = decode_image(colour_msg)
            if image.ndim == 3 and image.shape[:2] == depth.shape and image.dtype == np.uint8:
                colour = image
            else:
                _log.info("colour image %s is not registered to the depth: no colours", image.shape)
        except FrameError as exc:
            _log.info("colour image unusable (%s): no colours", exc)
    observations = unknown_observations(
        depth, k, world_from_camera, seg, colour, t, fixed_frame, config
    )
    return observations, seg


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
