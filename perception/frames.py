"""Bag image topics → perception → memory: depth + camera_info + instance masks + TF.

A depth image is perceived when a ``loci_msgs/InstanceMasks`` message with the same
header stamp arrives, a camera_info is known, and TF resolves ``fixed_frame`` → the
image's frame at its stamp. The camera_info used is the one stamped with the image, else
the latest before it. Every frame that cannot be perceived is skipped and counted
under the reason (no camera_info, size mismatch, TF gap, bad encoding, implausible
depth scale, no instance mask); nothing already in memory is touched by a bad frame.
"""

from __future__ import annotations

import bisect
import logging
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from memory_core import LociError, Memory, ObjectObservation
from perception.bag import BagError, open_bag
from perception.bag_images import decode_image, intrinsics_from_camera_info
from perception.camera import decode_depth
from perception.errors import DepthScaleError, FrameError, SizeMismatchError
from perception.instances import PerceptionConfig, observations_from_frame
from perception.tf import TFBuffer, TFError

__all__ = ["FrameStats", "FrameTopics", "discover_frame_topics", "replay_frames"]

_log = logging.getLogger(__name__)

_IMAGE = "sensor_msgs/msg/Image"
_INFO = "sensor_msgs/msg/CameraInfo"
_MASKS = "loci_msgs/msg/InstanceMasks"
_PENDING = 64
"""Frames waiting for their partner (mask or depth) before they count as unmatched."""


@dataclass(frozen=True, slots=True)
class FrameTopics:
    depth: str
    camera_info: str | None
    masks: str | None


@dataclass(frozen=True, slots=True)
class FrameStats:
    depth_frames: int = 0
    perceived: int = 0
    observations: int = 0
    skipped: tuple[tuple[str, int], ...] = ()
    """(reason, frames) for every reason a depth frame was not perceived."""

    @property
    def skipped_total(self) -> int:
        return sum(n for _r, n in self.skipped)


@dataclass(slots=True)
class _Tally:
    depth_frames: int = 0
    perceived: int = 0
    observations: int = 0
    skipped: Counter[str] = field(default_factory=Counter)

    def skip(self, reason: str) -> None:
        self.skipped[reason] += 1

    def freeze(self) -> FrameStats:
        return FrameStats(
            self.depth_frames,
            self.perceived,
            self.observations,
            tuple(sorted(self.skipped.items())),
        )


def _namespace(topic: str) -> str:
    return topic.rsplit("/", 1)[0]


def discover_frame_topics(
    found: dict[str, tuple[str, int]],
    depth: str | None = None,
    camera_info: str | None = None,
    masks: str | None = None,
) -> FrameTopics | None:
    """The depth topic is the Image topic with ``depth`` in its name; camera_info and masks
    prefer the depth topic's namespace (``/camera/depth/image_raw`` →
    ``/camera/depth/camera_info``), then its parent's, then the only one of their type."""
    images = sorted(t for t, (kind, _n) in found.items() if kind == _IMAGE)
    if depth is None:
        candidates = [t for t in images if "depth" in t]
        if not candidates:
            return None
        depth = candidates[0]
    elif found.get(depth, ("", 0))[0] != _IMAGE:
        raise BagError(f"depth topic {depth!r} is not a sensor_msgs/Image topic in the bag")

    def near(kind: str, given: str | None) -> str | None:
        if given is not None:
            if found.get(given, ("", 0))[0] != kind:
                raise BagError(f"topic {given!r} is not a {kind} topic in the bag")
            return given
        options = sorted(t for t, (k, _n) in found.items() if k == kind)
        for ns in (_namespace(depth), _namespace(_namespace(depth))):
            same = [t for t in options if _namespace(t) == ns]
            if same:
                return same[0]
        return options[0] if len(options) == 1 else None

    return FrameTopics(depth, near(_INFO, camera_info), near(_MASKS, masks))


def _stamp_ns(header: Any) -> int:
    return int(header.stamp.sec) * 1_000_000_000 + int(header.stamp.nanosec)


