"""A bag written from the real Redwood frames (only the container is synthetic) replays into
consistent geometry; image decoding rejects bad input."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image
from scipy.spatial import cKDTree

from perception import FrameError, backproject, decode_depth, transform
from perception.bag import open_bag, read_tf
from perception.bag_images import decode_image, intrinsics_from_camera_info, write_rgbd_bag
from tests.perception.test_real_frames import REDWOOD, _redwood_k, _redwood_poses


def test_written_bag_replays_into_consistent_geometry(tmp_path: Path) -> None:
    k, poses = _redwood_k(), _redwood_poses()
    depths = [np.asarray(Image.open(REDWOOD / f"depth/{i:05d}.png")) for i in range(5)]
    bag = tmp_path / "redwood_rgbd"
    write_rgbd_bag(bag, depths, poses, k, [100.0 + 0.5 * i for i in range(5)])
    tf = read_tf(bag)
    reader = open_bag(bag)
    clouds, infos = [], []
    try:
        by_topic = {c.topic: c for c in reader.connections}
        assert by_topic["/camera/depth/image_raw"].msgcount == 5
        for conn, _t, raw in reader.messages(connections=[by_topic["/camera/depth/camera_info"]]):
            infos.append(reader.deserialize(raw, conn.msgtype))
        for conn, _t, raw in reader.messages(connections=[by_topic["/camera/depth/image_raw"]]):
            msg = reader.deserialize(raw, conn.msgtype)
            img = decode_image(msg)
            assert np.array_equal(img, depths[len(clouds)])
            intr = intrinsics_from_camera_info(infos[len(clouds)], img.shape)
            t = msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9
            pose = tf.lookup("map", msg.header.frame_id, t)
            pts = transform(backproject(decode_depth(img, "16UC1", 1000.0, max_m=4.0), intr), pose)
            clouds.append(pts[:: max(1, len(pts) // 40000)])
    finally:
        reader.close()
    d = float(np.median(cKDTree(clouds[0]).query(clouds[3])[0]))
    assert d < 0.03


def test_image_decoding_errors() -> None:
    good = SimpleNamespace(
        encoding="16UC1",
        height=2,
        width=2,
        step=4,
        is_bigendian=0,
        data=np.arange(8, dtype=np.uint8),
    )
    assert decode_image(good).shape == (2, 2)
    big = SimpleNamespace(**{**good.__dict__, "is_bigendian": 1})
    assert decode_image(big)[0, 0] == 0x0001
    with pytest.raises(FrameError, match="unsupported image encoding"):
        decode_image(SimpleNamespace(**{**good.__dict__, "encoding": "yuv422"}))
    with pytest.raises(FrameError, match="too short"):
        decode_image(SimpleNamespace(**{**good.__dict__, "data": np.zeros(3, np.uint8)}))
    info = SimpleNamespace(width=640, height=480, k=[525, 0, 319.5, 0, 525, 239.5, 0, 0, 1])
    with pytest.raises(FrameError, match="camera_info says 640x480"):
        intrinsics_from_camera_info(info, (240, 320))
    rgb = SimpleNamespace(
        encoding="bgr8",
        height=1,
        width=1,
        step=3,
        is_bigendian=0,
        data=np.array([1, 2, 3], np.uint8),
    )
    assert decode_image(rgb).tolist() == [[[3, 2, 1]]]


def test_image_fields_round_trip_through_decode() -> None:
    from perception.bag_images import image_fields

    rng = np.random.default_rng(0)
    arrays = {
        "rgb8": rng.integers(0, 256, (3, 5, 3), dtype=np.uint8),
        "bgr8": rng.integers(0, 256, (3, 5, 3), dtype=np.uint8),
        "mono8": rng.integers(0, 256, (3, 5), dtype=np.uint8),
        "mono16": rng.integers(0, 65536, (3, 5), dtype=np.uint16),
        "16UC1": rng.integers(0, 65536, (3, 5), dtype=np.uint16),
        "32FC1": rng.random((3, 5)).astype(np.float32),
    }
    for encoding, arr in arrays.items():
        msg = SimpleNamespace(**image_fields(arr, encoding))
        assert msg.step * msg.height == len(msg.data)
        assert np.array_equal(decode_image(msg), arr), encoding
    with pytest.raises(FrameError, match="3 channel"):
        image_fields(arrays["mono8"], "rgb8")
    with pytest.raises(FrameError, match="unsupported"):
        image_fields(arrays["mono8"], "yuv422")


def test_an_uncalibrated_camera_info_is_a_frame_error() -> None:
    """An all-zero K (what an uncalibrated driver publishes) skips the frame as a frame
    defect, as callers of FrameError expect, not as some other refusal."""
    from types import SimpleNamespace

    from perception.bag_images import intrinsics_from_camera_info
    from perception.errors import FrameError

    with pytest.raises(FrameError, match="not a usable pinhole camera"):
        intrinsics_from_camera_info(SimpleNamespace(k=[0.0] * 9, width=640, height=480))
