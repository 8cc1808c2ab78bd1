"""Bag → memory: the robot's trajectory into episodic memory, with TF resolved offline.

Pose source (discovered unless given): ``/amcl_pose``, else an Odometry topic, else
the first PoseStamped topic. Each pose becomes a ``move`` event in one episode named
after the bag; where TF can resolve ``fixed_frame`` → ``base_frame`` at the pose's
time, that pose is used, otherwise the message's own pose is kept and the TF gap is
counted. Camera images are not replayed yet (issue 5): image topics are counted as
skipped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scipy.spatial.transform import Rotation

from memory_core import Box3D, Event, Memory, ObjectObservation, Pose
from perception.bag import BagError, PoseSample, open_bag, read_poses, read_tf, topics
from perception.tf import TFBuffer, TFError

__all__ = ["ReplaySummary", "replay_bag"]

_POSE_PREFERENCE = (
    "geometry_msgs/msg/PoseWithCovarianceStamped",
    "nav_msgs/msg/Odometry",
    "geometry_msgs/msg/PoseStamped",
)


def replay_observations(
    path: str | Path, memory: Memory, topic: str = "/loci/observations"
) -> tuple[int, int]:
    """Fuse the project's own observation messages into the scene graph; returns
    (messages, observations). Bad observations (NaN, empty labels) are skipped and
    counted by the caller through the difference."""
    reader = open_bag(path)
    n_msgs = n_obs = 0
    try:
        conns = [c for c in reader.connections if c.topic == topic]
        for conn, _t, raw in reader.messages(connections=conns):
            msg: Any = reader.deserialize(raw, conn.msgtype)
            batch = []
            for o in msg.observations:
                p, c, s = o.position, o.box_center, o.box_size
                try:
                    state = json.loads(o.state_json) if o.state_json else {}
                    batch.append(
                        ObjectObservation(
                            label=o.label,
                            position=(p.x, p.y, p.z),
                            box=Box3D((c.x, c.y, c.z), (s.x, s.y, s.z)),
                            state=state,
                            confidence=float(o.confidence),
                            object_id=o.object_id or None,
                            timestamp=o.header.stamp.sec + o.header.stamp.nanosec * 1e-9,
                            source_frame=o.header.frame_id,
                        )
                    )
                except (ValueError, TypeError):
                    continue
            memory.observe(batch)
            n_msgs += 1
            n_obs += len(batch)
    finally:
        reader.close()
    return n_msgs, n_obs


@dataclass(frozen=True, slots=True)
class ReplaySummary:
    bag: str
    topics: dict[str, tuple[str, int]]
    pose_topic: str
    poses: int
    from_tf: int
    tf_gaps: int
    frames: int
    skipped_images: int
    episode_id: str
    observation_messages: int = 0
    observations: int = 0


def _pick_pose_topic(found: dict[str, tuple[str, int]]) -> str:
    if "/amcl_pose" in found:
        return "/amcl_pose"
    for kind in _POSE_PREFERENCE:
        for topic, (msgtype, _n) in sorted(found.items()):
            if msgtype == kind:
                return topic
    raise BagError(f"no pose topic in the bag (topics: {sorted(found)})")


def _poses_from_tf(tf: TFBuffer, base_frame: str) -> tuple[str, list[PoseSample], str, str]:
    dynamic = tf.dynamic_edges()
    if not dynamic:
        raise BagError("the bag has no pose topic and no moving TF frame")
    base = base_frame if base_frame in tf.frames else dynamic[0][1]
    root = tf.root_of(base)
    times = sorted({t for parent, child in dynamic for t in tf.sample_times(parent, child)})
    samples = []
    for t in times:
        try:
            m = tf.lookup(root, base, t)
        except TFError:
            continue
        x, y, z, w = Rotation.from_matrix(m[:3, :3]).as_quat()
        samples.append(
            PoseSample(
                t, root, base, (float(m[0, 3]), float(m[1, 3]), float(m[2, 3])), (x, y, z, w)
            )
        )
    return "/tf", samples, root, base


def replay_bag(
    path: str | Path,
    memory: Memory,
    pose_topic: str | None = None,
    fixed_frame: str = "map",
    base_frame: str = "base_link",
) -> ReplaySummary:
    found = topics(path)
    has_tf = "/tf" in found or "/tf_static" in found
    tf = read_tf(path) if has_tf else None
    n_obs_msgs = n_obs = 0
    if "/loci/observations" in found:
        n_obs_msgs, n_obs = replay_observations(path, memory)
    try:
        topic = pose_topic or _pick_pose_topic(found)
        samples = read_poses(path, topic)
    except BagError:
        if n_obs_msgs and tf is None and not pose_topic:  # observations only, no trajectory
            return ReplaySummary(
                str(path),
                found,
                "",
                0,
                0,
                0,
                len(tf.frames) if tf else 0,
                _images(found),
                "",
                n_obs_msgs,
                n_obs,
            )
        if tf is None or pose_topic:
            raise
        # A TF-only bag: the robot's pose is its base frame in the tree's root frame.
        topic, samples, fixed_frame, base_frame = _poses_from_tf(tf, base_frame)
    episode = f"replay:{Path(path).name}"
    if episode in {e.episode_id for e in memory.episodic.episodes}:
        episode = f"{episode}#{len(memory.episodic.episodes)}"
    start = samples[0].t if samples else 0.0
    memory.episodic.begin_episode(episode, f"replay of {Path(path).name}", start)
    from_tf = gaps = 0
    last_t = memory.episodic.events()[-1].t if len(memory.episodic) else float("-inf")
    for s in samples:
        position, quat = s.position, s.orientation
        if tf is not None and fixed_frame in tf.frames and base_frame in tf.frames:
            try:
                m = tf.lookup(fixed_frame, base_frame, s.t)
                position = (float(m[0, 3]), float(m[1, 3]), float(m[2, 3]))
                x, y, z, w = Rotation.from_matrix(m[:3, :3]).as_quat()
                quat = (float(x), float(y), float(z), float(w))
                from_tf += 1
            except TFError:
                gaps += 1
        t = max(s.t, last_t)  # episodic memory is append-only in time
        memory.record(
            Event(
                t,
                episode,
                "move",
                "observed",
                (),
                None,
                Pose(position, quat),
                f"{topic} in {s.frame_id}",
            )
        )
        last_t = t
    memory.episodic.end_episode(episode, last_t if samples else start, "replayed")
    return ReplaySummary(
        str(path),
        found,
        topic,
        len(samples),
        from_tf,
        gaps,
        len(tf.frames) if tf else 0,
        _images(found),
        episode,
        n_obs_msgs,
        n_obs,
    )


def _images(found: dict[str, tuple[str, int]]) -> int:
    return sum(n for (kind, n) in found.values() if kind == "sensor_msgs/msg/Image")
