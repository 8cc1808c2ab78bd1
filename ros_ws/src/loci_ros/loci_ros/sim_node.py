"""sim_node: the built-in household simulator as a robot body on ROS.

It serves what a robot running nav2 and a skill server serves: ``navigate_to_pose``
(nav2_msgs/NavigateToPose: go to the reachable cell at the goal, facing its orientation),
``execute_skill`` (loci_msgs/ExecuteSkill: one manipulation or sensing skill on a
:class:`sim.body.BuiltinBody`), ``/map`` (nav_msgs/OccupancyGrid, latched: the reachable
grid). Sensing follows ``sensing``: ``gt`` returns the visible objects in the skill's
result; ``rgbd`` publishes the skill's rendered frames on the camera topics, for
``perception_node``. Simulation only: ``reset_world`` (loci_msgs/ResetWorld: set the world
up for a task, or read its state for scoring).

Topics (sensor QoS): ``camera/color/image_raw`` (rgb8), ``camera/depth/image_raw`` (32FC1,
NaN where invalid, REP 118), ``camera/camera_info`` (one camera: colour and depth are
registered), ``camera/instances`` (loci_msgs/InstanceMasks: the simulator's segmentation),
``camera/pose`` (map → ``camera_frame``) and ``pose`` (the robot's base), rendered at
``camera_rate_hz`` while anyone subscribes; ``/clock`` (simulated time, at every step and at 10 Hz:
``seconds_per_step`` per primitive action). No tf2_msgs wheel exists on PyPI, so poses go
out as PoseStamped, not on /tf.
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import orjson
from geometry_msgs.msg import PoseStamped
from loci_msgs.action import ExecuteSkill
from loci_msgs.msg import InstanceMasks
from loci_msgs.srv import ResetWorld
from nav2_msgs.action import NavigateToPose
from nav_msgs.msg import OccupancyGrid as GridMsg
from rclpy.action.server import ActionServer, ServerGoalHandle
from rclpy.node import Node
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import CameraInfo, Image, RegionOfInterest

from embodiment.body import RGBDFrame, floor_plan_to_json
from embodiment.skills import SKILLS, Skill, StepResult
from loci_ros import body_msgs as bm
from loci_ros import conversions as conv
from loci_ros.params import declare
from loci_ros.qos import LATCHED, RELIABLE, SENSOR
from loci_ros.run import run_node
from memory_core import LociError
from memory_core.convention import camera_to_ros, quat_from_ros
from perception.bag_images import image_fields
from sim import SceneRegistry
from sim.body import SENSING_MODES, BuiltinBody
from sim.render import render, rep118_depth, segmentation
from sim.server import SimServer, parse_task_json

__all__ = ["SimNode", "main"]

_UP = "y"  # the simulator's world is AI2-THOR's


def _image(h: Any, arr: np.ndarray[Any, Any], encoding: str) -> Image:
    fields = image_fields(arr, encoding)
    return Image(header=h, **{**fields, "data": fields["data"].tobytes()})


def yaw_face(pose: Any) -> tuple[float, float, float, float]:
    """A ROS goal pose as (x, z, face_x, face_z) in the simulator's floor plane: where to
    stand and a point 1 m ahead along the goal's heading."""
    x, _y, z = bm.pose_from_msg(pose, _UP).position
    q = pose.orientation
    _qx, qy, _qz, qw = quat_from_ros((q.x, q.y, q.z, q.w), _UP)
    yaw = 2.0 * math.atan2(qy, qw)  # about +y: 0 faces +z, pi/2 faces +x
    return x, z, x + math.sin(yaw), z + math.cos(yaw)


