"""Replay a recorded bag into memory through the nodes: bag_player (rosbags; rosbag2 is
not needed) publishes the recorded topics and the bag's /clock to perception_node and
memory_node. Without ROS, `loci replay BAG` does the same offline.

    ros2 launch launch/replay.launch.py bag:=episode.mcap
"""

from __future__ import annotations

import sys
from pathlib import Path

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument
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
            DeclareLaunchArgument(
                "rate", default_value="1.0", description="playback speed of the bag"
            ),
            loci_node(
                "bag_player",
                {"bag": LaunchConfiguration("bag"), "rate": LaunchConfiguration("rate")},
            ),
        ]
    )
