"""Loci on a robot: perception_node fed by the robot's camera, memory_node (ROS
convention), and optionally planner_node, which needs the robot to serve nav2's
navigate_to_pose, loci_msgs/action/ExecuteSkill and a latched /map (sim_node serves the same
in simulation; not verified on hardware).

    ros2 launch launch/robot.launch.py depth_topic:=/camera/aligned_depth/image_raw \
        camera_info_topic:=/camera/aligned_depth/camera_info masks_topic:=/segmenter/masks \
        camera_pose_topic:=/camera/pose
"""

from __future__ import annotations

import sys
from pathlib import Path

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument
from launch.conditions import IfCondition
from launch.substitutions import LaunchConfiguration

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import common_arguments, loci_node

TOPICS = {
    "depth_topic": ("camera/depth/image_raw", "depth image (32FC1 metres or 16UC1)"),
    "camera_info_topic": ("camera/camera_info", "the depth camera's CameraInfo"),
    "masks_topic": ("camera/instances", "loci_msgs/InstanceMasks from a 2-D segmenter"),
    "camera_pose_topic": ("camera/pose", "PoseStamped of the camera optical frame in map"),
}


def generate_launch_description() -> LaunchDescription:
    args = [
        DeclareLaunchArgument(name, default_value=default, description=text)
        for name, (default, text) in TOPICS.items()
    ]
    args.append(
        DeclareLaunchArgument(
            "with_planner",
            default_value="false",
            description=(
                "start planner_node (the robot must serve nav2's navigate_to_pose, "
                "execute_skill and /map)"
            ),
        )
    )
    remaps = [(default, LaunchConfiguration(name)) for name, (default, _t) in TOPICS.items()]
    return LaunchDescription(
        [
            *common_arguments(use_sim_time_default="false"),
            *args,
            loci_node("perception_node", remappings=remaps),
            loci_node("memory_node", {"store_path": LaunchConfiguration("store_path")}),
            loci_node(
                "planner_node",
                {"up_axis": "z"},
                condition=IfCondition(LaunchConfiguration("with_planner")),
            ),
        ]
    )
