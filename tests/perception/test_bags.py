"""Bag replay without ROS on real bags: TF chains over time, pose streams, storage parity."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from loci.cli import main
from memory_core import Memory, SQLiteStore
from perception.bag import BagError, open_bag, read_poses, read_tf
from perception.replay import replay_bag
from perception.tf import TFBuffer, TFError
from planners.observe import new_memory
from tests.conftest import DATA

BAGS = DATA / "ros_bags"
NAV2 = BAGS / "evo_testdata/nav2_turtlebot.mcap"


def test_turtlebot_camera_chain_over_time_and_amcl_agreement() -> None:
    tf = read_tf(NAV2)
    assert tf.chain("map", "oakd_rgb_camera_optical_frame") == [
        "oakd_rgb_camera_optical_frame",
        "oakd_rgb_camera_frame",
        "oakd_link",
        "oakd_camera_bracket",
        "shell_link",
        "base_link",
        "odom",
        "map",
    ]
    amcl = read_poses(NAV2, "/amcl_pose")
    assert len(amcl) == 135
    errors, gaps = [], 0
    for s in amcl:
        try:
            m = tf.lookup("map", "base_link", s.t)
        except TFError:
            gaps += 1
            continue
        errors.append(math.dist(m[:3, 3], s.position))
        cam = tf.lookup("map", "oakd_rgb_camera_optical_frame", s.t)
        # The optical frame looks along +z of the camera, horizontally, from ~0.24 m up.
        assert abs(cam[2, 2]) < 0.1 and 0.1 < cam[2, 3] - m[2, 3] < 0.5
    print(
        f"\nTF map->base_link vs /amcl_pose: median {np.median(errors) * 100:.1f} cm, "
        f"max {max(errors) * 100:.1f} cm, {gaps} TF gaps"
    )
    assert np.median(errors) < 0.1 and gaps < 10


def test_trajectory_goes_into_episodic_memory(tmp_path: Path) -> None:
    memory = new_memory()
    summary = replay_bag(NAV2, memory)
    assert summary.pose_topic == "/amcl_pose" and summary.poses == 135
    events = memory.episodic.events(summary.episode_id)
    assert len(events) == 135 and all(e.pose is not None for e in events)
    assert [e.t for e in events] == sorted(e.t for e in events)
    db = tmp_path / "m.db"
    assert main(["replay", str(NAV2), "--memory", str(db), "--report", str(tmp_path / "r")]) == 0
    assert main(["replay", str(NAV2), "--memory", str(db)]) == 0  # a second run appends
    loaded = Memory()
    with SQLiteStore(db) as store:
        loaded.load(store)
    assert len(loaded.episodic) == 270 and len(loaded.episodic.episodes) == 2
    assert (tmp_path / "r/summary.json").exists()


def test_mcap_and_sqlite3_read_the_same() -> None:
    def talk(path: Path) -> tuple[list[tuple[int, str]], dict[str, int]]:
        reader = open_bag(path)
        try:
            counts = {c.topic: c.msgcount for c in reader.connections if c.msgcount}
            # /rosout (rcl_interfaces/Log) changed layout between ROS releases and the sqlite3
            # bag embeds no schema, so only the talker's strings are decoded and compared.
            conns = [c for c in reader.connections if c.topic == "/topic"]
            out = [
                (t, reader.deserialize(raw, c.msgtype).data)
                for c, t, raw in reader.messages(connections=conns)
            ]
            return out, counts
        finally:
            reader.close()

    mcap, mcap_counts = talk(BAGS / "rosbag2_fixtures/rosbag2_py__mcap_talker/talker.mcap")
    sqlite, sqlite_counts = talk(BAGS / "rosbag2_fixtures/rosbag2_py__sqlite3_talker/talker.db3")
    assert len(mcap) == 10 and mcap == sqlite
    assert mcap_counts == sqlite_counts == {"/topic": 10, "/rosout": 10}


def test_ros1_and_ros2_tf_bags_agree() -> None:
    ros1 = read_tf(BAGS / "evo_testdata/tf_example.bag")
    ros2 = read_tf(BAGS / "evo_testdata/tf_example_ros2")
    assert ros1.frames == ros2.frames
    times = ros1.sample_times("odom", "base_footprint")
    assert times == ros2.sample_times("odom", "base_footprint")
    for t in times[::50]:
        assert np.allclose(ros1.lookup("odom", "base_link", t), ros2.lookup("odom", "base_link", t))
    mid = (times[10] + times[11]) / 2  # between two samples: interpolated
    m = ros1.lookup("odom", "base_footprint", mid)
    a, b = (ros1.lookup("odom", "base_footprint", times[i]) for i in (10, 11))
    assert np.allclose(m[:3, 3], (a[:3, 3] + b[:3, 3]) / 2, atol=1e-9)


def test_bad_bags_and_tf_gaps(tmp_path: Path) -> None:
    truncated = tmp_path / "cut.mcap"
    truncated.write_bytes(NAV2.read_bytes()[:2000])  # before any whole message (see salvage)
    with pytest.raises(BagError, match="no message to salvage"):
        replay_bag(truncated, new_memory())
    with pytest.raises(BagError, match="no bag"):
        read_tf(tmp_path / "missing.mcap")
    with pytest.raises(BagError, match="not a pose"):
        read_poses(NAV2, "/tf")
    tf = TFBuffer(max_gap_s=0.5)
    tf.add("map", "odom", 0.0, (0, 0, 0), (0, 0, 0, 1))
    tf.add("map", "odom", 2.0, (2, 0, 0), (0, 0, 0, 1))
    with pytest.raises(TFError, match="gap"):
        tf.lookup("map", "odom", 1.0)
    # At a sample the transform is known, however long the gap after it.
    assert tf.lookup("map", "odom", 2.0)[0, 3] == 2.0
    tf.add("map", "odom", 5.0, (5, 0, 0), (0, 0, 0, 1))
    assert tf.lookup("map", "odom", 2.0)[0, 3] == 2.0
    assert tf.lookup("map", "odom", 2.01)[0, 3] == 2.0  # within extrapolation reach
    with pytest.raises(TFError, match="unknown frame"):
        tf.lookup("map", "camera", 1.0)
    with pytest.raises(TFError, match="two parents"):
        tf.add("base", "odom", 0.0, (0, 0, 0), (0, 0, 0, 1))
    assert main(["replay", str(tmp_path / "missing.mcap")]) == 2


def test_poisoned_observations_in_a_bag_are_skipped_one_by_one(tmp_path: Path) -> None:
    """Observation messages holding a position at 1e300, NaN, an empty label or a state
    nested 100,000 deep: each such observation is skipped, the good ones of the same
    message are fused, and the replay goes on (issue 17, item 10)."""
    import numpy as np
    from rosbags.rosbag2 import StoragePlugin, Writer

    from loci.record import loci_typestore
    from memory_core import Memory
    from perception.replay import replay_observations

    ts = loci_typestore()
    T = ts.types  # noqa: N806

    def obs(label: str, x: float, state_json: str = "{}") -> Any:
        p = T["geometry_msgs/msg/Point"](x=x, y=1.0, z=0.5)
        return T["loci_msgs/msg/ObjectObservation"](
            header=T["std_msgs/msg/Header"](
                stamp=T["builtin_interfaces/msg/Time"](sec=1, nanosec=0), frame_id="map"
            ),
            label=label,
            object_id="",
            position=p,
            has_box=False,
            box_center=p,
            box_size=T["geometry_msgs/msg/Vector3"](x=0.0, y=0.0, z=0.0),
            confidence=1.0,
            parent_id="",
            relation="",
            layer="",
            state_json=state_json,
            embedding=np.zeros(0, dtype=np.float64),
            name="",
        )

    deep = "[" * 100_000 + "]" * 100_000
    batch = [
        obs("Apple", 1.0),
        obs("Bad", 1e300),
        obs("Nan", float("nan")),
        obs("", 2.0),
        obs("Deep", 3.0, deep),
        obs("Mug", 4.0, '{"isOpen": false}'),
    ]
    array = T["loci_msgs/msg/ObjectObservationArray"](
        header=T["std_msgs/msg/Header"](
            stamp=T["builtin_interfaces/msg/Time"](sec=1, nanosec=0), frame_id="map"
        ),
        observations=batch,
    )
    bag = tmp_path / "poisoned"
    with Writer(bag, version=9, storage_plugin=StoragePlugin.MCAP) as writer:
        conn = writer.add_connection(
            "/loci/observations", "loci_msgs/msg/ObjectObservationArray", typestore=ts
        )
        for t in (1, 2):
            writer.write(
                conn,
                t * 1_000_000_000,
                ts.serialize_cdr(array, "loci_msgs/msg/ObjectObservationArray"),
            )
    memory = Memory()
    messages, fused = replay_observations(bag, memory)
    assert messages == 2 and fused == 4  # Apple and Mug, twice
    assert sorted(n.label for n in memory.graph.nodes()) == ["Apple", "Mug"]