def replay_frames(
    path: str | Path,
    memory: Memory,
    frame_topics: FrameTopics,
    tf: TFBuffer | None,
    fixed_frame: str = "map",
    depth_scale: float = 1000.0,
    config: PerceptionConfig | None = None,
) -> FrameStats:
    perceiver = _Perceiver(memory, tf, fixed_frame, depth_scale, config or PerceptionConfig())
    stats = perceiver.stats
    infos = _camera_infos(path, frame_topics.camera_info)
    depths: OrderedDict[int, tuple[Any, Any]] = OrderedDict()
    masks: OrderedDict[int, Any] = OrderedDict()
    wanted = {frame_topics.depth, frame_topics.masks} - {None}
    reader = open_bag(path)
    try:
        conns = [c for c in reader.connections if c.topic in wanted]
        try:
            for conn, _t, raw in reader.messages(connections=conns):
                msg: Any = reader.deserialize(raw, conn.msgtype)
                stamp = _stamp_ns(msg.header)
                if conn.topic == frame_topics.depth:
                    stats.depth_frames += 1
                    info = _info_at(infos, stamp)
                    if info is None:
                        stats.skip("no camera_info")
                    elif stamp in masks:
                        perceiver(msg, info, masks.pop(stamp))
                    else:
                        depths[stamp] = (msg, info)
                elif stamp in depths:
                    depth_msg, depth_info = depths.pop(stamp)
                    perceiver(depth_msg, depth_info, msg)
                else:
                    masks[stamp] = msg
                while len(depths) > _PENDING:
                    depths.popitem(last=False)
                    stats.skip("no instance mask")
                while len(masks) > _PENDING:
                    masks.popitem(last=False)
        except LociError:
            raise
        except Exception as exc:  # rosbags raises many types for a damaged file
            raise BagError(f"bag is damaged: {type(exc).__name__}: {exc}") from exc
    finally:
        reader.close()
    for _ in depths:
        stats.skip("no instance mask")
    return stats.freeze()


def _camera_infos(path: str | Path, topic: str | None) -> tuple[list[int], list[Any]]:
    """All camera_info messages by header stamp (they are small; reading them first makes
    the pairing independent of whether a driver logs the info before or after its image)."""
    if topic is None:
        return [], []
    reader = open_bag(path)
    try:
        conns = [c for c in reader.connections if c.topic == topic]
        msgs: list[Any] = [
            reader.deserialize(raw, c.msgtype) for c, _t, raw in reader.messages(conns)
        ]
    except Exception as exc:  # rosbags raises many types for a damaged file
        raise BagError(f"bag is damaged: {type(exc).__name__}: {exc}") from exc
    finally:
        reader.close()
    msgs.sort(key=lambda m: _stamp_ns(m.header))
    return [_stamp_ns(m.header) for m in msgs], msgs


def _info_at(infos: tuple[list[int], list[Any]], stamp: int) -> Any:
    """The camera_info stamped at the image, else the latest before it; None if none."""
    i = bisect.bisect_right(infos[0], stamp)
    return infos[1][i - 1] if i else None


@dataclass(slots=True)
class _Perceiver:
    memory: Memory
    tf: TFBuffer | None
    fixed_frame: str
    depth_scale: float
    config: PerceptionConfig
    stats: _Tally = field(default_factory=_Tally)

    def __call__(self, depth_msg: Any, info: Any, masks_msg: Any) -> None:
        t = _stamp_ns(depth_msg.header) * 1e-9
        try:
            if self.tf is None:
                raise TFError("the bag has no TF")
            pose = self.tf.lookup(self.fixed_frame, depth_msg.header.frame_id.lstrip("/"), t)
        except TFError:
            self.stats.skip("TF gap")
            return
        try:
            observations = self._observations(depth_msg, info, masks_msg, pose, t)
        except DepthScaleError as exc:
            _log.warning("frame at %.3f skipped: %s", t, exc)
            self.stats.skip("implausible depth scale")
            return
        except SizeMismatchError as exc:
            _log.warning("frame at %.3f skipped: %s", t, exc)
            self.stats.skip("size mismatch")
            return
        except FrameError as exc:
            _log.warning("frame at %.3f skipped: %s", t, exc)
            self.stats.skip("bad image")
            return
        self.memory.observe(list(observations))
        self.stats.perceived += 1
        self.stats.observations += len(observations)

    def _observations(
        self, depth_msg: Any, info: Any, masks_msg: Any, pose: Any, t: float
    ) -> tuple[ObjectObservation, ...]:
        raw = decode_image(depth_msg)
        if raw.ndim != 2:
            raise FrameError(f"depth image {depth_msg.encoding!r} is not single-channel")
        k = intrinsics_from_camera_info(info, raw.shape)
        encoding = "32FC1" if raw.dtype == np.float32 else "16UC1"
        depth = decode_depth(raw, encoding, self.depth_scale)
        mask = decode_image(masks_msg.mask)
        if mask.ndim != 2 or mask.dtype != np.uint16:
            raise FrameError(f"instance mask must be mono16/16UC1, got {masks_msg.mask.encoding!r}")
        labels = {i + 1: str(label) for i, label in enumerate(masks_msg.labels)}
        ids = {i + 1: str(oid) for i, oid in enumerate(masks_msg.object_ids) if oid}
        result = observations_from_frame(
            depth, mask, labels, k, pose, t, ids or None, self.config, self.fixed_frame
        )
        return result.observations
