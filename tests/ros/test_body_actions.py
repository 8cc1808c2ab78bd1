"""sim_node as a robot body: nav2's NavigateToPose, loci_msgs/ExecuteSkill, the latched
/map; and a node on use_sim_time stamping with the simulator's clock."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

import pytest

from loci.main_job import default_first_task
from sim import SceneRegistry
from sim.tasks import task_to_json
from tests.conftest import DATA
from tests.ros.conftest import sim_overrides


def _wait(client: Any, future: Any, timeout_s: float = 30.0) -> Any:
    import rclpy

    rclpy.spin_until_future_complete(client.node, future, timeout_sec=timeout_s)
    assert future.done(), "no answer"
    return future.result()


def _run_goal(client: Any, action: Any, goal: Any) -> Any:
    assert action.wait_for_server(timeout_sec=30.0)
    handle = _wait(client, action.send_goal_async(goal))
    assert handle.accepted
    return _wait(client, handle.get_result_async())


@pytest.mark.slow
def test_sim_node_serves_a_robot_body_and_sim_time(tmp_path: Path, rclpy_context: None) -> None:
    import rclpy
    from loci_msgs.action import ExecuteSkill
    from loci_msgs.msg import ObjectObservation, ObjectObservationArray, SceneGraphUpdate
    from loci_ros import conversions as conv
    from loci_ros.body_msgs import grid_from_msg
    from loci_ros.qos import LATCHED, RELIABLE
    from loci_ros.system import LociClient, LociSystem
    from nav2_msgs.action import NavigateToPose
    from nav_msgs.msg import OccupancyGrid
    from rclpy.action.client import ActionClient

    registry = SceneRegistry(DATA)
    task = default_first_task(registry, "FloorPlan1", 0)
    overrides = sim_overrides(
        tmp_path, sim_node={"camera_rate_hz": 0.0}, memory_node={"use_sim_time": True}
    )
    with LociSystem(tmp_path, overrides) as system:
        system.start_all(("sim_node", "memory_node"))
        client = LociClient("test_body")
        node = client.node
        maps: list[Any] = []
        node.create_subscription(OccupancyGrid, "/map", maps.append, LATCHED)
        updates: list[Any] = []
        node.create_subscription(SceneGraphUpdate, "scene_graph/updates", updates.append, RELIABLE)
        obs_pub = node.create_publisher(ObjectObservationArray, "observations", RELIABLE)
        skills = ActionClient(node, ExecuteSkill, "execute_skill")
        nav = ActionClient(node, NavigateToPose, "navigate_to_pose")
        try:
            client.wait_ready_services(("reset_world", "query_memory"), 60, system)
            # Before any world: a clear failure, not a crash.
            early = _run_goal(client, skills, ExecuteSkill.Goal(name="sense"))
            assert not early.result.success and "reset_world" in early.result.error_message
            reset = client.world_state(json.dumps(task_to_json(task)), keep_state=False)
            assert reset.success
            plan = json.loads(reset.floor_plan_json)
            assert plan["rooms"] and plan["name"]
            # The map arrives latched, in ROS's axes; free cells = the reachable grid.
            deadline = time.monotonic() + 10
            while not maps and time.monotonic() < deadline:
                rclpy.spin_once(node, timeout_sec=0.1)
            assert maps, "no latched /map"
            grid = grid_from_msg(maps[-1], "y")
            state = json.loads(reset.world_state_json)
            x, z, _yaw = state["agent"]
            assert grid.cell_of(x, z) is not None

            sensed = _run_goal(client, skills, ExecuteSkill.Goal(name="sense")).result
            assert sensed.success and sensed.sensed and sensed.has_view
            bad = _run_goal(client, skills, ExecuteSkill.Goal(name="teleport")).result
            assert not bad.success and "Invalid action" in bad.error_message

            # NavigateToPose to the farthest reachable cell, facing +x in the simulator's axes.
            far = max(grid.reachable_from(x, z), key=lambda p: math.dist(p, (x, z)))
            yaw = math.pi / 2  # AI2-THOR yaw 90: faces +x
            from memory_core.convention import quat_to_ros, to_ros

            pos = to_ros((far[0], 0.9, far[1]), "y")
            q = quat_to_ros((0.0, math.sin(yaw / 2), 0.0, math.cos(yaw / 2)), "y")
            goal = NavigateToPose.Goal(pose=conv.pose_stamped(pos, q, 0.0, "map"))
            went = _run_goal(client, nav, goal)
            assert went.status == 4, went.result.error_msg  # SUCCEEDED
            after = json.loads(client.world_state().world_state_json)
            assert after["agent"][:2] == pytest.approx(list(far)) and after["agent"][2] == 90
            steps = after["steps_taken"]
            assert steps > 0
            # A goal in another frame is refused with nav2's TF error code.
            goal.pose.header.frame_id = "odom"
            wrong = _run_goal(client, nav, goal)
            assert wrong.status == 6 and wrong.result.error_code == 9002  # ABORTED, TF_ERROR

            # memory_node runs on the simulator's clock (/clock = steps x 0.5 s).
            expected = steps * 0.5
            deadline = time.monotonic() + 15
            stamp = None
            while time.monotonic() < deadline:
                obs = ObjectObservation(
                    header=conv.header(expected, "map"), label="Apple", confidence=1.0
                )
                obs.position.x = 0.1 * len(updates)
                obs_pub.publish(ObjectObservationArray(header=obs.header, observations=[obs]))
                rclpy.spin_once(node, timeout_sec=0.2)
                if updates:
                    stamp = conv.seconds(updates[-1].header.stamp)
                    if stamp == pytest.approx(expected):
                        break
            assert stamp == pytest.approx(expected), f"update stamped {stamp}, sim time {expected}"
            system.check_alive()
        finally:
            client.close()


def test_planner_without_a_robot_fails_with_the_reason(tmp_path: Path, rclpy_context: None) -> None:
    """No body serves the actions: the goal ends failed, saying which action is missing,
    within the skill timeout; the planner node stays up for the next goal."""
    from loci_ros.system import LociClient, LociSystem

    task = default_first_task(SceneRegistry(DATA), "FloorPlan1", 0)
    overrides = sim_overrides(tmp_path, planner_node={"reset_service": "", "skill_timeout_s": 2.0})
    with LociSystem(tmp_path, overrides) as system:
        system.start_all(("memory_node", "planner_node"))
        client = LociClient("test_no_robot")
        try:
            client.wait_ready_services(("execute_instruction", "query_memory"), 60, system)
            start = time.monotonic()
            out = client.execute(json.dumps(task_to_json(task)), timeout_s=120)
            assert out.accepted and not out.success
            assert "execute_skill" in out.summary, out.summary
            assert time.monotonic() - start < 60
            again = client.execute(json.dumps(task_to_json(task)), timeout_s=120)
            assert again.accepted and not again.success
            system.check_alive()
        finally:
            client.close()
