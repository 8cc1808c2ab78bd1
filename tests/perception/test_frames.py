"""Bag image topics → perception → memory: a recorded simulator episode (depth, camera_info,
TF, instance masks) replayed through perception and checked against the simulator's own
observations in the same bag; damaged frames are skipped and counted."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from rosbags.rosbag2 import StoragePlugin, Writer

from loci.cli import main
from loci.record import loci_typestore
from memory_core import (
    UNKNOWN_LABEL,
    Box3D,
    Layer,
    Memory,
    MemoryConfig,
    ObjectObservation,
    SceneGraphConfig,
)
from perception.bag import BagError, open_bag
from perception.frames import discover_frame_topics
from perception.replay import ReplayConfig, replay_bag

PERCEPTION_ONLY = ReplayConfig(observations_topic="")


def _memory() -> Memory:
    return Memory(MemoryConfig(scene_graph=SceneGraphConfig(up_axis="z")))


def _ground_truth(bag: Path) -> dict[str, tuple[str, Any, Any]]:
    """The simulator's last observation of every object: label, centre, box size."""
    truth = {}
    reader = open_bag(bag)
    try:
        conns = [c for c in reader.connections if c.topic == "/loci/observations"]
        for conn, _t, raw in reader.messages(connections=conns):
            for o in reader.deserialize(raw, conn.msgtype).observations:
                p, s = o.position, o.box_size
                truth[o.object_id] = (o.label, np.array([p.x, p.y, p.z]), np.array([s.x, s.y, s.z]))
    finally:
        reader.close()
    return truth


def _matches(label: str, position: Any, truth: tuple[str, Any, Any]) -> bool:
    """Same label, and within 0.3 m of the centre; for furniture (a side ≥ 0.5 m), whose
    visible surface lies far from its centre, within its box grown by 0.3 m."""
    t_label, centre, size = truth
    if label != t_label:
        return False
    delta = np.abs(np.asarray(position) - centre)
    if size.max() >= 0.5:
        return bool(np.all(delta <= size / 2 + 0.3))
    return float(np.linalg.norm(delta)) <= 0.3


def test_discovery_prefers_the_depth_topics_namespace() -> None:
    found = {
        "/a/depth/image_raw": ("sensor_msgs/msg/Image", 3),
        "/a/depth/camera_info": ("sensor_msgs/msg/CameraInfo", 3),
        "/b/color/camera_info": ("sensor_msgs/msg/CameraInfo", 3),
        "/a/color/image_raw": ("sensor_msgs/msg/Image", 3),
        "/a/instances": ("loci_msgs/msg/InstanceMasks", 3),
    }
    ft = discover_frame_topics(found)
    assert ft is not None
    assert (ft.depth, ft.camera_info, ft.masks) == (
        "/a/depth/image_raw",
        "/a/depth/camera_info",
        "/a/instances",
    )
    assert discover_frame_topics({"/c/image_raw": ("sensor_msgs/msg/Image", 1)}) is None
    with pytest.raises(BagError, match="not a sensor_msgs/Image"):
        discover_frame_topics(found, depth="/a/depth/camera_info")


def test_recorded_frames_perceived_into_the_scene_graph(
    recorded_episode: tuple[Path, str],
) -> None:
    bag = recorded_episode[0]
    truth = _ground_truth(bag)
    memory = _memory()
    summary = replay_bag(bag, memory, PERCEPTION_ONLY)
    assert summary.observation_messages == 0  # only perception fed the graph
    frames = summary.frames
    assert frames.depth_frames > 10 and frames.perceived == frames.depth_frames
    assert frames.skipped == ()
    nodes = memory.graph.nodes(Layer.OBJECT) + memory.graph.nodes(Layer.RECEPTACLE)
    precision = np.mean(
        [any(_matches(n.label, n.position, g) for g in truth.values()) for n in nodes]
    )
    recall = np.mean([any(_matches(n.label, n.position, g) for n in nodes) for g in truth.values()])
    print(f"\nrecorded: {len(nodes)} fused, {len(truth)} true; P {precision:.3f} R {recall:.3f}")
    assert len(truth) > 20
    assert precision >= 0.9 and recall >= 0.9


