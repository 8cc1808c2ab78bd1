"""Real RGB-D frames (Redwood, ICL-NUIM): back-projection is geometrically consistent
across frames, and depth-scale mistakes are caught."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from scipy.spatial import cKDTree
from scipy.spatial.transform import Rotation

from perception import (
    DepthScaleError,
    FrameError,
    PinholeIntrinsics,
    backproject,
    decode_depth,
    transform,
)
from tests.conftest import DATA

REDWOOD = DATA / "rgbd_frames/open3d_redwood_5frames"
ICL = DATA / "rgbd_frames/slambook2_iclnuim_5frames"
# Points of one static surface seen from two frames agree within this after the pose
# transform (median nearest-neighbour distance): sensor noise plus pose error.
TOLERANCE_M = 0.03


def _redwood_poses() -> list[np.ndarray]:
    lines = (REDWOOD / "trajectory.log").read_text().split("\n")
    poses = []
    for i in range(0, len(lines) - 4, 5):
        poses.append(np.array([[float(x) for x in lines[i + r].split()] for r in range(1, 5)]))
    return poses


def _redwood_k() -> PinholeIntrinsics:
    cam = json.loads((REDWOOD / "camera_primesense.json").read_text())
    m = cam["intrinsic_matrix"]  # column-major
    return PinholeIntrinsics(cam["width"], cam["height"], m[0], m[4], m[6], m[7])


def _cloud(
    path: Path,
    k: PinholeIntrinsics,
    pose: np.ndarray,
    scale: float,
    check: bool = True,
    max_m: float = 4.0,
) -> np.ndarray:
    raw = np.asarray(Image.open(path))
    depth = decode_depth(raw, "16UC1", scale, max_m=max_m, check_scale=check)
    pts = transform(backproject(depth, k), pose)
    return pts[:: max(1, len(pts) // 40000)]


def _median_nn(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.median(cKDTree(a).query(b, k=1)[0]))


def test_redwood_frames_agree_after_the_pose_transform() -> None:
    k, poses = _redwood_k(), _redwood_poses()
    clouds = [_cloud(REDWOOD / f"depth/{i:05d}.png", k, poses[i], 1000.0) for i in range(5)]
    for i in range(1, 5):
        d = _median_nn(clouds[0], clouds[i])
        print(f"\nRedwood frame {i} vs 0: median NN distance {d * 100:.2f} cm")
        assert d < TOLERANCE_M


def _icl() -> tuple[PinholeIntrinsics, list[np.ndarray], float]:
    cam = json.loads((ICL / "intrinsics.json").read_text())
    k = PinholeIntrinsics(cam["width"], cam["height"], cam["fx"], cam["fy"], cam["cx"], cam["cy"])
    rows = [
        list(map(float, line.split()))
        for line in (ICL / "pose.txt").read_text().split("\n")
        if line.strip()
    ][:5]
    poses = []
    for r in rows:
        pose = np.eye(4)
        pose[:3, :3] = Rotation.from_quat(r[3:7]).as_matrix()
        pose[:3, 3] = r[:3]
        poses.append(pose)
    return k, poses, float(cam["depth_scale"])


def _overlap_distance(a: np.ndarray, b: np.ndarray) -> float:
    """25th-percentile nearest-neighbour distance: the part of ``b`` that ``a`` also saw
    (frames that turn away share only part of the scene)."""
    return float(np.percentile(cKDTree(a).query(b, k=1)[0], 25))


def test_icl_nuim_frames_agree_after_the_pose_transform() -> None:
    k, poses, scale = _icl()
    first = _cloud(ICL / "depth/1.png", k, poses[0], scale, max_m=6.0)
    for i in (4, 5):
        d = _overlap_distance(
            first, _cloud(ICL / f"depth/{i}.png", k, poses[i - 1], scale, max_m=6.0)
        )
        print(f"\nICL-NUIM frame {i} vs 1: overlap distance {d * 100:.2f} cm")
        assert d < TOLERANCE_M


def test_depth_scale_mistakes_are_caught() -> None:
    raw = np.asarray(Image.open(REDWOOD / "depth/00000.png"))
    with pytest.raises(DepthScaleError, match="implausible"):
        decode_depth(raw, "16UC1", scale=1.0)  # millimetres read as metres
    # A plausible-looking wrong scale (Redwood's 1000 on ICL-NUIM's 1/5000 m units) passes the
    # range check but breaks the agreement between frames taken from different places.
    k, poses, scale = _icl()
    good = _overlap_distance(
        _cloud(ICL / "depth/1.png", k, poses[0], scale, max_m=6.0),
        _cloud(ICL / "depth/4.png", k, poses[3], scale, max_m=6.0),
    )
    bad = _overlap_distance(
        _cloud(ICL / "depth/1.png", k, poses[0], 1000.0, check=False, max_m=30.0),
        _cloud(ICL / "depth/4.png", k, poses[3], 1000.0, check=False, max_m=30.0),
    )
    print(f"\nscale 5000: {good * 100:.1f} cm, scale 1000: {bad * 100:.1f} cm")
    assert bad > 3 * good


def test_bad_frames_are_named() -> None:
    k = _redwood_k()
    with pytest.raises(FrameError, match="unsupported depth encoding"):
        decode_depth(np.zeros((480, 640), np.uint16), "8UC3")
    with pytest.raises(FrameError, match="camera is 640x480"):
        backproject(np.ones((240, 320), np.float32), k)
    with pytest.raises(FrameError, match="integers"):
        decode_depth(np.ones((4, 4), np.float32), "16UC1")
    depth = decode_depth(
        np.array([[0, 1000, 65535]], np.uint16), "16UC1", 1000.0, check_scale=False
    )
    assert np.isnan(depth[0, 0]) and depth[0, 1] == 1.0 and np.isnan(depth[0, 2])


SINGLE = DATA / "rgbd_frames/open3d_single_frames"


def test_single_frames_tum_sun_nyu() -> None:
    from perception.camera import nyu_kinect_depth, sun_rgbd_depth

    tum = np.asarray(Image.open(SINGLE / "TUM_depth.png"))
    assert Image.open(SINGLE / "TUM_color.png").size == (tum.shape[1], tum.shape[0])
    depth = decode_depth(tum, "16UC1", 5000.0)  # TUM: 5000 units per metre
    assert 0.5 < float(np.nanmedian(depth)) < 5.0
    k = PinholeIntrinsics(640, 480, 525.0, 525.0, 319.5, 239.5)  # TUM's default camera
    pts = backproject(depth, k)
    assert len(pts) > 100_000 and np.all(pts[:, 2] > 0)
    sun = np.asarray(Image.open(SINGLE / "SUN_depth.png"))
    with pytest.raises(DepthScaleError):
        decode_depth(sun, "16UC1", 1000.0)  # forgot SUN's bit rotation: tens of metres
    assert 1.0 < float(np.nanmedian(decode_depth(sun_rgbd_depth(sun), "16UC1", 1000.0))) < 5.0
    nyu = np.asarray(Image.open(SINGLE / "NYU_depth.pgm")).astype(np.uint16)
    # NYU's raw Kinect units are not metric: read as millimetres they are implausible, which
    # is what the check is for; converted they are a room 1.5-6.5 m deep.
    with pytest.raises(DepthScaleError):
        decode_depth(nyu, "16UC1", 1000.0)
    metric = decode_depth(nyu_kinect_depth(nyu), "32FC1")
    valid = metric[np.isfinite(metric)]
    assert valid.size > 0.9 * nyu.size
    assert 2.0 < float(np.median(valid)) < 5.0
    assert float(np.percentile(valid, 1)) > 1.0 and float(np.percentile(valid, 99)) < 7.0
    # Depth is smooth along the image: neighbouring valid pixels differ by centimetres.
    step = np.abs(np.diff(metric, axis=1))
    assert float(np.nanmedian(step)) < 0.02
