"""Shared by the launch files: the per-node parameter files and the common arguments.

Not a launch file itself (no generate_launch_description). Kept free of anything but the
launch API and pathlib, so the static launch test can read it.
"""

from __future__ import annotations

from pathlib import Path

from launch.actions import DeclareLaunchArgument
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import LifecycleNode, Node

PARAMS = Path(__file__).resolve().parent / "params"
PACKAGE = "loci_ros"

# executable → its parameter file in launch/params (one YAML per node)
NODES = {
    "sim_node": "sim_node.yaml",
    "memory_node": "memory_node.yaml",
    "planner_node": "planner_node.yaml",
    "perception_node": "perception_node.yaml",
    "bag_player": "bag_player.yaml",
}


def common_arguments(use_sim_time_default: str) -> list[DeclareLaunchArgument]:
    return [
        DeclareLaunchArgument(
            "namespace", default_value="", description="namespace for every Loci node"
        ),
        DeclareLaunchArgument(
            "use_sim_time",
            default_value=use_sim_time_default,
            description="take time from /clock (the simulator or `ros2 bag play --clock`)",
        ),
        DeclareLaunchArgument(
            "params_file",
            default_value=str(PARAMS / "site.yaml"),
            description="extra parameters applied after each node's own file (/** keys)",
        ),
        DeclareLaunchArgument(
            "store_path",
            default_value="loci_memory.db",
            description="the memory node's SQLite store (resumed when it exists)",
        ),
    ]


def loci_node(
    executable: str, overrides: dict[str, object] | None = None, **kwargs: object
) -> Node:
    """A Loci node with its own parameter file, the site file and ``overrides``."""
    params = [
        str(PARAMS / NODES[executable]),
        LaunchConfiguration("params_file"),
        {"use_sim_time": LaunchConfiguration("use_sim_time"), **(overrides or {})},
    ]
    kind = LifecycleNode if executable == "memory_node" else Node
    return kind(
        package=PACKAGE,
        executable=executable,
        name=executable,
        namespace=LaunchConfiguration("namespace"),
        parameters=params,
        output="screen",
        **kwargs,
    )