class SimNode(Node):
    def __init__(self) -> None:
        super().__init__("sim_node")
        default_data = os.environ.get("LOCI_DATA_DIR", str(Path.cwd().parent / "shared" / "data"))
        self.data_root = declare(
            self, "data_root", default_data, "folder of the real scene data (../shared/data)"
        )
        self.sensing = declare(self, "sensing", "gt", "gt: observations in skill results; rgbd")
        if self.sensing not in SENSING_MODES:
            raise LociError(f"sensing must be one of {SENSING_MODES}, got {self.sensing!r}")
        self.width = declare(self, "camera_width", 320, "rendered image width (pixels)")
        self.height = declare(self, "camera_height", 240, "rendered image height (pixels)")
        rate = declare(
            self, "camera_rate_hz", 2.0, "camera frames per second while subscribed (0 = off)"
        )
        self.step_s = declare(
            self, "seconds_per_step", 0.5, "simulated seconds one primitive action takes"
        )
        self.real_time_factor = declare(
            self,
            "real_time_factor",
            0.0,
            "simulated seconds per wall second while acting (0 = as fast as it computes)",
        )
        self.frame_id = declare(self, "frame_id", "map", "world frame of the published poses")
        camera_qos = (
            RELIABLE
            if declare(self, "camera_reliable", False, "camera topics reliable (every frame)")
            else SENSOR
        )
        self.camera_frame = declare(
            self, "camera_frame", "camera_color_optical_frame", "the camera's optical frame"
        )
        self.server = SimServer(SceneRegistry(self.data_root))
        self.body: BuiltinBody | None = None
        self.reset_srv = self.create_service(ResetWorld, "reset_world", self._on_reset)
        self.nav_server = ActionServer(self, NavigateToPose, "navigate_to_pose", self._on_navigate)
        self.skill_server = ActionServer(self, ExecuteSkill, "execute_skill", self._on_skill)
        self.map_pub = self.create_publisher(GridMsg, "/map", LATCHED)
        self.clock_pub = self.create_publisher(Clock, "/clock", RELIABLE)
        self.pose_pub = self.create_publisher(PoseStamped, "pose", SENSOR)
        self.cam_pubs = {
            "rgb": self.create_publisher(Image, "camera/color/image_raw", camera_qos),
            "depth": self.create_publisher(Image, "camera/depth/image_raw", camera_qos),
            "info": self.create_publisher(CameraInfo, "camera/camera_info", camera_qos),
            "masks": self.create_publisher(InstanceMasks, "camera/instances", camera_qos),
            "pose": self.create_publisher(PoseStamped, "camera/pose", camera_qos),
        }
        self.frames = 0
        if rate > 0:
            self.create_timer(1.0 / rate, self._publish_camera)
        # /clock also between steps (as Gazebo publishes it): a node that joins after the
        # last step otherwise stays at time 0 until the next one (a CI run saw
        # memory_node stamp its updates 0.0 for 15 s after a navigation had ended).
        self.create_timer(0.1, self._publish_clock)

    @property
    def sim_time(self) -> float:
        world = self.server.world
        return 0.0 if world is None else world.steps_taken * self.step_s

    # ------------------------------------------------------------------ world setup
    def _on_reset(self, req: ResetWorld.Request, res: ResetWorld.Response) -> ResetWorld.Response:
        world = self.server.world
        if not req.task_json and req.keep_state and world is not None:
            res.success, res.scene = True, world.spec.name
            res.world_state_json = orjson.dumps(self.server.state()).decode()
            return res
        try:
            task = parse_task_json(req.task_json)
            state = self.server.reset(task, keep_state=req.keep_state)
        except LociError as exc:
            res.success, res.message = False, str(exc)
            return res
        assert self.server.world is not None
        if self.body is None or self.body.world is not self.server.world:
            self.body = BuiltinBody(self.server.world, self.sensing)
            self.map_pub.publish(bm.grid_to_msg(self.body.occupancy(), self.sim_time, "map"))
        res.success, res.scene = True, task.scene
        res.world_state_json = orjson.dumps(state).decode()
        res.floor_plan_json = orjson.dumps(floor_plan_to_json(self.body.floor_plan())).decode()
        self._after_change()
        return res

    # ------------------------------------------------------------------ actions
    def _on_navigate(self, goal: ServerGoalHandle) -> NavigateToPose.Result:
        result = NavigateToPose.Result()
        if self.body is None:
            goal.abort()
            result.error_code, result.error_msg = NavigateToPose.Result.UNKNOWN, "no world yet"
            return result
        if goal.request.pose.header.frame_id not in ("", self.frame_id):
            goal.abort()
            result.error_code = NavigateToPose.Result.TF_ERROR
            result.error_msg = (
                f"goal in frame {goal.request.pose.header.frame_id!r}, not {self.frame_id!r}"
            )
            return result
        x, z, fx, fz = yaw_face(goal.request.pose.pose)
        skill = Skill("navigate", f"point:{x:.4f},{z:.4f}", position=(fx, 0.0, fz))
        step = self._paced(skill)
        self._after_change()
        if step.success:
            goal.succeed()
        else:
            goal.abort()
            result.error_code, result.error_msg = NavigateToPose.Result.UNKNOWN, step.error_message
        return result

    def _on_skill(self, goal: ServerGoalHandle) -> ExecuteSkill.Result:
        if self.body is None:
            goal.abort()
            return ExecuteSkill.Result(error_message="no world yet: reset_world with a task first")
        skill = bm.skill_from_goal(goal.request, _UP)
        if skill.name == "sense":
            step = StepResult(skill, True, sensed=self.body.look())
        elif skill.name not in SKILLS:
            step = StepResult(skill, False, f"Invalid action: {skill.name}")
        else:
            step = self._paced(skill)
        stamps = []
        if step.sensed is not None:
            stamps = [self._send_frame(frame) for frame in step.sensed.frames]
        self._after_change()
        msg = bm.result_to_msg(step, self.body.state(), _UP)
        msg.frame_stamps = [conv.time_msg(t) for t in stamps]
        goal.succeed()  # the skill ran; its success is in the result, as in AI2-THOR
        return msg

    def _paced(self, skill: Skill) -> StepResult:
        """Execute ``skill``; with a real-time factor, take the wall time it would take."""
        assert self.body is not None
        step = self.body.execute(skill)
        if self.real_time_factor > 0:
            time.sleep(step.primitive_steps * self.step_s / self.real_time_factor)
        return step

    # ------------------------------------------------------------------ topics
    def _publish_clock(self) -> None:
        self.clock_pub.publish(Clock(clock=conv.time_msg(self.sim_time)))

    def _after_change(self) -> None:
        t = self.sim_time
        self._publish_clock()
        if self.body is not None:
            pose = bm.pose_to_msg(self.body.state().pose, _UP)
            self.pose_pub.publish(PoseStamped(header=conv.header(t, self.frame_id), pose=pose))

    def _publish_camera(self) -> None:
        if self.body is None or not any(p.get_subscription_count() for p in self.cam_pubs.values()):
            return
        frame = render(self.body.world, self.width, self.height)
        mask, labels, ids = segmentation(frame, self.body.world)
        # The live camera's masks carry the simulator's ids (a perfect tracker); the
        # frames of rgbd sensing do not.
        self._send_frame(
            RGBDFrame(
                depth=rep118_depth(frame.depth),
                intrinsics=frame.intrinsics,
                world_from_camera=frame.world_from_camera,
                instance=mask.astype(np.int32) - 1,
                labels=tuple(labels),
                rgb=frame.rgb,
            ),
            ids,
        )

    def _send_frame(self, frame: RGBDFrame, ids: list[str] | None = None) -> float:
        """Publish one frame; returns its stamp."""
        t = self.sim_time + self.frames * 1e-6  # distinct stamps for frames at one sim time
        self.frames += 1
        h = conv.header(t, self.camera_frame)
        k = frame.intrinsics
        info = CameraInfo(
            header=h,
            height=k.height,
            width=k.width,
            distortion_model="plumb_bob",
            d=[0.0] * 5,
            k=[k.fx, 0.0, k.cx, 0.0, k.fy, k.cy, 0.0, 0.0, 1.0],
            r=[1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0],
            p=[k.fx, 0.0, k.cx, 0.0, 0.0, k.fy, k.cy, 0.0, 0.0, 0.0, 1.0, 0.0],
            roi=RegionOfInterest(),
        )
        pos, q = camera_to_ros(frame.world_from_camera)
        if frame.rgb is not None:
            self.cam_pubs["rgb"].publish(_image(h, frame.rgb, "rgb8"))
        self.cam_pubs["depth"].publish(_image(h, frame.depth.astype(np.float32), "32FC1"))
        self.cam_pubs["info"].publish(info)
        if frame.instance is not None:
            # mono16: 0 is no object, k + 1 is labels[k].
            mask = (frame.instance.astype(np.int64) + 1).astype(np.uint16)
            self.cam_pubs["masks"].publish(
                InstanceMasks(
                    header=h,
                    mask=_image(h, mask, "mono16"),
                    labels=list(frame.labels),
                    object_ids=ids if ids is not None else [""] * len(frame.labels),
                    scores=[1.0] * len(frame.labels),
                )
            )
        self.cam_pubs["pose"].publish(conv.pose_stamped(pos, q, t, self.frame_id))
        return t


def main(args: list[str] | None = None) -> None:
    run_node(SimNode, args=args)


if __name__ == "__main__":
    main()
