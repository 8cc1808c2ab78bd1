"""Reading recorded bags without ROS, through ``rosbags`` (ROS 2 MCAP/sqlite3, ROS 1).

Provides TF (``/tf`` + ``/tf_static`` into a :class:`TFBuffer`, stamped by the
message headers) and pose streams (PoseStamped, PoseWithCovarianceStamped,
Odometry). Images are decoded in :mod:`perception.bag_images`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rosbags.highlevel import AnyReader

from perception.errors import FrameError
from perception.tf import TFBuffer

__all__ = ["BagError", "PoseSample", "open_bag", "read_poses", "read_tf", "topics"]

_POSE_TYPES = (
    "geometry_msgs/msg/PoseStamped",
    "geometry_msgs/msg/PoseWithCovarianceStamped",
    "nav_msgs/msg/Odometry",
)


class BagError(FrameError):
    """A bag cannot be read (missing, truncated, corrupt, unknown format)."""


@dataclass(frozen=True, slots=True)
class PoseSample:
    t: float
    frame_id: str
    child_frame_id: str
    position: tuple[float, float, float]
    orientation: tuple[float, float, float, float]


def open_bag(path: str | Path) -> AnyReader:
    p = Path(path)
    if not p.exists():
        raise BagError(f"no bag at {p}")
    try:
        reader = AnyReader([p])
        reader.open()
    except Exception as exc:
        raise BagError(f"cannot read bag {p}: {type(exc).__name__}: {exc}") from exc
    return reader


def topics(path: str | Path) -> dict[str, tuple[str, int]]:
    reader = open_bag(path)
    try:
        return {c.topic: (c.msgtype, c.msgcount) for c in reader.connections}
    finally:
        reader.close()


def _stamp(header: Any) -> float:
    return float(header.stamp.sec) + float(header.stamp.nanosec) * 1e-9


def _messages(reader: AnyReader, wanted: Any) -> Iterator[tuple[Any, Any]]:
    conns = [c for c in reader.connections if wanted(c)]
    try:
        for conn, _t, raw in reader.messages(connections=conns):
            yield conn, reader.deserialize(raw, conn.msgtype)
    except Exception as exc:
        raise BagError(f"bag is damaged: {type(exc).__name__}: {exc}") from exc


def read_tf(path: str | Path, buffer: TFBuffer | None = None) -> TFBuffer:
    tf = buffer or TFBuffer()
    reader = open_bag(path)
    try:
        for conn, msg in _messages(reader, lambda c: c.topic in ("/tf", "/tf_static")):
            static = conn.topic == "/tf_static"
            for tr in msg.transforms:
                r, q = tr.transform.translation, tr.transform.rotation
                tf.add(
                    tr.header.frame_id.lstrip("/"),
                    tr.child_frame_id.lstrip("/"),
                    _stamp(tr.header),
                    (r.x, r.y, r.z),
                    (q.x, q.y, q.z, q.w),
                    static=static,
                )
    finally:
        reader.close()
    return tf


def read_poses(path: str | Path, topic: str) -> list[PoseSample]:
    reader = open_bag(path)
    try:
        known = {c.topic: c.msgtype for c in reader.connections}
        if topic not in known:
            raise BagError(f"no topic {topic!r} in {path} (topics: {sorted(known)})")
        if known[topic] not in _POSE_TYPES:
            raise BagError(f"{topic} is a {known[topic]}, not a pose ({', '.join(_POSE_TYPES)})")
        out = []
        for _conn, msg in _messages(reader, lambda c: c.topic == topic):
            pose = msg.pose.pose if hasattr(msg.pose, "pose") else msg.pose
            p, q = pose.position, pose.orientation
            out.append(
                PoseSample(
                    _stamp(msg.header),
                    msg.header.frame_id,
                    getattr(msg, "child_frame_id", ""),
                    (p.x, p.y, p.z),
                    (q.x, q.y, q.z, q.w),
                )
            )
        return out
    finally:
        reader.close()
