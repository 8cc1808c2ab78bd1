"""A recorded episode played onto live topics (bag_player) through perception_node into
memory_node: the fused graph matches the simulator's own observations in the bag."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.perception.test_frames import _ground_truth, _matches
from tests.ros.test_nodes import _latched_graph


@pytest.mark.slow
def test_recorded_bag_through_perception_into_memory(
    recorded_episode: tuple[Path, str], tmp_path: Path, rclpy_context: None
) -> None:
    from loci_ros.system import LociClient, LociSystem

    bag = recorded_episode[0]
    overrides = {
        "memory_node": {"store_path": str(tmp_path / "memory.db")},
        # Every frame delivered (reliable both ends): with best-effort images, frames were
        # lost under load and recall ranged 0.67-0.96 from run to run.
        "perception_node": {"reliable_inputs": True},
        "bag_player": {
            "bag": str(bag),
            "rate": 10.0,
            "max_pause_s": 0.15,
            "wait_for_subscribers": 4,
            "reliable": True,
        },
    }
    with LociSystem(tmp_path, overrides) as system:
        system.start_all(("perception_node", "memory_node"))
        client = LociClient("test_bag_player")
        try:
            client.wait_ready_services(("query_memory",), 60, system)
            player = system.start("bag_player")
            assert player.wait(timeout=120) == 0, system.log("bag_player")
            del system.procs["bag_player"]  # done, as it should be
            revision = client.query("label", "Bed").revision
            graph = _latched_graph(client, min_revision=revision)
            system.check_alive()
        finally:
            client.close()
    truth = _ground_truth(bag)
    nodes = [n for n in graph.nodes if n.layer in ("object", "receptacle")]
    pos = [np.array([n.position.x, n.position.y, n.position.z]) for n in nodes]
    precision = np.mean(
        [
            any(_matches(n.label, p, g) for g in truth.values())
            for n, p in zip(nodes, pos, strict=True)
        ]
    )
    recall = np.mean(
        [
            any(_matches(n.label, p, g) for n, p in zip(nodes, pos, strict=True))
            for g in truth.values()
        ]
    )
    print(f"\nplayed through the nodes: {len(nodes)} fused, P {precision:.3f} R {recall:.3f}")
    assert precision >= 0.9 and recall >= 0.8
    assert "played" in system.log("bag_player")


def _hostile_bag(path: Path) -> Path:
    """A ROS 2 MCAP bag whose only topic has the type ``this/msg/Foo``: a player that imports
    the module a type names would run ``import this`` (it prints the Zen of Python)."""
    from rosbags.rosbag2 import StoragePlugin, Writer
    from rosbags.typesys import Stores, get_types_from_msg, get_typestore

    store = get_typestore(Stores.ROS2_JAZZY)
    store.register(get_types_from_msg("int32 x", "this/msg/Foo"))
    writer = Writer(path, version=9, storage_plugin=StoragePlugin.MCAP)
    writer.open()
    conn = writer.add_connection("/zen", "this/msg/Foo", typestore=store)
    writer.write(conn, 1, store.serialize_cdr(store.types["this/msg/Foo"](x=1), "this/msg/Foo"))
    writer.close()
    return path


def test_unplayable_bags_are_refused_clearly(tmp_path: Path, rclpy_context: None) -> None:
    from loci_ros.system import LociSystem

    from tests.conftest import DATA

    evo = DATA / "ros_bags" / "evo_testdata"
    cases = [
        (evo / "tf_example_ros2", "no topic of a type installed here"),  # tf2_msgs: no wheel
        (evo / "tf_example.bag", "is a ROS 1 bag"),
        (_hostile_bag(tmp_path / "hostile"), "no interface package 'this' is installed"),
        (tmp_path / "absent.mcap", "no bag at"),
    ]
    for n, (bag, message) in enumerate(cases):
        work = tmp_path / f"run{n}"
        work.mkdir()
        with LociSystem(work, {"bag_player": {"bag": str(bag), "clock": False}}) as system:
            player = system.start("bag_player")
            assert player.wait(timeout=60) == 1, system.log("bag_player")
            log = system.log("bag_player")
            del system.procs["bag_player"]
        assert message in log, log
        assert "Traceback" not in log and "Beautiful is better than ugly" not in log


def test_a_truncated_bag_plays_what_can_be_salvaged(tmp_path: Path, rclpy_context: None) -> None:
    """A recording cut short (its summary lost) plays its readable messages, and the log
    says what was salvaged, instead of refusing the whole bag."""
    from loci_ros.system import LociSystem

    from tests.conftest import DATA

    whole = DATA / "ros_bags" / "rosbag2_fixtures" / "rosbag2_py__mcap_talker" / "talker.mcap"
    cut = tmp_path / "cut.mcap"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    overrides = {"bag_player": {"bag": str(cut), "clock": False, "rate": 100.0}}
    with LociSystem(tmp_path, overrides) as system:
        player = system.start("bag_player")
        assert player.wait(timeout=60) == 0, system.log("bag_player")
        log = system.log("bag_player")
        del system.procs["bag_player"]
    assert "playing what could be salvaged" in log and "20 messages" in log, log
    assert "played 20 messages" in log and "Traceback" not in log, log
