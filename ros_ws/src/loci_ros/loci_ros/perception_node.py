"""perception_node: depth + instance masks + camera pose → object observations; without
masks, depth (+ colour) + pose → ``unknown`` things found by geometry; the frame's cloud;
optionally a map from depth.

In (sensor QoS): ``camera/depth/image_raw`` (32FC1 metres or 16UC1 with ``depth_scale``),
``camera/camera_info``, ``camera/instances`` (loci_msgs/InstanceMasks from a segmenter;
with ``masks: false`` none is expected and every frame is segmented by geometry,
:mod:`perception.segment`), ``camera/color/image_raw`` (only with ``masks: false`` and
``colour: true``: rgb8/bgr8 registered to the depth, for the things' colours),
``camera/pose`` (PoseStamped: the camera's optical frame in ``fixed_frame``, whose up axis
is ``up_axis``). The stamped inputs are paired by header stamp
(``perception.messages.StampSync``); the newest camera_info is used.

Out: ``output_topic`` (default ``observations``; loci_msgs/ObjectObservationArray,
reliable), one array per complete frame, stamped with the frame: a frame that cannot be
used gives an empty array and is counted per reason and logged, so a consumer waiting for
a frame's observations is never left waiting. ``cloud_topic`` (default ``cloud``;
sensor_msgs/PointCloud2 in ``fixed_frame``, sensor QoS; empty: off): the frame's filtered
cloud, the points the segmenter reads (:func:`perception.segment.filtered_cloud`), in both
modes. With ``map: true`` (needs open3d): every frame is fused into a map from depth
(:class:`perception.depth_map.DepthMap`, ``map_voxel`` m) and every ``map_period_s`` its
occupancy grid goes to ``map_topic`` (default ``/map``, latched: a body with no SLAM map
takes it as its map) and its mesh to ``map_mesh`` (visualization_msgs/Marker,
TRIANGLE_LIST, latched: RViz, Foxglove). ``reliable_inputs``: subscribe to the camera
reliably (a simulator whose every frame must arrive) instead of with sensor QoS.

Poses come as PoseStamped because tf2 has no PyPI wheel; on a robot, a one-line relay
from TF to ``camera/pose`` (or a build with tf2_ros) provides them.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
from geometry_msgs.msg import PoseStamped
from loci_msgs.msg import InstanceMasks, ObjectObservationArray
from nav_msgs.msg import OccupancyGrid as GridMsg
from rclpy.node import Node
from scipy.spatial.transform import Rotation
from sensor_msgs.msg import CameraInfo, Image, PointCloud2
from visualization_msgs.msg import Marker

from loci_ros import body_msgs as bm
from loci_ros import conversions as conv
from loci_ros.params import declare
from loci_ros.qos import LATCHED, RELIABLE, SENSOR
from loci_ros.run import run_node
from memory_core import LociError, ObjectObservation
from perception import DepthMap, DepthMapConfig, FrameError, PerceptionConfig
from perception.messages import (
    StampSync,
    depth_from_messages,
    perceive_masks,
    segment_decoded,
    skip_reason,
    stamp_ns,
)
from perception.segment import SegmenterConfig, filtered_cloud

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
        self.masks = declare(
            self, "masks", True, "instance masks come (false: segment frames by geometry)"
        )
        self.colour = declare(
            self, "colour", False, "without masks: pair a colour image for the things' colours"
        )
        up_axis = declare(self, "up_axis", "z", "fixed_frame's up axis (ROS: z)")
        self.segmenter = SegmenterConfig(up_axis=up_axis)
        kinds = ("depth", "masks", "pose") if self.masks else ("depth", "pose")
        if not self.masks and self.colour:
            kinds = ("depth", "colour", "pose")
        self.sync = StampSync(kinds, max_pending=16)
        self.info: CameraInfo | None = None
        self.skipped: Counter[str] = Counter()
        self.published = 0
        output = declare(self, "output_topic", "observations", "where observations go")
        qos = RELIABLE if declare(self, "reliable_inputs", False, "camera QoS reliable") else SENSOR
        self.pub = self.create_publisher(ObjectObservationArray, output, RELIABLE)
        cloud_topic = declare(self, "cloud_topic", "cloud", "filtered cloud ('' for none)")
        self.cloud_pub = (
            self.create_publisher(PointCloud2, cloud_topic, SENSOR) if cloud_topic else None
        )
        self.depth_map: DepthMap | None = None
        if declare(self, "map", False, "fuse a map from depth (needs open3d)"):
            voxel = declare(self, "map_voxel", 0.04, "map from depth: voxel size, m")
            self.depth_map = DepthMap(DepthMapConfig(voxel_m=voxel, up_axis=up_axis))
            self.map_pub = self.create_publisher(
                GridMsg, declare(self, "map_topic", "/map", "occupancy grid topic"), LATCHED
            )
            self.mesh_pub = self.create_publisher(Marker, "map_mesh", LATCHED)
            period = declare(self, "map_period_s", 5.0, "how often the map is published, s")
            self.create_timer(period, self._publish_map)
            self._fused_at_publish = 0
            self._last_t = 0.0
        self.create_subscription(CameraInfo, "camera/camera_info", self._on_info, qos)
        self.create_subscription(
            Image, "camera/depth/image_raw", lambda m: self._on_part("depth", m), qos
        )
        if self.masks:
            self.create_subscription(
                InstanceMasks, "camera/instances", lambda m: self._on_part("masks", m), qos
            )
        elif self.colour:
            self.create_subscription(
                Image, "camera/color/image_raw", lambda m: self._on_part("colour", m), qos
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
            pose = _matrix(frame["pose"])
        except ValueError as exc:  # scipy's refusal of a zero-norm quaternion
            self._skip("bad pose", f"camera orientation: {exc}")
            self.pub.publish(conv.observations_to_msg([], t, self.fixed_frame, "z"))
            return
        try:
            depth, k = depth_from_messages(frame["depth"], self.info, self.depth_scale)
            observations: tuple[ObjectObservation, ...]
            if self.masks:
                observations = perceive_masks(
                    depth, k, frame["masks"], pose, t, self.fixed_frame, self.config
                )
                cloud = filtered_cloud(depth, k, pose, self.segmenter)
            else:
                observations, seg = segment_decoded(
                    depth, k, frame.get("colour"), pose, t, self.fixed_frame, self.segmenter
                )
                cloud = seg.filtered_cloud(self.segmenter.max_depth_m)
        except LociError as exc:
            # A FrameError names the frame's defect; any other refusal is the core's
            # (intrinsics that cannot be a camera, a label it does not take).
            reason = skip_reason(exc) if isinstance(exc, FrameError) else "invalid input"
            self._skip(reason, str(exc))
            self.pub.publish(conv.observations_to_msg([], t, self.fixed_frame, "z"))
            return
        self.pub.publish(conv.observations_to_msg(observations, t, self.fixed_frame, "z"))
        self.published += 1
        if self.cloud_pub is not None:
            self.cloud_pub.publish(conv.cloud_to_msg(cloud, t, self.fixed_frame))
        if self.depth_map is not None:
            self.depth_map.integrate(depth, k, pose)
            self._last_t = t

    def _publish_map(self) -> None:
        """The map from depth, when frames came since it was last published: the mesh's
        extraction costs tens of milliseconds per square metre, not to be paid per frame."""
        dm = self.depth_map
        if dm is None or dm.frames == self._fused_at_publish:
            return
        self._fused_at_publish = dm.frames
        try:
            grid = dm.occupancy()
        except FrameError:  # frames, but no surface in any yet
            return
        self.map_pub.publish(bm.grid_to_msg(grid, self._last_t, self.fixed_frame))
        mesh = dm.mesh()
        vertices = mesh.vertex.positions.numpy()
        triangles = mesh.triangle.indices.numpy()
        self.mesh_pub.publish(conv.mesh_marker(vertices, triangles, self._last_t, self.fixed_frame))
        self.get_logger().info(
            f"map from depth: {dm.frames} frames, {grid.shape[1]}x{grid.shape[0]} cells, "
            f"{len(triangles)} triangles"
        )

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
