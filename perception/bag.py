"""Reading recorded bags without ROS, through ``rosbags`` (ROS 2 MCAP/sqlite3, ROS 1).

Provides TF (``/tf`` + ``/tf_static`` into a :class:`TFBuffer`, stamped by the
message headers) and pose streams (PoseStamped, PoseWithCovarianceStamped,
Odometry). Images are decoded in :mod:`perception.bag_images`.

A damaged MCAP file that rosbags refuses (a recording killed mid-write: no summary, no
footer, cut inside a chunk) is read by :class:`perception.bag_salvage.SalvageReader`:
the messages of its readable prefix, with a warning saying what was lost.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rosbags.highlevel import AnyReader
from rosbags.interfaces import Connection

from perception.errors import FrameError
from perception.tf import TFBuffer

if TYPE_CHECKING:
    from perception.bag_salvage import SalvageReader, SalvageReport

__all__ = [
    "BagError",
    "PoseSample",
    "open_bag",
    "read_poses",
    "read_tf",
    "salvage_report",
    "topics",
]

logger = logging.getLogger(__name__)

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


# Damaged files warned about, by (path, size, mtime): a replay opens its bag many times.
_warned: set[tuple[str, int, int]] = set()


class _Reader(AnyReader):
    """rosbags' AnyReader, unchanged but for its errors while reading a damaged bag, which
    are BagErrors (rosbags raises many types for one: ReaderError, ZstdError, KeyError,
    OverflowError, even MemoryError for a corrupt length)."""

    def messages(
        self,
        connections: Collection[Connection] = (),
        start: int | None = None,
        stop: int | None = None,
    ) -> Generator[tuple[Connection, int, bytes], None, None]:
        try:
            yield from super().messages(connections, start, stop)
        except Exception as exc:
            raise BagError(f"bag is damaged: {type(exc).__name__}: {exc}") from exc

    def deserialize(self, rawdata: bytes, typ: str) -> object:
        try:
            return super().deserialize(rawdata, typ)
        except Exception as exc:
            raise BagError(f"cannot decode a {typ}: {type(exc).__name__}: {exc}") from exc


def _single_mcap(p: Path) -> Path | None:
    """The MCAP file of ``p``: ``p`` itself, or the only ``.mcap`` of a bag folder."""
    if p.is_dir():
        found = sorted(p.glob("*.mcap"))
        return found[0] if len(found) == 1 else None
    return p


def open_bag(path: str | Path) -> AnyReader | SalvageReader:
    """An open reader of the bag at ``path`` (close it). rosbags' AnyReader reads intact
    bags; a damaged MCAP file (or bag folder holding one) it refuses is salvaged instead,
    with a warning logged once per file saying what was lost (see :func:`salvage_report`).
    Errors met while reading either are BagErrors."""
    p = Path(path)
    if not p.exists():
        raise BagError(f"no bag at {p}")
    try:
        reader = _Reader([p])
        reader.open()
    except Exception as exc:
        refused = BagError(f"cannot read bag {p}: {type(exc).__name__}: {exc}")
        # Imported here: bag_salvage raises this module's BagError.
        from perception.bag_salvage import SalvageReader, is_mcap

        mcap = _single_mcap(p)
        if mcap is None or not is_mcap(mcap):
            raise refused from exc
        try:
            salvaged = SalvageReader(mcap)
        except BagError as why:
            raise BagError(f"{refused}; salvage: {why}") from exc
        stat = mcap.stat()
        key = (str(mcap.resolve()), stat.st_size, stat.st_mtime_ns)
        if key not in _warned:
            _warned.add(key)
            logger.warning("%s", salvaged.report.describe())
        return salvaged
    return reader


def salvage_report(reader: AnyReader | SalvageReader) -> SalvageReport | None:
    """What was lost when ``reader`` (from :func:`open_bag`) salvaged a damaged bag; None
    when the bag is intact."""
    from perception.bag_salvage import SalvageReader

    return reader.report if isinstance(reader, SalvageReader) else None


def topics(path: str | Path) -> dict[str, tuple[str, int]]:
    reader = open_bag(path)
    try:
        return {c.topic: (c.msgtype, c.msgcount) for c in reader.connections}
    finally:
        reader.close()


def _stamp(header: Any) -> float:
    return float(header.stamp.sec) + float(header.stamp.nanosec) * 1e-9


def _messages(reader: AnyReader | SalvageReader, wanted: Any) -> Iterator[tuple[Any, Any]]:
    conns = [c for c in reader.connections if wanted(c)]
    try:
        for conn, _t, raw in reader.messages(connections=conns):
            yield conn, reader.deserialize(raw, conn.msgtype)
    except BagError:
        raise  # the readers' own, already saying what is damaged (not wrapped twice)
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
