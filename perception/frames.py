"""Bag image topics → perception → memory: depth + camera_info + instance masks + TF.

A depth image is perceived when a ``loci_msgs/InstanceMasks`` message with the same
header stamp arrives, a camera_info is known, and TF resolves ``fixed_frame`` → the
image's frame at its stamp. A bag without masks has its depth frames segmented by
geometry instead (:mod:`perception.segment`: ``unknown`` things on support planes),
with the colour image of the same stamp, when the bag has one, for colour descriptors.
The camera_info used is the one stamped with the image, else the latest before it.
Every frame that cannot be perceived is skipped and counted under the reason (no
camera_info, size mismatch, TF gap, bad encoding, implausible depth scale, no instance
mask); nothing already in memory is touched by a bad frame.
"""

from __future__ import annotations

import bisect
import logging
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from memory_core import LociError, Memory, ObjectObservation
from perception.bag import BagError, open_bag
from perception.depth_map import DepthMap
from perception.errors import FrameError
from perception.instances import PerceptionConfig
from perception.messages import (
    StampSync,
    depth_from_messages,
    perceive_messages,
    segment_messages,
    skip_reason,
    stamp_ns,
)
from perception.segment import SegmenterConfig
from perception.tf import TFBuffer, TFError

__all__ = ["FrameStats", "FrameTopics", "discover_frame_topics", "replay_frames"]

_log = logging.getLogger(__name__)

_IMAGE = "sensor_msgs/msg/Image"
_INFO = "sensor_msgs/msg/CameraInfo"
_MASKS = "loci_msgs/msg/InstanceMasks"


@dataclass(frozen=True, slots=True)
class FrameTopics:
    depth: str
    camera_info: str | None
    masks: str | None
    colour: str | None = None
    """Colour images registered to the depth (same stamps): descriptors for segments."""


@dataclass(frozen=True, slots=True)
class FrameStats:
    depth_frames: int = 0
    perceived: int = 0
    observations: int = 0
    skipped: tuple[tuple[str, int], ...] = ()
    """(reason, frames) for every reason a depth frame was not perceived."""
    fused: int = 0
    """Depth frames fused into the map from depth (masks or not), when one was asked for."""
    segmented: int = 0
    """Depth frames without masks segmented by geometry (among ``perceived``)."""


@dataclass(slots=True)
class _Tally:
    depth_frames: int = 0
    perceived: int = 0
    observations: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    fused: int = 0
    segmented: int = 0

    def skip(self, reason: str) -> None:
        self.skipped[reason] += 1

    def freeze(self) -> FrameStats:
        return FrameStats(
            self.depth_frames,
            self.perceived,
            self.observations,
            tuple(sorted(self.skipped.items())),
            self.fused,
            self.segmented,
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
    ``/camera/depth/camera_info``), then its parent's, then the only one of their type;
    the colour topic is an Image topic named color/colour/rgb, under the depth topic's
    parent namespace if one is."""
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

    colours = [t for t in images if t != depth and ("color" in t or "colour" in t or "rgb" in t)]
    near_colour = [t for t in colours if _namespace(_namespace(t)) == _namespace(_namespace(depth))]
    colour = (near_colour or colours)[0] if colours else None
    return FrameTopics(depth, near(_INFO, camera_info), near(_MASKS, masks), colour)


def replay_frames(
    path: str | Path,
    memory: Memory,
    frame_topics: FrameTopics,
    tf: TFBuffer | None,
    fixed_frame: str = "map",
    depth_scale: float = 1000.0,
    config: PerceptionConfig | None = None,
    depth_map: DepthMap | None = None,
    segmenter: SegmenterConfig | None = None,
) -> FrameStats:
    """Perceive the bag's frames into ``memory``; with ``depth_map``, also fuse every depth
    frame that has a camera_info and a pose (with instance masks or not) into it. Without
    a masks topic, ``segmenter`` (when given) segments every depth frame by geometry."""
    stats = _Tally()
    cfg = config or PerceptionConfig()
    infos = _camera_infos(path, frame_topics.camera_info)
    sync = StampSync(("depth", "masks"))
    kind_of = {frame_topics.depth: "depth"}
    if frame_topics.masks is not None:
        kind_of[frame_topics.masks] = "masks"
    segmenting = frame_topics.masks is None and segmenter is not None
    colours = _ColourPairs()
    if segmenting and frame_topics.colour is not None:
        kind_of[frame_topics.colour] = "colour"

    def use(depth_msg: Any, perceive: _Perceive) -> None:
        _use_frame(depth_msg, perceive, infos, memory, tf, fixed_frame, stats)

    def segment(depth_msg: Any, colour_msg: Any | None) -> None:
        def by_geometry(info: Any, pose: NDArray[np.float64]) -> tuple[ObjectObservation, ...]:
            observations, _seg = segment_messages(
                depth_msg, info, colour_msg, pose, fixed_frame, depth_scale, segmenter
            )
            stats.segmented += 1
            return observations

        use(depth_msg, by_geometry)

    def with_masks(frame: dict[str, Any]) -> None:
        def by_masks(info: Any, pose: NDArray[np.float64]) -> tuple[ObjectObservation, ...]:
            return perceive_messages(
                frame["depth"], info, frame["masks"], pose, fixed_frame, depth_scale, cfg
            )

        use(frame["depth"], by_masks)

    reader = open_bag(path)
    try:
        conns = [c for c in reader.connections if c.topic in kind_of]
        try:
            for conn, _t, raw in reader.messages(connections=conns):
                msg: Any = reader.deserialize(raw, conn.msgtype)
                kind = kind_of[conn.topic]
                if kind == "colour":
                    for depth_msg, colour_msg in colours.add_colour(msg):
                        segment(depth_msg, colour_msg)
                    continue
                if kind == "depth":
                    stats.depth_frames += 1
                    if depth_map is not None:
                        _fuse(msg, infos, tf, fixed_frame, depth_scale, depth_map, stats)
                    if segmenting:
                        ready = (
                            colours.add_depth(msg)
                            if frame_topics.colour is not None
                            else [(msg, None)]
                        )
                        for depth_msg, colour_msg in ready:
                            segment(depth_msg, colour_msg)
                        continue
                frame = sync.add(kind, stamp_ns(msg.header), msg)
                if frame is not None:
                    with_masks(frame)
            for depth_msg, colour_msg in colours.flush():
                segment(depth_msg, colour_msg)
        except LociError:
            raise
        except Exception as exc:  # rosbags raises many types for a damaged file
            raise BagError(f"bag is damaged: {type(exc).__name__}: {exc}") from exc
    finally:
        reader.close()
    sync.flush()
    # Frames without a mask are what counts; masks without a depth image are not frames.
    for _ in range(sync.dropped["masks"]):
        stats.skip("no instance mask")
    return stats.freeze()


_Perceive = Callable[[Any, NDArray[np.float64]], tuple[ObjectObservation, ...]]
"""A frame's observations from its camera_info and camera pose."""


