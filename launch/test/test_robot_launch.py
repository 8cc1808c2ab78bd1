"""launch_testing: robot.launch.py under real `ros2 launch` (docker/; not runnable on the
pip-only set-up). The memory node comes up, serves queries and latches its scene graph;
observations published to it appear in the graph; everything exits cleanly."""

from __future__ import annotations

import tempfile
import time
import unittest
from pathlib import Path

import launch_testing
import launch_testing.actions
import launch_testing.asserts
import pytest
import rclpy
from launch import LaunchDescription
from launch.actions import IncludeLaunchDescription
from launch.launch_description_sources import PythonLaunchDescriptionSource
from loci_msgs.msg import ObjectObservation, ObjectObservationArray, SceneGraph
from loci_msgs.srv import QueryMemory
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy

LAUNCH = Path(__file__).resolve().parents[1]
STORE = str(Path(tempfile.mkdtemp()) / "memory.db")


@pytest.mark.launch_test
def generate_test_description() -> LaunchDescription:
    robot = IncludeLaunchDescription(
        PythonLaunchDescriptionSource(str(LAUNCH / "robot.launch.py")),
        launch_arguments={"store_path": STORE}.items(),
    )
    return LaunchDescription([robot, launch_testing.actions.ReadyToTest()])


class TestRobotLaunch(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        rclpy.init()
        cls.node = rclpy.create_node("robot_launch_probe")

    @classmethod
    def tearDownClass(cls) -> None:
        cls.node.destroy_node()
        rclpy.shutdown()

    def test_memory_node_serves_and_latches(self) -> None:
        client = self.node.create_client(QueryMemory, "query_memory")
        self.assertTrue(client.wait_for_service(timeout_sec=30.0))
        latched = QoSProfile(
            depth=1,
            reliability=ReliabilityPolicy.RELIABLE,
            durability=DurabilityPolicy.TRANSIENT_LOCAL,
        )
        graphs: list[SceneGraph] = []
        self.node.create_subscription(SceneGraph, "scene_graph", graphs.append, latched)
        pub = self.node.create_publisher(ObjectObservationArray, "observations", 10)
        msg = ObjectObservationArray()
        msg.header.frame_id = "map"
        obs = ObjectObservation(label="Mug", object_id="mug_1")
        obs.header.frame_id = "map"
        obs.position.x, obs.position.y, obs.position.z = 1.0, 2.0, 0.8
        msg.observations = [obs]
        deadline = time.monotonic() + 30.0
        while time.monotonic() < deadline:
            pub.publish(msg)
            rclpy.spin_once(self.node, timeout_sec=0.2)
            if graphs and any(n.label == "Mug" for n in graphs[-1].nodes):
                break
        self.assertTrue(graphs and any(n.label == "Mug" for n in graphs[-1].nodes))
        future = client.call_async(QueryMemory.Request(kind="label", text="Mug"))
        rclpy.spin_until_future_complete(self.node, future, timeout_sec=10.0)
        self.assertTrue(future.result().success)
        self.assertEqual([n.id for n in future.result().nodes], ["mug_1"])


@launch_testing.post_shutdown_test()
class TestShutdown(unittest.TestCase):
    def test_exit_codes(self, proc_info: launch_testing.ProcInfoHandler) -> None:
        launch_testing.asserts.assertExitCodes(proc_info, allowable_exit_codes=[0, -2, -15])
