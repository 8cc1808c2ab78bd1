"""sensor_msgs Image / CameraInfo ↔ numpy, and writing RGB-D frames as a ROS 2 bag.

Decoding covers rgb8, bgr8, mono8, mono16, 16UC1 and 32FC1 (with row padding and byte
order); a depth image whose size disagrees with its camera_info is an error, as
is an unknown encoding.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from rosbags.rosbag2 import StoragePlugin, Writer
from rosbags.typesys import Stores, get_typestore
from scipy.spatial.transform import Rotation

from memory_core.errors import InvalidInputError
from perception.camera import PinholeIntrinsics
from perception.errors import FrameError, SizeMismatchError

__all__ = [
    "camera_info_msg",
    "decode_image",
    "image_fields",
    "intrinsics_from_camera_info",
    "write_rgbd_bag",
]

_DTYPES = {
    "rgb8": (np.uint8, 3),
    "bgr8": (np.uint8, 3),
    "mono8": (np.uint8, 1),
    "mono16": (np.uint16, 1),
    "16UC1": (np.uint16, 1),
    "32FC1": (np.float32, 1),
}


def decode_image(msg: Any) -> NDArray[Any]:
    enc = str(msg.encoding)
    if enc not in _DTYPES:
        raise FrameError(f"unsupported image encoding {enc!r} (supported: {sorted(_DTYPES)})")
    dtype, channels = _DTYPES[enc]
    item = np.dtype(dtype).itemsize
    h, w, step = int(msg.height), int(msg.width), int(msg.step)
    data = np.asarray(msg.data, dtype=np.uint8)
    if step < w * channels * item or len(data) < h * step:
        raise FrameError(f"{enc} image {w}x{h}: {len(data)} bytes with step {step} is too short")
    rows = data[: h * step].reshape(h, step)[:, : w * channels * item]
    arr = np.ascontiguousarray(rows).view(
        np.dtype(dtype).newbyteorder(">" if msg.is_bigendian else "<")
    )
    arr = arr.reshape(h, w, channels) if channels > 1 else arr.reshape(h, w)
    if enc == "bgr8":
        arr = arr[..., ::-1]
    return arr.astype(arr.dtype.newbyteorder("="))


def image_fields(arr: NDArray[Any], encoding: str) -> dict[str, Any]:
    """The sensor_msgs/Image fields (all but the header) for ``arr`` — the inverse of
    :func:`decode_image`: rows unpadded, little-endian, ``data`` a flat uint8 array."""
    if encoding not in _DTYPES:
        raise FrameError(f"unsupported image encoding {encoding!r} (supported: {sorted(_DTYPES)})")
    dtype, channels = _DTYPES[encoding]
    if encoding == "bgr8":
        arr = arr[..., ::-1]
    data = np.ascontiguousarray(arr, dtype=np.dtype(dtype).newbyteorder("<"))
    shape = data.shape if channels > 1 else (*data.shape, 1)
    if len(shape) != 3 or shape[2] != channels:
        raise FrameError(f"{encoding} needs {channels} channel(s), got an array of {arr.shape}")
    height, width = shape[0], shape[1]
    return {
        "height": height,
        "width": width,
        "encoding": encoding,
        "is_bigendian": 0,
        "step": width * channels * data.itemsize,
        "data": data.reshape(-1).view(np.uint8),
    }


def intrinsics_from_camera_info(
    msg: Any, image_shape: tuple[int, ...] | None = None
) -> PinholeIntrinsics:
    try:
        k = [float(v) for v in msg.k]
        intr = PinholeIntrinsics(int(msg.width), int(msg.height), k[0], k[4], k[2], k[5])
    except (InvalidInputError, IndexError, TypeError, ValueError) as exc:
        # An uncalibrated camera publishes an all-zero K: the frame cannot be used, the
        # next one (after calibration) can.
        raise FrameError(f"camera_info is not a usable pinhole camera: {exc}") from exc
    if image_shape is not None and tuple(image_shape[:2]) != (intr.height, intr.width):
        raise SizeMismatchError(
            f"image is {image_shape[1]}x{image_shape[0]} but camera_info says "
            f"{intr.width}x{intr.height}"
        )
    return intr


def camera_info_msg(types: Any, header: Any, k: PinholeIntrinsics) -> Any:
    """A sensor_msgs/CameraInfo for an undistorted pinhole camera."""
    return types["sensor_msgs/msg/CameraInfo"](
        header=header,
        height=k.height,
        width=k.width,
        distortion_model="plumb_bob",
        d=np.zeros(5),
        k=np.array([k.fx, 0, k.cx, 0, k.fy, k.cy, 0, 0, 1.0]),
        r=np.eye(3).ravel(),
        p=np.array([k.fx, 0, k.cx, 0, 0, k.fy, k.cy, 0, 0, 0, 1, 0.0]),
        binning_x=0,
        binning_y=0,
        roi=types["sensor_msgs/msg/RegionOfInterest"](
            x_offset=0, y_offset=0, height=0, width=0, do_rectify=False
        ),
    )


def write_rgbd_bag(
    path: str | Path,
    depth_frames: Sequence[NDArray[np.uint16]],
    poses: Sequence[NDArray[np.float64]],
    k: PinholeIntrinsics,
    stamps: Sequence[float],
    frame_id: str = "camera_color_optical_frame",
    world: str = "map",
    colour_frames: Sequence[NDArray[np.uint8]] | None = None,
) -> None:
    """Write 16UC1 depth images, camera_info and the camera's TF as a ROS 2 MCAP bag;
    with ``colour_frames`` (H x W x 3 RGB, registered to the depth), also
    ``/camera/color/image_raw`` (rgb8) stamped as its depth image."""
    ts = get_typestore(Stores.ROS2_JAZZY)
    t_ = ts.types
    header = t_["std_msgs/msg/Header"]
    stamp_t = t_["builtin_interfaces/msg/Time"]
    with Writer(Path(path), version=9, storage_plugin=StoragePlugin.MCAP) as writer:
        c_img = writer.add_connection(
            "/camera/depth/image_raw", "sensor_msgs/msg/Image", typestore=ts
        )
        c_info = writer.add_connection(
            "/camera/depth/camera_info", "sensor_msgs/msg/CameraInfo", typestore=ts
        )
        c_tf = writer.add_connection("/tf", "tf2_msgs/msg/TFMessage", typestore=ts)
        c_rgb = (
            writer.add_connection("/camera/color/image_raw", "sensor_msgs/msg/Image", typestore=ts)
            if colour_frames is not None
            else None
        )
        if colour_frames is not None and len(colour_frames) != len(depth_frames):
            raise FrameError(f"{len(colour_frames)} colour frames for {len(depth_frames)} depth")
        for i, (depth, pose, t) in enumerate(zip(depth_frames, poses, stamps, strict=True)):
            sec = int(t)
            st = stamp_t(sec=sec, nanosec=round((t - sec) * 1e9))
            hdr = header(stamp=st, frame_id=frame_id)
            img = t_["sensor_msgs/msg/Image"](header=hdr, **image_fields(depth, "16UC1"))
            info = camera_info_msg(t_, hdr, k)
            q = Rotation.from_matrix(pose[:3, :3]).as_quat()
            tr = t_["geometry_msgs/msg/TransformStamped"](
                header=header(stamp=st, frame_id=world),
                child_frame_id=frame_id,
                transform=t_["geometry_msgs/msg/Transform"](
                    translation=t_["geometry_msgs/msg/Vector3"](
                        x=pose[0, 3], y=pose[1, 3], z=pose[2, 3]
                    ),
                    rotation=t_["geometry_msgs/msg/Quaternion"](x=q[0], y=q[1], z=q[2], w=q[3]),
                ),
            )
            ns = round(t * 1e9)
            writer.write(c_img, ns, ts.serialize_cdr(img, "sensor_msgs/msg/Image"))
            writer.write(c_info, ns, ts.serialize_cdr(info, "sensor_msgs/msg/CameraInfo"))
            if c_rgb is not None and colour_frames is not None:
                rgb = t_["sensor_msgs/msg/Image"](
                    header=hdr, **image_fields(np.asarray(colour_frames[i], np.uint8), "rgb8")
                )
                writer.write(c_rgb, ns, ts.serialize_cdr(rgb, "sensor_msgs/msg/Image"))
            writer.write(
                c_tf,
                ns,
                ts.serialize_cdr(
                    t_["tf2_msgs/msg/TFMessage"](transforms=[tr]), "tf2_msgs/msg/TFMessage"
                ),
            )
