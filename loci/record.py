"""Record a simulator episode as a ROS 2 MCAP bag that Foxglove and ``ros2 bag play`` open.

Topics: ``/camera/color/image_raw`` (rgb8), ``/camera/depth/image_raw`` (32FC1),
``/camera/camera_info``, ``/tf`` (map → camera_color_optical_frame) and the same pose as
``/camera/pose`` (PoseStamped), ``/scene_graph/markers``
(visualization_msgs/MarkerArray: a cube and a label per node memory holds) and
``/loci/observations`` (loci_msgs/ObjectObservationArray, from the .msg files in
``ros_ws/src/loci_msgs/msg``), the simulator's ground-truth segmentation as
``/camera/instances`` (loci_msgs/InstanceMasks), so a replay can run perception on the
frames. AI2-THOR's world is left-handed (y up); ROS frames are
right-handed (z up), so positions and poses are converted: x_ros = z, y_ros = -x,
z_ros = y.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from rosbags.rosbag2 import StoragePlugin, Writer
from rosbags.typesys import Stores, get_types_from_msg, get_typestore

from memory_core import Layer, Memory
from memory_core.convention import camera_to_ros, size_to_ros, to_ros
from perception.bag_images import camera_info_msg, image_fields
from sim.render import CameraFrame, rep118_depth, segmentation
from sim.world import World

__all__ = ["MSG_DIR", "EpisodeRecorder", "loci_typestore"]

MSG_DIR = Path(__file__).resolve().parents[1] / "ros_ws" / "src" / "loci_msgs" / "msg"


def loci_typestore() -> Any:
    """ROS 2 Jazzy types plus the project's own messages, read from their .msg files."""
    ts = get_typestore(Stores.ROS2_JAZZY)
    types: dict[str, Any] = {}
    for msg in sorted(MSG_DIR.glob("*.msg")):
        text = msg.read_text(encoding="utf-8")
        types.update(get_types_from_msg(text, f"loci_msgs/msg/{msg.stem}"))
    ts.register(types)
    return ts


