"""`loci run --record`: the episode as a ROS 2 MCAP bag, read back with rosbags."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from loci.cli import main
from perception.bag import open_bag
from perception.bag_images import decode_image, intrinsics_from_camera_info

TOPICS = {
    "/camera/color/image_raw": "sensor_msgs/msg/Image",
    "/camera/depth/image_raw": "sensor_msgs/msg/Image",
    "/camera/camera_info": "sensor_msgs/msg/CameraInfo",
    "/tf": "tf2_msgs/msg/TFMessage",
    "/scene_graph/markers": "visualization_msgs/msg/MarkerArray",
    "/loci/observations": "loci_msgs/msg/ObjectObservationArray",
    "/camera/instances": "loci_msgs/msg/InstanceMasks",
    "/camera/pose": "geometry_msgs/msg/PoseStamped",
}


def test_recorded_episode_reads_back(recorded_episode: tuple[Path, str]) -> None:
    bag, printed = recorded_episode
    frames = int(printed.split("recorded ")[1].split(" frames")[0])
    assert frames > 10
    reader = open_bag(bag)
    try:
        conns = {c.topic: c for c in reader.connections}
        assert {t: c.msgtype for t, c in conns.items()} == TOPICS
        assert all(c.msgcount == frames for c in conns.values())
        stamps: dict[str, list[int]] = {t: [] for t in TOPICS}
        labels_seen: set[str] = set()
        info = None
        for conn, stamp, raw in reader.messages():
            msg = reader.deserialize(raw, conn.msgtype)
            stamps[conn.topic].append(stamp)
            if conn.topic == "/camera/camera_info":
                info = msg
            elif conn.topic == "/camera/depth/image_raw":
                depth = decode_image(msg)
                assert depth.dtype == np.float32 and depth.shape == (240, 320)
                assert np.nanmax(depth) > 0.3
            elif conn.topic == "/tf":
                tr = msg.transforms[0]
                assert (tr.header.frame_id, tr.child_frame_id) == (
                    "map",
                    "camera_color_optical_frame",
                )
                q = tr.transform.rotation
                assert abs(q.x**2 + q.y**2 + q.z**2 + q.w**2 - 1) < 1e-6
                assert 1.0 < tr.transform.translation.z < 2.0  # camera height, z up
            elif conn.topic == "/loci/observations":
                for o in msg.observations:
                    labels_seen.add(o.label)
                    assert o.object_id and o.label and o.box_size.x > 0
                    json.loads(o.state_json)
            elif conn.topic == "/scene_graph/markers":
                assert len(msg.markers) % 2 == 0
            elif conn.topic == "/camera/instances":
                mask = decode_image(msg.mask)
                assert mask.dtype == np.uint16 and mask.shape == (240, 320)
                assert int(mask.max()) == len(msg.labels) == len(msg.object_ids)
                assert (msg.header.stamp.sec, msg.header.frame_id) == (
                    msg.mask.header.stamp.sec,
                    "camera_color_optical_frame",
                )
        # One message per topic per frame, stamps strictly increasing and shared across topics.
        for topic, values in stamps.items():
            assert values == sorted(values) and len(set(values)) == len(values), topic
        assert len({tuple(v) for v in stamps.values()}) == 1
        assert labels_seen
        assert info is not None
        k = intrinsics_from_camera_info(info, (240, 320))
        assert k.fx == pytest.approx(160.0) and k.cx == pytest.approx(159.5)
    finally:
        reader.close()


def test_recorded_episode_replays_into_a_scene_graph(
    recorded_episode: tuple[Path, str], tmp_path: Path
) -> None:
    from memory_core import Layer, Memory, SQLiteStore

    bag = recorded_episode[0]
    db = tmp_path / "replayed.db"
    assert main(["replay", str(bag), "--memory", str(db)]) == 0
    memory = Memory()
    with SQLiteStore(db) as store:
        memory.load(store)
    assert memory.graph.up_axis == "z"
    objects = memory.graph.nodes(Layer.OBJECT) + memory.graph.nodes(Layer.RECEPTACLE)
    assert len(objects) > 10
    assert len(memory.episodic) > 10  # the camera trajectory from /tf
