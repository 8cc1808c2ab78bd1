"""A ROS 2 robot as a body (:class:`embodiment.body.Body`), over actions and topics.

Navigation is nav2's ``navigate_to_pose`` (nav2_msgs/NavigateToPose); every other skill,
and sensing without acting, is ``execute_skill`` (loci_msgs/ExecuteSkill); the map is
``/map`` (nav_msgs/OccupancyGrid, latched). After a navigation the body is asked to
``sense``: nav2 reports neither what was seen on arrival nor the pose, so the skill
server does. Navigating to an object or a room needs a pose: wrap this body in
:class:`embodiment.approach.ApproachNavigation`, which computes one from memory and the
map. Poses and positions are converted between ROS's convention and ``up_axis`` (the
memory's). Nav2 does not count primitive steps: a navigation reports 0 steps and the
straight-line distance between the poses before and after.

The body has a node of its own, spun only by the thread that calls it, one call at a
time: rclpy's action client drops a goal response that arrives (on another executor
thread) before it has registered the goal (seen here: "Ignoring unexpected goal
response", then a 120 s wait). A goal or answer lost in discovery is sent again
(:mod:`loci_ros.goals`). A call blocks until the answer or ``timeout_s``; a fault
(no server, timeout, rejected goal) is a failed skill with the reason, never an
exception.
"""

from __future__ import annotations

import dataclasses
import math
import time
from typing import Any

import rclpy
from action_msgs.msg import GoalStatus
from geometry_msgs.msg import PoseStamped
from loci_msgs.action import ExecuteSkill
from loci_msgs.msg import ObjectObservationArray
from nav2_msgs.action import NavigateToPose
from nav_msgs.msg import OccupancyGrid as GridMsg
from rclpy.action.client import ActionClient
from rclpy.executors import SingleThreadedExecutor

from embodiment.body import BodyState, FloorPlan, Sensed
from embodiment.errors import BodyError
from embodiment.grid import OccupancyGrid
from embodiment.skills import Skill, StepResult
from loci_ros import body_msgs as bm
from loci_ros import conversions as conv
from loci_ros.goals import run_goal
from loci_ros.qos import LATCHED, RELIABLE
from memory_core import LociError, ObjectObservation
from memory_core.convention import quat_to_ros, to_ros

__all__ = ["RosBody"]


