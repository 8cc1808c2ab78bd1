"""Replay a recorded bag into memory through the nodes: `ros2 bag play BAG --clock` feeds
perception_node and memory_node (sim time from the bag). Without ROS, `loci replay BAG`
does the same offline.

    ros2 launch launch/replay.launch.py bag:=episode.mcap
"""

from __future__ import annotations

import sys
from pathlib import Path

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, ExecuteProcess
from launch.substitutions import LaunchConfiguration

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import common_arguments, loci_node


def generate_launch_description() -> LaunchDescription:
    return LaunchDescription(
        [
            *common_arguments(use_sim_time_default="true"),
            DeclareLaunchArgument(
                "bag", description="the bag to play (MCAP or sqlite3, e.g. from loci run --record)"
            ),
            DeclareLaunchArgument(
                "world_convention",
                default_value="ros",
                description="convention of a new memory: ros, or ai2thor for recorded sim episodes",
            ),
            loci_node("perception_node"),
            loci_node(
                "memory_node",
                {
                    "store_path": LaunchConfiguration("store_path"),
                    "world_convention": LaunchConfiguration("world_convention"),
                },
            ),
            ExecuteProcess(
                cmd=["ros2", "bag", "play", LaunchConfiguration("bag"), "--clock"],
                output="screen",
            ),
        ]
    )
