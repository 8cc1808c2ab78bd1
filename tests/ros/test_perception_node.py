"""perception_node without instance masks, on a real frame (TUM's desk): the things the
geometric segmenter finds come out as ``unknown`` observations with colours, the frame's
filtered cloud as a PointCloud2 equal to the core's, and the map from depth as a latched
``/map`` (the occupancy grid a body with no SLAM map takes) and a mesh marker."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from perception.segment import (
    SegmenterConfig,
    filtered_cloud,
    segment_frame,
    unknown_observations,
)
from tests.perception.test_segment import _tum

pytest.importorskip("open3d", reason="the map from depth needs the open3d extra")


def test_perception_node_segments_frames_without_masks_and_serves_a_map(
    tmp_path: Path, rclpy_context: None
) -> None:
    import rclpy
    from geometry_msgs.msg import PoseStamped
    from loci_msgs.msg import ObjectObservationArray
    from loci_ros import conversions as conv
    from loci_ros.qos import LATCHED, RELIABLE, SENSOR
    from loci_ros.system import LociClient, LociSystem
    from nav_msgs.msg import OccupancyGrid
    from scipy.spatial.transform import Rotation
    from sensor_msgs.msg import CameraInfo, Image, PointCloud2
    from visualization_msgs.msg import Marker

    f = _tum()
    k = f.k
    cfg = SegmenterConfig(up_axis="z")
    expected = unknown_observations(
        f.depth, k, f.pose, segment_frame(f.depth, k, f.pose, cfg), f.colour, config=cfg
    )
    expected_cloud = filtered_cloud(f.depth, k, f.pose, cfg)
    frame_id = "camera_color_optical_frame"

    def image(t: float, arr: Any, enc: str) -> Image:
        arr = np.ascontiguousarray(arr)
        return Image(
            header=conv.header(t, frame_id),
            height=arr.shape[0],
            width=arr.shape[1],
            encoding=enc,
            step=arr.strides[0],
            data=arr.tobytes(),
        )

    depth = np.where(np.isfinite(f.depth), f.depth, 0.0).astype("<f4")
    quat = Rotation.from_matrix(f.pose[:3, :3]).as_quat()
    params = {
        "perception_node": {
            "masks": False,
            "colour": True,
            "reliable_inputs": True,
            "map": True,
            "map_period_s": 0.5,
        }
    }
    with LociSystem(tmp_path, params) as system:
        system.start("perception_node")
        client = LociClient("test_perception_segments")
        node = client.node
        try:
            pubs = {
                "info": node.create_publisher(CameraInfo, "camera/camera_info", RELIABLE),
                "depth": node.create_publisher(Image, "camera/depth/image_raw", RELIABLE),
                "colour": node.create_publisher(Image, "camera/color/image_raw", RELIABLE),
                "pose": node.create_publisher(PoseStamped, "camera/pose", RELIABLE),
            }
            got: list[ObjectObservationArray] = []
            clouds: list[PointCloud2] = []
            grids: list[OccupancyGrid] = []
            meshes: list[Marker] = []
            node.create_subscription(ObjectObservationArray, "observations", got.append, RELIABLE)
            node.create_subscription(PointCloud2, "cloud", clouds.append, SENSOR)
            node.create_subscription(OccupancyGrid, "/map", grids.append, LATCHED)
            node.create_subscription(Marker, "map_mesh", meshes.append, LATCHED)
            deadline = time.monotonic() + 30
            while any(p.get_subscription_count() == 0 for p in pubs.values()):
                rclpy.spin_once(node, timeout_sec=0.1)
                assert time.monotonic() < deadline, system.log("perception_node")
            t = 1.0
            pubs["info"].publish(
                CameraInfo(
                    header=conv.header(t, frame_id),
                    width=k.width,
                    height=k.height,
                    k=[k.fx, 0.0, k.cx, 0.0, k.fy, k.cy, 0.0, 0.0, 1.0],
                )
            )
            time.sleep(0.2)  # camera_info first, as drivers do
            pubs["depth"].publish(image(t, depth, "32FC1"))
            pubs["colour"].publish(image(t, f.colour, "rgb8"))
            pubs["pose"].publish(conv.pose_stamped(f.pose[:3, 3], quat, t, "map"))
            deadline = time.monotonic() + 30
            while not (got and clouds and grids and meshes):
                rclpy.spin_once(node, timeout_sec=0.1)
                assert time.monotonic() < deadline, system.log("perception_node")
            system.check_alive()
        finally:
            client.close()
    (report,) = got
    seen, bad = conv.observations_from_msg(report, "z")
    assert bad == []
    assert len(seen) == len(expected) >= 10
    assert {o.label for o in seen} == {"unknown"}
    for o, e in zip(
        sorted(seen, key=lambda o: o.position),
        sorted(expected, key=lambda o: o.position),
        strict=True,
    ):
        assert np.allclose(o.position, e.position, atol=1e-4)
        assert o.state["colour"] == e.state["colour"]
    cloud = conv.cloud_from_msg(clouds[0])
    assert clouds[0].header.frame_id == "map"
    assert cloud.shape == expected_cloud.shape and np.allclose(cloud, expected_cloud, atol=1e-5)
    grid = grids[-1]
    cells = np.asarray(grid.data)
    assert grid.info.resolution == pytest.approx(0.05)
    assert (cells == 0).any() and (cells == 100).any()
    # What a ROS body without a SLAM map reads from /map is the core's map of this frame.
    from loci_ros import body_msgs as bm

    from perception import DepthMap, DepthMapConfig

    core = DepthMap(DepthMapConfig(voxel_m=0.04, up_axis="z"))
    core.integrate(f.depth, k, f.pose)
    served = bm.grid_from_msg(grid, "z")
    expected_grid = core.occupancy()
    assert served.shape == expected_grid.shape
    assert np.array_equal(served.data, expected_grid.data)
    assert np.allclose(served.origin, expected_grid.origin)
    assert meshes[-1].type == Marker.TRIANGLE_LIST and len(meshes[-1].points) % 3 == 0
    assert len(meshes[-1].points) > 1000