class RosBody:
    def __init__(
        self,
        name: str,
        up_axis: str,
        timeout_s: float = 60.0,
        frame_id: str = "map",
        observations_topic: str = "",
    ) -> None:
        """``observations_topic``: where a perception node reports the observations of the
        frames a skill sensed by camera (``frame_stamps`` in its result); the body waits for
        each frame's report and returns them as what it sensed."""
        self.up_axis, self.timeout_s, self.frame_id = up_axis, timeout_s, frame_id
        self.node = rclpy.create_node(name)
        self.executor = SingleThreadedExecutor()
        self.executor.add_node(self.node)
        self.nav = ActionClient(self.node, NavigateToPose, "navigate_to_pose")
        self.skills = ActionClient(self.node, ExecuteSkill, "execute_skill")
        self._grid_msg: GridMsg | None = None
        self._grid: OccupancyGrid | None = None
        self._map_sub = self.node.create_subscription(GridMsg, "/map", self._on_map, LATCHED)
        self._perceived: dict[tuple[int, int], ObjectObservationArray] = {}
        if observations_topic:
            self.node.create_subscription(
                ObjectObservationArray, observations_topic, self._on_perceived, RELIABLE
            )
        self._state: BodyState | None = None
        self.plan: FloorPlan | None = None
        """The building's rooms and doors, as the robot is given them (set by its owner)."""

    # ------------------------------------------------------------------ topics
    def _on_map(self, msg: GridMsg) -> None:
        self._grid_msg, self._grid = msg, None

    def _on_perceived(self, msg: ObjectObservationArray) -> None:
        stamp = msg.header.stamp
        self._perceived[(stamp.sec, stamp.nanosec)] = msg
        if len(self._perceived) > 1000:  # reports of frames nobody waits for
            self._perceived.pop(next(iter(self._perceived)))

    def _frames_sensed(
        self, stamps: list[Any], deadline: float
    ) -> tuple[tuple[ObjectObservation, ...], ...]:
        """The perception reports of the frames stamped ``stamps``, one batch per frame in
        order; a frame whose report does not come by ``deadline`` is logged and left out."""
        keys = [(s.sec, s.nanosec) for s in stamps]
        while any(k not in self._perceived for k in keys) and time.monotonic() < deadline:
            self.executor.spin_once(timeout_sec=0.05)
        out = []
        for k in keys:
            msg = self._perceived.pop(k, None)
            if msg is None:
                self.node.get_logger().warning(f"no perception report for frame {k}")
                continue
            batch, bad = conv.observations_from_msg(msg, self.up_axis)
            if bad:
                self.node.get_logger().warning(f"{len(bad)} perceived observations refused")
            out.append(tuple(batch))
        return tuple(out)

    def close(self) -> None:
        self.executor.remove_node(self.node)
        self.node.destroy_node()

    def reset(self) -> None:
        """Forget the pose, hold and map (a new world or task): they are read again. The
        map is subscribed to anew: a new subscription gets the latched map now current."""
        self._state = None
        self._grid_msg, self._grid = None, None
        self.node.destroy_subscription(self._map_sub)
        self._map_sub = self.node.create_subscription(GridMsg, "/map", self._on_map, LATCHED)

    # ------------------------------------------------------------------ Body
    def state(self) -> BodyState:
        if self._state is None:
            self.look()
        if self._state is None:
            raise BodyError("the robot's state is unknown: execute_skill did not answer")
        return self._state

    def occupancy(self) -> OccupancyGrid | None:
        deadline = time.monotonic() + self.timeout_s
        while self._grid_msg is None and time.monotonic() < deadline:
            self.executor.spin_once(timeout_sec=0.1)
        if self._grid is None:
            if self._grid_msg is None:
                self.node.get_logger().warning(f"no /map within {self.timeout_s} s")
                return None
            try:
                self._grid = bm.grid_from_msg(self._grid_msg, self.up_axis)
            except LociError as exc:
                self.node.get_logger().error(f"/map refused: {exc}")
                return None
        return self._grid

    def floor_plan(self) -> FloorPlan | None:
        return self.plan

    def look(self) -> Sensed:
        result = self._skill(Skill("sense"))
        return result.sensed or Sensed()

    def execute(self, skill: Skill) -> StepResult:
        if skill.name != "navigate":
            return self._skill(skill)
        target = skill.target or ""
        if not target.startswith("point:"):
            return StepResult(
                skill, False, f"navigation by nav2 needs a pose, not {target!r} (see module)"
            )
        try:
            u, v = (float(c) for c in target.removeprefix("point:").split(","))
        except ValueError:
            return StepResult(skill, False, f"bad navigation point {target!r} (want point:x,z)")
        before = self.state()
        goal = NavigateToPose.Goal(pose=self._goal_pose(before, u, v, skill.position))
        answer = self._send(self.nav, NavigateToPose, "navigate_to_pose", goal)
        if isinstance(answer, str):
            self.node.get_logger().warning(answer)
            return StepResult(skill, False, answer)
        status, nav_result = answer
        ok = status == GoalStatus.STATUS_SUCCEEDED
        error = "" if ok else (nav_result.error_msg or f"navigation ended with status {status}")
        sensed = self._skill(Skill("sense"))  # the pose and what is in view on arrival
        after = self.state()
        moved = math.dist(before.floor_xy, after.floor_xy)
        return StepResult(skill, ok, error, 0, moved, sensed=sensed.sensed)

    # ------------------------------------------------------------------ actions
    def _goal_pose(
        self, here: BodyState, u: float, v: float, face: tuple[float, float, float] | None
    ) -> PoseStamped:
        h = here.pose.position[1] if self.up_axis == "y" else here.pose.position[2]
        position = (u, h, v) if self.up_axis == "y" else (u, v, h)
        if face is None:
            q = here.pose.orientation  # no heading asked for: keep the current one
        else:
            fu, fv = (face[0], face[2]) if self.up_axis == "y" else (face[0], face[1])
            if self.up_axis == "y":  # about +y; 0 faces +z
                yaw = math.atan2(fu - u, fv - v)
                q = (0.0, math.sin(yaw / 2), 0.0, math.cos(yaw / 2))
            else:  # about +z; 0 faces +x
                yaw = math.atan2(fv - v, fu - u)
                q = (0.0, 0.0, math.sin(yaw / 2), math.cos(yaw / 2))
        return conv.pose_stamped(
            to_ros(position, self.up_axis), quat_to_ros(q, self.up_axis), 0.0, self.frame_id
        )

    def _skill(self, skill: Skill) -> StepResult:
        answer = self._send(
            self.skills, ExecuteSkill, "execute_skill", bm.skill_to_goal(skill, self.up_axis)
        )
        if isinstance(answer, str):
            self.node.get_logger().warning(answer)
            return StepResult(skill, False, answer)
        status, msg = answer
        if status != GoalStatus.STATUS_SUCCEEDED:
            return StepResult(skill, False, msg.error_message or f"skill ended with {status}")
        try:
            result, state, sensed = bm.result_from_msg(msg, skill, self.up_axis)
        except (LociError, ValueError) as exc:
            return StepResult(skill, False, f"bad skill result: {exc}")
        self._state = state
        if msg.frame_stamps:
            deadline = time.monotonic() + self.timeout_s
            perceived = self._frames_sensed(list(msg.frame_stamps), deadline)
            # Perception reports no view volume: no negative evidence from camera frames.
            result = dataclasses.replace(
                result, sensed=Sensed(observations=sensed.observations, perceived=perceived)
            )
        return result

    def _send(
        self, client: ActionClient, action_type: Any, name: str, goal: Any
    ) -> tuple[int, Any] | str:
        """(status, result), or why there is none."""
        if not client.wait_for_server(timeout_sec=self.timeout_s):
            return f"action {name} is not available"
        answer = run_goal(
            client,
            action_type,
            goal,
            self._spin,
            answer_timeout_s=min(10.0, self.timeout_s),
            result_timeout_s=self.timeout_s,
        )
        if isinstance(answer, str):
            return f"action {name}: {answer}"
        return answer.status, answer.result

    def _spin(self, future: Any, timeout_s: float) -> None:
        self.executor.spin_until_future_complete(future, timeout_sec=timeout_s)
