"""Bag → memory: the robot's trajectory into episodic memory, with TF resolved offline.

Pose source (discovered unless given): ``/amcl_pose``, else an Odometry topic, else
the first PoseStamped topic. Each pose becomes a ``move`` event in one episode named
after the bag; where TF can resolve ``fixed_frame`` → ``base_frame`` at the pose's
time, that pose is used, otherwise the message's own pose is kept and the TF gap is
counted. Depth images with instance masks (``loci_msgs/InstanceMasks``) go through
perception into the scene graph (see :mod:`perception.frames`), as do the project's own
observation messages; depth images without masks are segmented by geometry into
``unknown`` things (:mod:`perception.segment`). A damaged MCAP bag (a recording cut
short) is replayed from its readable prefix; :attr:`ReplaySummary.salvage` says what was
lost.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from scipy.spatial.transform import Rotation

from memory_core import Box3D, Event, Layer, LociError, Memory, ObjectObservation, Pose, Relation
from perception.bag import BagError, PoseSample, open_bag, read_poses, read_tf, salvage_report
from perception.bag_salvage import SalvageReport
from perception.depth_map import DepthMap
from perception.frames import FrameStats, FrameTopics, discover_frame_topics, replay_frames
from perception.instances import PerceptionConfig
from perception.segment import SegmenterConfig
from perception.tf import TFBuffer, TFError

__all__ = ["ReplayConfig", "ReplaySummary", "replay_bag", "replay_observations"]

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
                            box=Box3D((c.x, c.y, c.z), (s.x, s.y, s.z)) if o.has_box else None,
                            state=state,
                            confidence=float(o.confidence),
                            object_id=o.object_id or None,
                            timestamp=o.header.stamp.sec + o.header.stamp.nanosec * 1e-9,
                            source_frame=o.header.frame_id,
                            parent_id=o.parent_id or None,
                            relation=Relation(o.relation) if o.relation else None,
                            layer=Layer(o.layer) if o.layer else None,
                            embedding=tuple(float(v) for v in o.embedding) or None,
                            # Bags recorded before the field existed lack it.
                            name=getattr(o, "name", "") or None,
                        )
                    )
                except (ValueError, TypeError, RecursionError, LociError):
                    # One bad observation (NaN, 1e300, no label, a state nested past the
                    # parser's recursion) is skipped; the message's others are fused.
                    continue
            # A parent neither in memory nor in this batch is unknown here: keep the
            # observation, drop the reference.
            ids = {o.object_id for o in batch}
            batch = [
                o
                if o.parent_id is None or o.parent_id in ids or o.parent_id in memory.graph
                else dataclasses.replace(o, parent_id=None, relation=None)
                for o in batch
            ]
            memory.observe(batch)
            n_msgs += 1
            n_obs += len(batch)
    finally:
        reader.close()
    return n_msgs, n_obs


@dataclass(frozen=True, slots=True)
class ReplayConfig:
    """Which topics and frames a replay uses; ``None`` topics are discovered, an empty
    string switches that input off."""

    pose_topic: str | None = None
    observations_topic: str = "/loci/observations"
    depth_topic: str | None = None
    camera_info_topic: str | None = None
    masks_topic: str | None = None
    fixed_frame: str = "map"
    base_frame: str = "base_link"
    depth_scale: float = 1000.0
    """Units per metre of 16UC1 depth (Redwood/RealSense 1000, TUM/ICL-NUIM 5000)."""
    perception: PerceptionConfig = field(default_factory=PerceptionConfig)
    segmenter: SegmenterConfig | None = field(default_factory=SegmenterConfig)
    """Segments depth frames by geometry when the bag has no instance masks (``unknown``
    things on support planes; the map frame's up axis is ``segmenter.up_axis``, z as in
    ROS); None: such frames only feed the map from depth."""


@dataclass(frozen=True, slots=True)
class ReplaySummary:
    bag: str
    topics: dict[str, tuple[str, int]]
    pose_topic: str
    poses: int
    from_tf: int
    tf_gaps: int
    tf_frames: int
    episode_id: str
    observation_messages: int = 0
    observations: int = 0
    frame_topics: FrameTopics | None = None
    frames: FrameStats = field(default_factory=FrameStats)
    salvage: SalvageReport | None = None
    """Set when the bag was damaged (e.g. a recording cut short): what was read of it
    and what was lost; the replay used the messages that could be read."""


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
    config: ReplayConfig | None = None,
    depth_map: DepthMap | None = None,
) -> ReplaySummary:
    """Replay ``path`` into ``memory``; with ``depth_map``, the bag's depth frames are also
    fused into it (a map from depth, for a robot with no SLAM map). A damaged MCAP bag is
    replayed from the messages that can be read, and the summary's ``salvage`` says what
    was lost (a warning is logged too)."""
    cfg = config or ReplayConfig()
    reader = open_bag(path)  # a damaged bag is salvaged, and says so once
    try:
        found = {c.topic: (c.msgtype, c.msgcount) for c in reader.connections}
        salvage = salvage_report(reader)
    finally:
        reader.close()
    has_tf = "/tf" in found or "/tf_static" in found
    tf = read_tf(path) if has_tf else None
    n_obs_msgs = n_obs = 0
    if cfg.observations_topic and cfg.observations_topic in found:
        n_obs_msgs, n_obs = replay_observations(path, memory, cfg.observations_topic)
    frame_topics = None
    if cfg.depth_topic != "":
        frame_topics = discover_frame_topics(
            found, cfg.depth_topic, cfg.camera_info_topic or None, cfg.masks_topic or None
        )
    frames = FrameStats()
    if frame_topics is not None:
        if cfg.masks_topic == "":
            frame_topics = dataclasses.replace(frame_topics, masks=None)
        frames = replay_frames(
            path,
            memory,
            frame_topics,
            tf,
            cfg.fixed_frame,
            cfg.depth_scale,
            cfg.perception,
            depth_map,
            cfg.segmenter,
        )
    fixed_frame, base_frame = cfg.fixed_frame, cfg.base_frame
    summary = partial(
        ReplaySummary,
        str(path),
        found,
        tf_frames=len(tf.frames) if tf else 0,
        observation_messages=n_obs_msgs,
        observations=n_obs,
        frame_topics=frame_topics,
        frames=frames,
        salvage=salvage,
    )
    try:
        topic = cfg.pose_topic or _pick_pose_topic(found)
        samples = read_poses(path, topic)
    except BagError:
        if cfg.pose_topic:
            raise
        if tf is None or not tf.dynamic_edges():
            if n_obs_msgs or frames.perceived:  # what was seen, without a trajectory
                return summary("", 0, 0, 0, episode_id="")
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
    return summary(topic, len(samples), from_tf, gaps, episode_id=episode)
