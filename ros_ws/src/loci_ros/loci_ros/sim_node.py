"""sim_node: the built-in household simulator (``sim.server.SimServer``) on ROS.

Services: ``reset_world`` (loci_msgs/ResetWorld: set the world up for a task) and
``execute_skill`` (loci_msgs/ExecuteSkill: run one skill, return its result and the
world's state for a planner's mirror). Topics (sensor QoS, ROS convention): the camera as
``camera/color/image_raw`` (rgb8), ``camera/depth/image_raw`` (32FC1),
``camera/camera_info``, ``camera/instances`` (loci_msgs/InstanceMasks: the simulator's
segmentation), ``camera/pose`` (map → camera optical frame) and ``pose`` (the robot's base),
rendered at ``camera_rate_hz`` while anyone subscribes; ``/clock`` (simulated time:
``seconds_per_step`` per primitive action).

No tf2_msgs wheel exists on PyPI, so poses go out as PoseStamped, not on /tf.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import orjson
from geometry_msgs.msg import PoseStamped
from loci_msgs.msg import InstanceMasks
from loci_msgs.srv import ExecuteSkill, ResetWorld
from rclpy.node import Node
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import CameraInfo, Image, RegionOfInterest

from loci_ros import conversions as conv
from loci_ros.params import declare
from loci_ros.qos import RELIABLE, SENSOR
from loci_ros.run import run_node
from memory_core import LociError
from memory_core.convention import camera_to_ros, to_ros
from perception.bag_images import image_fields
from sim import SceneRegistry, Skill
from sim.render import CameraFrame, render, rep118_depth, segmentation
from sim.server import SimServer, parse_task_json

__all__ = ["SimNode", "main"]


def _image(h: Any, arr: np.ndarray[Any, Any], encoding: str) -> Image:
    fields = image_fields(arr, encoding)
    return Image(header=h, **{**fields, "data": fields["data"].tobytes()})


class SimNode(Node):
    def __init__(self) -> None:
        super().__init__("sim_node")
        default_data = os.environ.get("LOCI_DATA_DIR", str(Path.cwd().parent / "shared" / "data"))
        self.data_root = declare(
            self, "data_root", default_data, "folder of the real scene data (../shared/data)"
        )
        self.width = declare(self, "camera_width", 320, "rendered image width (pixels)")
        self.height = declare(self, "camera_height", 240, "rendered image height (pixels)")
        rate = declare(
            self, "camera_rate_hz", 2.0, "camera frames per second while subscribed (0 = off)"
        )
        self.step_s = declare(
            self, "seconds_per_step", 0.5, "simulated seconds one primitive action takes"
        )
        self.frame_id = declare(self, "frame_id", "map", "world frame of the published poses")
        self.server = SimServer(SceneRegistry(self.data_root))
        self.reset_srv = self.create_service(ResetWorld, "reset_world", self._on_reset)
        self.skill_srv = self.create_service(ExecuteSkill, "execute_skill", self._on_skill)
        self.clock_pub = self.create_publisher(Clock, "/clock", RELIABLE)
        self.pose_pub = self.create_publisher(PoseStamped, "pose", SENSOR)
        self.cam_pubs = {
            "rgb": self.create_publisher(Image, "camera/color/image_raw", SENSOR),
            "depth": self.create_publisher(Image, "camera/depth/image_raw", SENSOR),
            "info": self.create_publisher(CameraInfo, "camera/camera_info", SENSOR),
            "masks": self.create_publisher(InstanceMasks, "camera/instances", SENSOR),
            "pose": self.create_publisher(PoseStamped, "camera/pose", SENSOR),
        }
        self.frames = 0
        if rate > 0:
            self.create_timer(1.0 / rate, self._publish_camera)

    @property
    def sim_time(self) -> float:
        world = self.server.world
        return 0.0 if world is None else world.steps_taken * self.step_s

    # ------------------------------------------------------------------ services
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
        res.success, res.scene = True, task.scene
        res.world_state_json = orjson.dumps(state).decode()
        self._after_change()
        return res

    def _on_skill(
        self, req: ExecuteSkill.Request, res: ExecuteSkill.Response
    ) -> ExecuteSkill.Response:
        try:
            result, state = self.server.execute(
                Skill(req.name, req.target or None, bool(req.force))
            )
        except LociError as exc:
            res.success, res.error_message = False, str(exc)
            return res
        res.success = result.success
        res.error_message = result.error_message
        res.primitive_steps = result.primitive_steps
        res.distance_m = result.distance_m
        res.seen = list(result.seen)
        res.world_state_json = orjson.dumps(state).decode()
        self._after_change()
        return res

    # ------------------------------------------------------------------ topics
    def _after_change(self) -> None:
        t = self.sim_time
        self.clock_pub.publish(Clock(clock=conv.time_msg(t)))
        world = self.server.world
        if world is not None:
            x, z = world.agent_xz
            pos = to_ros((x, 0.0, z), "y")
            yaw = np.radians(world.agent_yaw)
            # AI2-THOR yaw turns from +z towards +x; in ROS that is a turn from +x towards -y.
            q = (0.0, 0.0, float(np.sin(-yaw / 2)), float(np.cos(-yaw / 2)))
            self.pose_pub.publish(conv.pose_stamped(pos, q, t, self.frame_id))

    def _publish_camera(self) -> None:
        world = self.server.world
        if world is None or not any(p.get_subscription_count() for p in self.cam_pubs.values()):
            return
        frame = render(world, self.width, self.height)
        self._send_frame(frame)

    def _send_frame(self, frame: CameraFrame) -> None:
        world = self.server.world
        assert world is not None
        t = self.sim_time + self.frames * 1e-6  # distinct stamps for frames at one sim time
        self.frames += 1
        h = conv.header(t, "camera_optical")
        k = frame.intrinsics
        depth = rep118_depth(frame.depth)
        mask, labels, ids = segmentation(frame, world)
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
        self.cam_pubs["rgb"].publish(_image(h, frame.rgb, "rgb8"))
        self.cam_pubs["depth"].publish(_image(h, depth, "32FC1"))
        self.cam_pubs["info"].publish(info)
        self.cam_pubs["masks"].publish(
            InstanceMasks(
                header=h,
                mask=_image(h, mask, "mono16"),
                labels=labels,
                object_ids=ids,
                scores=[1.0] * len(ids),
            )
        )
        self.cam_pubs["pose"].publish(conv.pose_stamped(pos, q, t, self.frame_id))


def main(args: list[str] | None = None) -> None:
    run_node(SimNode, args=args)


if __name__ == "__main__":
    main()