def _rewrite(src: Path, dst: Path, edit: Callable[[str, int, Any], Any]) -> None:
    """Copy a bag message by message; ``edit(topic, frame_index, msg)`` returns the message
    to write (possibly changed) or None to drop it."""
    ts = loci_typestore()
    reader = open_bag(src)
    stamps: dict[int, int] = {}
    try:
        with Writer(dst, version=9, storage_plugin=StoragePlugin.MCAP) as writer:
            conns = {
                c.topic: writer.add_connection(c.topic, c.msgtype, typestore=ts)
                for c in reader.connections
            }
            for conn, t, raw in reader.messages():
                index = stamps.setdefault(t, len(stamps))
                msg = edit(conn.topic, index, reader.deserialize(raw, conn.msgtype))
                if msg is not None:
                    writer.write(conns[conn.topic], t, ts.serialize_cdr(msg, conn.msgtype))
    finally:
        reader.close()


def test_damaged_frames_are_skipped_and_counted(
    recorded_episode: tuple[Path, str], tmp_path: Path
) -> None:
    def edit(topic: str, i: int, msg: Any) -> Any:
        if topic == "/camera/camera_info" and i in (0, 1):
            return None  # no camera_info at or before frames 0 and 1
        if topic == "/camera/camera_info" and i == 4:
            return dataclasses.replace(msg, width=msg.width * 2)
        if topic == "/tf" and 10 <= i < 15:
            return None  # a 6 s hole in the camera's TF
        if topic == "/camera/instances" and i == 20:
            return dataclasses.replace(msg, mask=dataclasses.replace(msg.mask, encoding="8UC3"))
        if topic == "/camera/instances" and i == 30:
            return None
        if topic == "/camera/depth/image_raw" and i == 40:  # millimetres sent as 32FC1 metres
            mm = np.frombuffer(msg.data.tobytes(), "<f4") * 1000
            return dataclasses.replace(
                msg, data=np.frombuffer(mm.astype("<f4").tobytes(), np.uint8)
            )
        return msg

    bad = tmp_path / "damaged"
    _rewrite(recorded_episode[0], bad, edit)
    memory = _memory()
    memory.observe(
        [ObjectObservation("Sentinel", (0.0, 0.0, 9.0), Box3D((0.0, 0.0, 9.0), (0.1, 0.1, 0.1)))]
    )
    before = {n.id for n in memory.graph.nodes(Layer.OBJECT)}
    summary = replay_bag(bad, memory, PERCEPTION_ONLY)
    skipped = dict(summary.frames.skipped)
    assert skipped == {
        "no camera_info": 2,
        "size mismatch": 1,
        "TF gap": 5,
        "bad image": 1,
        "no instance mask": 1,
        "implausible depth scale": 1,
    }
    assert summary.frames.perceived == summary.frames.depth_frames - 11
    assert before <= {n.id for n in memory.graph.nodes(Layer.OBJECT)}  # nothing lost
    # The CLI reports the same counts in summary.json.
    report = tmp_path / "report"
    assert main(["replay", str(bad), "--observations-topic", "", "--report", str(report)]) == 0
    written = json.loads((report / "summary.json").read_text())
    assert written["frames"]["skipped"] == skipped


def test_frames_without_masks_are_counted_not_perceived(
    recorded_episode: tuple[Path, str],
) -> None:
    memory = _memory()
    summary = replay_bag(
        recorded_episode[0],
        memory,
        dataclasses.replace(PERCEPTION_ONLY, masks_topic="", segmenter=None),
    )
    assert summary.frames.perceived == 0
    assert dict(summary.frames.skipped) == {"no instance mask": summary.frames.depth_frames}
    assert len(memory.episodic) > 10  # the trajectory still replays


def test_frames_without_masks_are_segmented_by_geometry(
    recorded_episode: tuple[Path, str],
) -> None:
    """The same frames with the segmenter on (the default): every frame is used, and what
    stands on the rendered floor and counters becomes ``unknown`` things."""
    memory = _memory()
    summary = replay_bag(
        recorded_episode[0], memory, dataclasses.replace(PERCEPTION_ONLY, masks_topic="")
    )
    assert summary.frames.segmented == summary.frames.depth_frames > 0
    assert summary.frames.perceived == summary.frames.depth_frames
    assert summary.frames.skipped == ()
    unknown = memory.graph.find_by_label(UNKNOWN_LABEL)
    assert len(unknown) >= 3 and summary.frames.observations >= len(unknown)
    assert {n.label for n in memory.graph.nodes()} == {UNKNOWN_LABEL}
