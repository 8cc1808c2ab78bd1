"""perception_node: depth + instance masks + camera pose → object observations.

In (sensor QoS): ``camera/depth/image_raw`` (32FC1 metres or 16UC1 with ``depth_scale``),
``camera/camera_info``, ``camera/instances`` (loci_msgs/InstanceMasks from a segmenter),
``camera/pose`` (PoseStamped: the camera's optical frame in ``fixed_frame``). The three
stamped inputs are paired by header stamp (``perception.messages.StampSync``); the newest
camera_info is used. Out: ``output_topic`` (default ``observations``;
loci_msgs/ObjectObservationArray, reliable), one array per complete frame, stamped with the
frame: a frame that cannot be used gives an empty array and is counted per reason and
logged, so a consumer waiting for a frame's observations is never left waiting.
``reliable_inputs``: subscribe to the camera reliably (a simulator whose every frame must
arrive) instead of with sensor QoS.

Poses come as PoseStamped because tf2 has no PyPI wheel; on a robot, a one-line relay
from TF to ``camera/pose`` (or a build with tf2_ros) provides them.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
from geometry_msgs.msg import PoseStamped
from loci_msgs.msg import InstanceMasks, ObjectObservationArray
from rclpy.node import Node
from scipy.spatial.transform import Rotation
from sensor_msgs.msg import CameraInfo, Image

from loci_ros import conversions as conv
from loci_ros.params import declare
from loci_ros.qos import RELIABLE, SENSOR
from loci_ros.run import run_node
from perception import FrameError, PerceptionConfig
from perception.messages import StampSync, perceive_messages, skip_reason, stamp_ns

__all__ = ["PerceptionNode", "main"]


def _matrix(msg: PoseStamped) -> np.ndarray[Any, np.dtype[np.float64]]:
    p, q = msg.pose.position, msg.pose.orientation
    m = np.eye(4)
    m[:3, :3] = Rotation.from_quat([q.x, q.y, q.z, q.w]).as_matrix()
    m[:3, 3] = (p.x, p.y, p.z)
    return m


class PerceptionNode(Node):
    def __init__(self) -> None:
        super().__init__("perception_node")
        self.fixed_frame = declare(self, "fixed_frame", "map", "world frame of the observations")
        self.depth_scale = declare(
            self, "depth_scale", 1000.0, "16UC1 depth units per metre (RealSense/Redwood 1000)"
        )
        core = PerceptionConfig()  # the node's defaults are the core's
        self.config = PerceptionConfig(
            min_points=declare(
                self, "min_points", core.min_points, "fewest valid pixels for an instance"
            ),
            outlier_k=declare(
                self, "outlier_k", core.outlier_k, "outlier cut in median absolute deviations"
            ),
            max_points=declare(self, "max_points", core.max_points, "pixels sampled per instance"),
        )
        self.sync = StampSync(("depth", "masks", "pose"), max_pending=16)
        self.info: CameraInfo | None = None
        self.skipped: Counter[str] = Counter()
        self.published = 0
        output = declare(self, "output_topic", "observations", "where observations go")
        qos = RELIABLE if declare(self, "reliable_inputs", False, "camera QoS reliable") else SENSOR
        self.pub = self.create_publisher(ObjectObservationArray, output, RELIABLE)
        self.create_subscription(CameraInfo, "camera/camera_info", self._on_info, qos)
        self.create_subscription(
            Image, "camera/depth/image_raw", lambda m: self._on_part("depth", m), qos
        )
        self.create_subscription(
            InstanceMasks, "camera/instances", lambda m: self._on_part("masks", m), qos
        )
        self.create_subscription(
            PoseStamped, "camera/pose", lambda m: self._on_part("pose", m), qos
        )

    def _on_info(self, msg: CameraInfo) -> None:
        self.info = msg

    def _on_part(self, kind: str, msg: Any) -> None:
        frame = self.sync.add(kind, stamp_ns(msg.header), msg)
        if frame is None:
            return
        t = conv.seconds(frame["depth"].header.stamp)
        if self.info is None:
            self._skip("no camera_info")
            self.pub.publish(conv.observations_to_msg([], t, self.fixed_frame, "z"))
            return
        try:
            observations = perceive_messages(
                frame["depth"],
                self.info,
                frame["masks"],
                _matrix(frame["pose"]),
                self.fixed_frame,
                self.depth_scale,
                self.config,
            )
        except FrameError as exc:
            self._skip(skip_reason(exc), str(exc))
            self.pub.publish(conv.observations_to_msg([], t, self.fixed_frame, "z"))
            return
        self.pub.publish(conv.observations_to_msg(observations, t, self.fixed_frame, "z"))
        self.published += 1

    def _skip(self, reason: str, detail: str = "") -> None:
        self.skipped[reason] += 1
        text = (
            f"frame skipped ({reason}{': ' + detail if detail else ''}); skipped so far: "
            f"{dict(self.skipped)}"
        )
        if self.skipped[reason] == 1:  # every new reason is told at once
            self.get_logger().warning(text)
        else:
            self.get_logger().warning(text, throttle_duration_sec=5.0)


def main(args: list[str] | None = None) -> None:
    run_node(PerceptionNode, args=args)


if __name__ == "__main__":
    main()
