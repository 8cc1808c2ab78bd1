"""launch_testing: sim.launch.py under real `ros2 launch` (docker/; needs the scene data
mounted and LOCI_DATA_DIR set, else skipped). An ExecuteInstruction goal succeeds."""

from __future__ import annotations

import json
import os
import tempfile
import unittest
from pathlib import Path

import launch_testing
import launch_testing.actions
import pytest
import rclpy
from launch import LaunchDescription
from launch.actions import IncludeLaunchDescription
from launch.launch_description_sources import PythonLaunchDescriptionSource
from loci_msgs.action import ExecuteInstruction
from rclpy.action import ActionClient

LAUNCH = Path(__file__).resolve().parents[1]
DATA = os.environ.get("LOCI_DATA_DIR", "")
STORE = str(Path(tempfile.mkdtemp()) / "memory.db")
TASK = {
    "id": "launch-test",
    "scene": "FloorPlan1",
    "instruction": "Open the fridge",
    "goal": [{"object": ["Fridge"], "state": {"isOpen": True}}],
}


@pytest.mark.launch_test
def generate_test_description() -> LaunchDescription:
    sim = IncludeLaunchDescription(
        PythonLaunchDescriptionSource(str(LAUNCH / "sim.launch.py")),
        launch_arguments={"store_path": STORE, "data_root": DATA or "/nonexistent"}.items(),
    )
    return LaunchDescription([sim, launch_testing.actions.ReadyToTest()])


@unittest.skipUnless(DATA and Path(DATA).is_dir(), "scene data not mounted (set LOCI_DATA_DIR)")
class TestSimLaunch(unittest.TestCase):
    def test_instruction_succeeds(self) -> None:
        rclpy.init()
        node = rclpy.create_node("sim_launch_probe")
        try:
            client = ActionClient(node, ExecuteInstruction, "execute_instruction")
            self.assertTrue(client.wait_for_server(timeout_sec=60.0))
            sent = client.send_goal_async(
                ExecuteInstruction.Goal(instruction=TASK["instruction"], task_json=json.dumps(TASK))
            )
            rclpy.spin_until_future_complete(node, sent, timeout_sec=30.0)
            result = sent.result().get_result_async()
            rclpy.spin_until_future_complete(node, result, timeout_sec=300.0)
            self.assertTrue(result.result().result.success, result.result().result.summary)
        finally:
            node.destroy_node()
            rclpy.shutdown()
