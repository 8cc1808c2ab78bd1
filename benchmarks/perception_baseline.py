"""The previous numpy path of ``perception.instances`` (commit e1c15fa), kept only as the
perception benchmark's baseline: every valid pixel grouped by one stable sort, then a
dozen numpy calls per instance. Not used by the library.

Instance masks + depth + pose → object observations in the world frame.

Per instance: back-project its valid pixels, drop outliers (farther than
``outlier_k`` median absolute deviations from the median point, per axis — mask
edges that bleed onto the background), then a robust centroid (median) and an
axis-aligned box from percentiles. Instances with too few valid points are
skipped and counted.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray

from memory_core import Box3D, ObjectObservation
from perception.camera import PinholeIntrinsics
from perception.errors import FrameError, SizeMismatchError
from perception.instances import FrameResult, PerceptionConfig

__all__ = ["observations_from_frame"]


_FULL_CONFIDENCE_POINTS = 200
"""An instance this many pixels large is seen with full confidence; smaller, in proportion."""


def observations_from_frame(
    depth: NDArray[np.float32],
    instance: NDArray[np.integer],
    labels: Mapping[int, str],
    k: PinholeIntrinsics,
    world_from_camera: NDArray[np.float64],
    timestamp: float = 0.0,
    ids: Mapping[int, str] | None = None,
    config: PerceptionConfig | None = None,
    frame_id: str = "camera",
) -> FrameResult:
    """``instance`` holds an instance index per pixel; ``labels`` names each index (indices
    without a label, e.g. walls or background, are ignored). ``ids`` optionally gives
    tracker or simulator ids as association hints."""
    cfg = config or PerceptionConfig()
    if instance.shape != depth.shape:
        raise SizeMismatchError(f"mask is {instance.shape} but depth is {depth.shape}")
    if depth.shape != (k.height, k.width):
        raise SizeMismatchError(
            f"depth is {depth.shape[1]}x{depth.shape[0]} but the camera is {k.width}x{k.height}"
        )
    pose = np.asarray(world_from_camera, dtype=np.float64)
    if pose.shape != (4, 4) or not np.all(np.isfinite(pose)):
        raise FrameError("camera pose must be a finite 4x4 matrix")
    rot, trans = pose[:3, :3], pose[:3, 3]
    width = depth.shape[1]
    flat_depth = depth.ravel()
    pixels = np.flatnonzero(np.isfinite(flat_depth))
    inst = instance.ravel()[pixels]
    # One stable sort groups every instance's pixels (radix sort on small integer ids).
    small = inst.size == 0 or (inst.min() >= -32768 and inst.max() < 32768)
    order = np.argsort(inst.astype(np.int16 if small else np.int64), kind="stable")
    sorted_inst = inst[order]
    bounds = np.flatnonzero(np.diff(sorted_inst)) + 1
    starts = np.concatenate(([0], bounds))
    ends = np.concatenate((bounds, [len(sorted_inst)]))
    out: list[ObjectObservation] = []
    skipped = 0
    lo_p = cfg.box_percentile
    for s, e in zip(starts, ends, strict=True):
        if s == e:
            continue
        idx = int(sorted_inst[s])
        label = labels.get(idx)
        if label is None:
            continue
        if e - s < cfg.min_points:
            skipped += 1
            continue
        sel = pixels[order[s:e]]
        # Robust statistics need a few thousand points, not every pixel of a large mask.
        if len(sel) > cfg.max_points:
            sel = sel[:: -(-len(sel) // cfg.max_points)]
        v, u = np.divmod(sel, width)
        z = flat_depth[sel].astype(np.float64)
        cam = np.stack([(u - k.cx) / k.fx * z, (v - k.cy) / k.fy * z, z], axis=1)
        pts = cam @ rot.T + trans
        # Order statistics from one column sort each (np.median/np.percentile cost more in
        # call overhead than in work on a few hundred points).
        n = len(pts)
        med = _median(np.sort(pts, axis=0))
        mad = _median(np.sort(np.abs(pts - med), axis=0)) + 1e-3
        keep = np.all(np.abs(pts - med) <= cfg.outlier_k * 1.4826 * mad, axis=1)
        pts = pts[keep]
        n = len(pts)
        if n < cfg.min_points:
            skipped += 1
            continue
        srt = np.sort(pts, axis=0)
        # Order statistics symmetric under negation and rounded to 1 nm: the same frame
        # perceived in another axis convention (ROS's) gives the same observation there.
        cut = int(n * lo_p / 100)
        lo, hi = srt[cut], srt[n - 1 - cut]
        center = (lo + hi) / 2
        position = _median(srt)
        out.append(
            ObjectObservation(
                label=label,
                position=_nm(position),
                box=Box3D(_nm(center), _nm(hi - lo)),
                confidence=min(1.0, (e - s) / _FULL_CONFIDENCE_POINTS),
                timestamp=timestamp,
                source_frame=frame_id,
                object_id=ids.get(idx) if ids else None,
            )
        )
    return FrameResult(tuple(out), skipped)


def _median(srt: NDArray[np.float64]) -> NDArray[np.float64]:
    """Per-column median of column-sorted rows (the mean of the middle two for even n)."""
    n = len(srt)
    return (srt[(n - 1) // 2] + srt[n // 2]) / 2  # type: ignore[no-any-return]


def _nm(v: NDArray[np.float64]) -> tuple[float, float, float]:
    return (round(float(v[0]), 9), round(float(v[1]), 9), round(float(v[2]), 9))
