"""The built-in household simulator with the full Loci stack: sim_node (camera, poses,
/clock, skills), perception_node, memory_node (AI2-THOR convention), planner_node.

    ros2 launch launch/sim.launch.py
    ros2 action send_goal /execute_instruction loci_msgs/action/ExecuteInstruction \
        "{task_json: '$(head -1 tasks.jsonl)'}"
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument
from launch.substitutions import LaunchConfiguration

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import common_arguments, loci_node


def generate_launch_description() -> LaunchDescription:
    data = LaunchConfiguration("data_root")
    return LaunchDescription(
        [
            *common_arguments(use_sim_time_default="true"),
            DeclareLaunchArgument(
                "data_root",
                default_value=os.environ.get("LOCI_DATA_DIR", "../shared/data"),
                description="real scene data (AI2-THOR / ProcTHOR layouts)",
            ),
            loci_node("sim_node", {"data_root": data}),
            loci_node("perception_node"),
            loci_node(
                "memory_node",
                {"world_convention": "ai2thor", "store_path": LaunchConfiguration("store_path")},
            ),
            loci_node("planner_node", {"facts_root": data, "reset_service": "reset_world"}),
        ]
    )
