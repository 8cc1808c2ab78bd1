"""Pinhole intrinsics, depth decoding and back-projection (vectorised numpy)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from memory_core.types import PinholeIntrinsics
from perception.errors import DepthScaleError, FrameError, SizeMismatchError

__all__ = [
    "PinholeIntrinsics",
    "backproject",
    "decode_depth",
    "nyu_kinect_depth",
    "sun_rgbd_depth",
    "transform",
]


def decode_depth(
    raw: NDArray[np.generic],
    encoding: str,
    scale: float = 1000.0,
    min_m: float = 0.1,
    max_m: float = 10.0,
    check_scale: bool = True,
) -> NDArray[np.float32]:
    """Depth in metres with invalid pixels (0, NaN, out of range) as NaN.

    ``32FC1`` is metres; ``16UC1`` is an integer image divided by ``scale`` (1000 for
    millimetres as Redwood/PrimeSense, 5000 for TUM and ICL-NUIM). With ``check_scale``
    a median valid depth outside a room-sized range raises :class:`DepthScaleError`.
    """
    if raw.ndim != 2:
        raise FrameError(f"depth must be a 2-D image, got shape {raw.shape}")
    if encoding == "32FC1":
        depth = raw.astype(np.float32, copy=True)
    elif encoding == "16UC1":
        if not np.issubdtype(raw.dtype, np.integer):
            raise FrameError(f"16UC1 depth must be integers, got {raw.dtype}")
        if scale <= 0:
            raise FrameError(f"depth scale must be > 0, got {scale}")
        depth = raw.astype(np.float32) / np.float32(scale)
    else:
        raise FrameError(f"unsupported depth encoding {encoding!r} (want 32FC1 or 16UC1)")
    if check_scale:
        sample = depth[::8, ::8]  # a plausibility check needs no more than 1 pixel in 64
        sample = sample[np.isfinite(sample) & (sample > 0)]
        if not sample.size:  # few valid pixels: all of them
            sample = depth[np.isfinite(depth) & (depth > 0)]
        median = float(np.median(sample)) if sample.size else None
        if median is not None and not 0.2 <= median <= 20.0:
            raise DepthScaleError(
                f"median depth {median:.3g} m is implausible: wrong encoding or scale "
                f"(encoding {encoding}, scale {scale})"
            )
    # NaN fails every comparison: ``not >= min_m`` is invalid, unknown or too near at once.
    bad = ~(depth >= min_m)
    bad |= depth > max_m
    if min_m <= 0:
        bad |= depth <= 0
    depth[bad] = np.nan
    return depth


def sun_rgbd_depth(raw: NDArray[np.uint16]) -> NDArray[np.uint16]:
    """SUN RGB-D stores millimetres rotated by 3 bits: ``(d >> 3) | (d << 13)`` restores them."""
    r = raw.astype(np.uint16)
    out = ((r >> np.uint16(3)) | (r << np.uint16(13))).astype(np.uint16)
    return out


def nyu_kinect_depth(raw: NDArray[np.integer], max_m: float = 7.0) -> NDArray[np.float32]:
    """Metric depth (32FC1, NaN where invalid) from NYU Depth v2's raw Kinect disparity.

    The NYU toolbox's ``.pgm`` files hold the 11-bit disparity little-endian inside a
    big-endian format, so a reader that follows the PGM spec (PIL) sees byte-swapped
    values; they are swapped back here. Depth is ``351.3 / (1092.5 - d)`` m (the toolbox's
    constants); 2047 marks no return, and beyond ``max_m`` the Kinect's depth is noise.
    """
    if raw.ndim != 2 or not np.issubdtype(raw.dtype, np.integer):
        raise FrameError(f"NYU raw depth must be a 2-D integer image, got {raw.dtype} {raw.shape}")
    d = raw.astype(np.uint16).byteswap().astype(np.float32)
    with np.errstate(divide="ignore"):
        depth = np.float32(351.3) / (np.float32(1092.5) - d)
    depth[(d >= 2047) | (depth <= 0) | (depth > max_m)] = np.nan
    return depth


def check_size(depth: NDArray[np.floating], k: PinholeIntrinsics) -> None:
    """A depth image the camera ``k`` could have taken, or :class:`SizeMismatchError`."""
    if depth.shape != (k.height, k.width):
        raise SizeMismatchError(
            f"depth is {depth.shape[1]}x{depth.shape[0]} but the camera is {k.width}x{k.height}"
        )


def checked_pose(world_from_camera: NDArray[np.float64]) -> NDArray[np.float64]:
    """The camera pose as a float64 4x4 matrix, or :class:`FrameError` when it is not a
    finite one."""
    pose = np.asarray(world_from_camera, dtype=np.float64)
    if pose.shape != (4, 4) or not np.all(np.isfinite(pose)):
        raise FrameError("camera pose must be a finite 4x4 matrix")
    return pose


def backproject(
    depth: NDArray[np.float32], k: PinholeIntrinsics, mask: NDArray[np.bool_] | None = None
) -> NDArray[np.float64]:
    """Camera-frame 3-D points (OpenCV axes) of the valid pixels under ``mask``."""
    check_size(depth, k)
    sel = np.isfinite(depth)
    if mask is not None:
        sel &= mask
    v, u = np.nonzero(sel)
    z = depth[v, u].astype(np.float64)
    return np.stack([(u - k.cx) / k.fx * z, (v - k.cy) / k.fy * z, z], axis=1)


def transform(
    points: NDArray[np.float64], world_from_camera: NDArray[np.float64]
) -> NDArray[np.float64]:
    pose = checked_pose(world_from_camera)
    out: NDArray[np.float64] = points @ pose[:3, :3].T + pose[:3, 3]
    return out