class EpisodeRecorder:
    def __init__(self, path: str | Path) -> None:
        self.ts = loci_typestore()
        self.t = self.ts.types
        self.writer = Writer(Path(path), version=9, storage_plugin=StoragePlugin.MCAP)
        self.writer.open()
        add = self.writer.add_connection
        self.c_rgb = add("/camera/color/image_raw", "sensor_msgs/msg/Image", typestore=self.ts)
        self.c_depth = add("/camera/depth/image_raw", "sensor_msgs/msg/Image", typestore=self.ts)
        self.c_info = add("/camera/camera_info", "sensor_msgs/msg/CameraInfo", typestore=self.ts)
        self.c_tf = add("/tf", "tf2_msgs/msg/TFMessage", typestore=self.ts)
        # The same pose as PoseStamped: what perception_node takes (tf2 has no PyPI wheel).
        self.c_pose = add("/camera/pose", "geometry_msgs/msg/PoseStamped", typestore=self.ts)
        self.c_markers = add(
            "/scene_graph/markers", "visualization_msgs/msg/MarkerArray", typestore=self.ts
        )
        self.c_obs = add(
            "/loci/observations", "loci_msgs/msg/ObjectObservationArray", typestore=self.ts
        )
        self.c_masks = add("/camera/instances", "loci_msgs/msg/InstanceMasks", typestore=self.ts)
        self.frames = 0

    def close(self) -> None:
        self.writer.close()

    def _header(self, t: float, frame: str) -> Any:
        sec = int(t)
        stamp = self.t["builtin_interfaces/msg/Time"](sec=sec, nanosec=round((t - sec) * 1e9))
        return self.t["std_msgs/msg/Header"](stamp=stamp, frame_id=frame)

    def _write(self, conn: Any, t: float, msg: Any, msgtype: str) -> None:
        self.writer.write(conn, round(t * 1e9), self.ts.serialize_cdr(msg, msgtype))

    def record(self, t: float, world: World, frame: CameraFrame, memory: Memory) -> None:
        T = self.t  # noqa: N806 - the type namespace reads best short
        hdr = self._header(t, "camera_color_optical_frame")
        image = T["sensor_msgs/msg/Image"]
        rgb = image(header=hdr, **image_fields(frame.rgb, "rgb8"))
        depth = image(header=hdr, **image_fields(rep118_depth(frame.depth), "32FC1"))
        info = camera_info_msg(T, hdr, frame.intrinsics)
        pos, q = camera_to_ros(frame.world_from_camera)
        tf = T["tf2_msgs/msg/TFMessage"](
            transforms=[
                T["geometry_msgs/msg/TransformStamped"](
                    header=self._header(t, "map"),
                    child_frame_id="camera_color_optical_frame",
                    transform=T["geometry_msgs/msg/Transform"](
                        translation=T["geometry_msgs/msg/Vector3"](x=pos[0], y=pos[1], z=pos[2]),
                        rotation=T["geometry_msgs/msg/Quaternion"](x=q[0], y=q[1], z=q[2], w=q[3]),
                    ),
                )
            ]
        )
        self._write(self.c_rgb, t, rgb, "sensor_msgs/msg/Image")
        self._write(self.c_depth, t, depth, "sensor_msgs/msg/Image")
        self._write(self.c_info, t, info, "sensor_msgs/msg/CameraInfo")
        self._write(self.c_tf, t, tf, "tf2_msgs/msg/TFMessage")
        cam_pose = T["geometry_msgs/msg/PoseStamped"](
            header=self._header(t, "map"),
            pose=T["geometry_msgs/msg/Pose"](
                position=T["geometry_msgs/msg/Point"](x=pos[0], y=pos[1], z=pos[2]),
                orientation=T["geometry_msgs/msg/Quaternion"](x=q[0], y=q[1], z=q[2], w=q[3]),
            ),
        )
        self._write(self.c_pose, t, cam_pose, "geometry_msgs/msg/PoseStamped")
        self._write(
            self.c_markers, t, self._markers(t, memory), "visualization_msgs/msg/MarkerArray"
        )
        self._write(
            self.c_obs,
            t,
            self._observations(t, world, frame),
            "loci_msgs/msg/ObjectObservationArray",
        )
        self._write(self.c_masks, t, self._masks(hdr, world, frame), "loci_msgs/msg/InstanceMasks")
        self.frames += 1

    def _point(self, p: Any) -> Any:
        x, y, z = to_ros(p, "y")
        return self.t["geometry_msgs/msg/Point"](x=x, y=y, z=z)

    def _markers(self, t: float, memory: Memory) -> Any:
        T = self.t  # noqa: N806
        markers = []
        nodes = memory.graph.nodes(Layer.OBJECT) + memory.graph.nodes(Layer.RECEPTACLE)
        for i, n in enumerate(nodes):
            size = n.box.size if n.box is not None else (0.1, 0.1, 0.1)
            sx, sy, sz = size_to_ros(size, "y")
            color = (
                T["std_msgs/msg/ColorRGBA"](r=0.2, g=0.5, b=0.9, a=0.6)
                if n.layer == Layer.OBJECT
                else T["std_msgs/msg/ColorRGBA"](r=0.6, g=0.45, b=0.35, a=0.4)
            )
            for kind, mid, text in ((1, 2 * i, ""), (9, 2 * i + 1, n.label)):  # CUBE, TEXT
                markers.append(
                    T["visualization_msgs/msg/Marker"](
                        header=self._header(t, "map"),
                        ns="scene_graph",
                        id=mid,
                        type=kind,
                        action=0,
                        pose=T["geometry_msgs/msg/Pose"](
                            position=self._point(n.position),
                            orientation=T["geometry_msgs/msg/Quaternion"](
                                x=0.0, y=0.0, z=0.0, w=1.0
                            ),
                        ),
                        scale=T["geometry_msgs/msg/Vector3"](
                            x=sx if kind == 1 else 0.1,
                            y=sy if kind == 1 else 0.1,
                            z=sz if kind == 1 else 0.1,
                        ),
                        color=color,
                        lifetime=T["builtin_interfaces/msg/Duration"](sec=0, nanosec=0),
                        frame_locked=False,
                        points=[],
                        colors=[],
                        texture_resource="",
                        texture=T["sensor_msgs/msg/CompressedImage"](
                            header=self._header(t, ""), format="", data=np.zeros(0, np.uint8)
                        ),
                        uv_coordinates=[],
                        text=text,
                        mesh_resource="",
                        mesh_file=T["visualization_msgs/msg/MeshFile"](
                            filename="", data=np.zeros(0, np.uint8)
                        ),
                        mesh_use_embedded_materials=False,
                    )
                )
        return T["visualization_msgs/msg/MarkerArray"](markers=markers)

    def _observations(self, t: float, world: World, frame: CameraFrame) -> Any:
        T = self.t  # noqa: N806
        obs = []
        for idx in sorted(set(np.unique(frame.instance).tolist()) - {-1}):
            oid = frame.instance_ids[idx]
            if oid not in world.objects:
                continue
            o = world.objects[oid]
            state = {
                "isOpen": o.is_open,
                "isToggled": o.is_toggled,
                "isSliced": o.is_sliced,
                "temperature": o.temperature,
            }
            obs.append(
                T["loci_msgs/msg/ObjectObservation"](
                    header=self._header(t, "map"),
                    label=o.object_type,
                    object_id=oid,
                    position=self._point(o.center),
                    has_box=True,
                    box_center=self._point(o.center),
                    box_size=T["geometry_msgs/msg/Vector3"](*size_to_ros(o.size, "y")),
                    confidence=1.0,
                    parent_id=o.parent_id or "",
                    relation="",
                    layer="object" if o.pickupable else "receptacle",
                    state_json=json.dumps(state),
                    embedding=np.zeros(0, dtype=np.float64),
                    name=o.name,
                )
            )
        return T["loci_msgs/msg/ObjectObservationArray"](
            header=self._header(t, "map"), observations=obs
        )

    def _masks(self, hdr: Any, world: World, frame: CameraFrame) -> Any:
        T = self.t  # noqa: N806
        mask, labels, ids = segmentation(frame, world)
        image = T["sensor_msgs/msg/Image"](header=hdr, **image_fields(mask, "mono16"))
        return T["loci_msgs/msg/InstanceMasks"](
            header=hdr,
            mask=image,
            labels=labels,
            object_ids=ids,
            scores=np.ones(len(ids), dtype=np.float32),
        )