def _use_frame(
    depth_msg: Any,
    perceive: _Perceive,
    infos: tuple[list[int], list[Any]],
    memory: Memory,
    tf: TFBuffer | None,
    fixed_frame: str,
    stats: _Tally,
) -> None:
    """Place a depth frame (camera_info, TF pose), perceive it, fuse what it shows into
    memory; a frame that cannot be used is counted under its reason."""
    stamp = stamp_ns(depth_msg.header)
    placed = _placement(depth_msg, infos, tf, fixed_frame)
    if isinstance(placed, str):
        stats.skip(placed)
        return
    info, pose = placed
    try:
        observations = perceive(info, pose)
    except FrameError as exc:
        _log.warning("frame at %.3f skipped: %s", stamp * 1e-9, exc)
        stats.skip(skip_reason(exc))
        return
    memory.observe(list(observations))
    stats.perceived += 1
    stats.observations += len(observations)


class _ColourPairs:
    """Pairs depth frames with the colour image of the same header stamp, whichever comes
    first in the bag; a depth frame still unpaired when ``wait`` newer depth frames have
    come goes on without colour (a colour stream may be slower or absent)."""

    def __init__(self, wait: int = 4, keep: int = 16) -> None:
        self.wait, self.keep = wait, keep
        self._depth: OrderedDict[int, Any] = OrderedDict()
        self._colour: OrderedDict[int, Any] = OrderedDict()

    def add_depth(self, msg: Any) -> list[tuple[Any, Any | None]]:
        stamp = stamp_ns(msg.header)
        if stamp in self._colour:
            return [(msg, self._colour.pop(stamp))]
        self._depth[stamp] = msg
        out: list[tuple[Any, Any | None]] = []
        while len(self._depth) > self.wait:
            _s, old = self._depth.popitem(last=False)
            out.append((old, None))
        return out

    def add_colour(self, msg: Any) -> list[tuple[Any, Any | None]]:
        stamp = stamp_ns(msg.header)
        if stamp in self._depth:
            return [(self._depth.pop(stamp), msg)]
        self._colour[stamp] = msg
        while len(self._colour) > self.keep:
            self._colour.popitem(last=False)
        return []

    def flush(self) -> list[tuple[Any, Any | None]]:
        out: list[tuple[Any, Any | None]] = [(m, None) for m in self._depth.values()]
        self._depth.clear()
        return out


def _fuse(
    depth_msg: Any,
    infos: tuple[list[int], list[Any]],
    tf: TFBuffer | None,
    fixed_frame: str,
    depth_scale: float,
    depth_map: DepthMap,
    stats: _Tally,
) -> None:
    """One depth frame into the map from depth; a frame that cannot be placed (no
    camera_info, no pose, bad image) is left out of the map (it is counted as skipped
    by perception when it has masks)."""
    stamp = stamp_ns(depth_msg.header)
    placed = _placement(depth_msg, infos, tf, fixed_frame)
    if isinstance(placed, str):
        return
    info, pose = placed
    try:
        depth, k = depth_from_messages(depth_msg, info, depth_scale)
        depth_map.integrate(depth, k, pose)
    except FrameError as exc:
        _log.info("frame at %.3f left out of the map: %s", stamp * 1e-9, exc)
        return
    stats.fused += 1


def _placement(
    depth_msg: Any, infos: tuple[list[int], list[Any]], tf: TFBuffer | None, fixed_frame: str
) -> tuple[Any, NDArray[np.float64]] | str:
    """The depth frame's camera_info and its camera's pose in ``fixed_frame``, or why it
    has none (the counter it is skipped under)."""
    stamp = stamp_ns(depth_msg.header)
    info = _info_at(infos, stamp)
    if info is None:
        return "no camera_info"
    try:
        if tf is None:
            raise TFError("the bag has no TF")
        pose = tf.lookup(fixed_frame, depth_msg.header.frame_id.lstrip("/"), stamp * 1e-9)
    except TFError:
        return "TF gap"
    return info, pose


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
    msgs.sort(key=lambda m: stamp_ns(m.header))
    return [stamp_ns(m.header) for m in msgs], msgs


def _info_at(infos: tuple[list[int], list[Any]], stamp: int) -> Any:
    """The camera_info stamped at the image, else the latest before it; None if none."""
    i = bisect.bisect_right(infos[0], stamp)
    return infos[1][i - 1] if i else None
