"""Objects without masks: a class-agnostic geometric segmenter for depth frames.

Where a frame has no instance masks, what stands on a support surface is found by
geometry alone, as tabletop segmenters do (support planes removed, the rest clustered):

1. the depth image is read on a grid of every ``stride``-th pixel (an organised cloud:
   neighbours in the image are neighbours in space unless depth jumps);
2. normals from each cell's neighbours ``normal_step`` cells away;
3. support planes: heights (along the world's up axis) where many horizontal cells lie,
   peaks of a height histogram: floor, tables, shelves;
4. walls and other large vertical planes: peaks of a histogram over (normal direction,
   offset) of the vertical cells;
5. what is left is linked to its image neighbours nearer in space than a few grid
   spacings (depth jumps cut the link) and split into connected components;
6. a component is an object when it rests on a support plane (its lowest points at the
   plane's height) and is no larger than ``max_size_m``; the rest (pictures on walls,
   furniture larger than a thing to fetch, fragments) is counted and dropped.

Each object becomes an observation labelled ``unknown`` (:data:`UNKNOWN`) through the same
statistics as a masked instance (:func:`perception.instances.observations_from_frame`),
with its box (size) and, when a colour image is given, its colour in ``state``
(``colour``: a basic colour term, ``rgb``: the median colour as ``#rrggbb``). Memory gives
it a label when a labelled observation of the same thing comes (see
:mod:`memory_core.update`).

Everything is numpy and scipy on the grid (640x480 with stride 4: 19,200 cells), no
point-cloud library call per frame: open3d's RANSAC plane fit and DBSCAN measured
90 ms and 30 ms on a 2 cm downsampled frame here, the whole of this well under that.
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from memory_core import UNKNOWN_LABEL, ObjectObservation
from memory_core.types import COORDINATE_LIMIT_M
from perception.camera import PinholeIntrinsics, check_size, checked_pose
from perception.errors import FrameError, SizeMismatchError
from perception.instances import PerceptionConfig, observations_from_frame

__all__ = [
    "UNKNOWN",
    "Segmentation",
    "SegmenterConfig",
    "colour_name",
    "filtered_cloud",
    "segment_frame",
    "unknown_observations",
]

UNKNOWN = UNKNOWN_LABEL

_AXES = {"x": 0, "y": 1, "z": 2}


@dataclass(frozen=True, slots=True)
class SegmenterConfig:
    up_axis: str = "z"
    """The world's up axis (ROS's map frame: z; AI2-THOR's and Redwood's: y)."""
    stride: int = 4
    """Every stride-th pixel of each row and column is read."""
    normal_step: int = 2
    """Normals from the cells this many cells away either side (a wider base than
    adjacent cells averages out depth noise)."""
    horizontal_cos: float = 0.9
    """A cell is horizontal when its normal is within ~25 degrees of up."""
    vertical_cos: float = 0.3
    """A cell is vertical when its normal is within ~17 degrees of horizontal."""
    plane_tolerance_m: float = 0.025
    """Distance from a plane within which a cell belongs to it."""
    min_support_fraction: float = 0.01
    """A support plane holds at least this fraction of the frame's valid cells (1%: the
    top of a cabinet seen at a slant)."""
    max_depth_m: float = 4.0
    """Farther cells are not clustered: a structured-light sensor's depth error there is
    several centimetres, more than the gaps between things."""
    min_wall_fraction: float = 0.02
    """A wall holds at least this fraction of the frame's valid cells."""
    max_walls: int = 6
    link_spacings: float = 3.0
    """Neighbouring cells are linked when nearer than this many grid spacings at their
    depth (plus ``link_m``): a step in depth cuts the link."""
    link_m: float = 0.01
    min_cells: int = 12
    """Fewest cells of an object (12 cells at stride 4: about 200 pixels)."""
    rest_m: tuple[float, float] = (-0.03, 0.06)
    """An object rests on a plane when its lowest points are this far above it and it
    touches (in the image, within ``touch_cells``) that plane's cells."""
    touch_cells: int = 3
    stack_gap_m: float = 0.3
    """A part that does not rest but stands at most this far above an object's top, over
    its footprint (within ``stack_margin_m``), is part of that object."""
    stack_margin_m: float = 0.05
    min_stack_cells: int = 4
    max_size_m: float = 2.0
    """Larger components are furniture or structure, not things to fetch."""
    min_size_m: float = 0.03
    confidence: float = 0.5
    """An unlabelled segment is weaker evidence than a detector's labelled mask: its
    observation's confidence is scaled by this."""

    def __post_init__(self) -> None:
        if self.up_axis not in _AXES:
            raise ValueError(f"up_axis must be x, y or z, got {self.up_axis!r}")
        if self.stride < 1 or self.normal_step < 1 or self.min_cells < 1:
            raise ValueError("stride, normal_step and min_cells must be at least 1")
        if not 0.0 < self.confidence <= 1.0:
            raise ValueError(f"confidence must be in (0, 1], got {self.confidence}")


@dataclass(frozen=True, slots=True)
class Segmentation:
    """One frame's segments on the grid (``labels``: 0 none, i > 0 object i)."""

    labels: NDArray[np.int32]
    """Per grid cell: the object it belongs to (1..n), 0 for none."""
    supports: tuple[float, ...]
    """Heights of the support planes found, lowest first."""
    walls: int
    components: int
    """Connected components before the object tests."""
    dropped: tuple[tuple[str, int], ...]
    """(reason, components) left out: ``small``, ``not resting``, ``too large``."""
    stride: int
    offset: int
    """The grid reads pixels ``offset + stride * i`` of rows and columns."""
    cloud: NDArray[np.float32]
    """(rows, cols, 3) world points of the grid, NaN where depth is invalid."""
    depth: NDArray[np.float32]
    """(rows, cols) the grid's depth, metres."""
    support_cells: NDArray[np.bool_]
    wall_cells: NDArray[np.bool_]

    @property
    def objects(self) -> int:
        return int(self.labels.max(initial=0))

    def filtered_cloud(self, max_depth_m: float) -> NDArray[np.float32]:
        """The grid's valid points (N, 3), world frame, no farther than ``max_depth_m``
        from the camera: what :func:`filtered_cloud` gives for the same frame."""
        return _valid_points(self.cloud, self.depth, max_depth_m)


def _grid_intrinsics(
    k: PinholeIntrinsics, stride: int, offset: int, shape: tuple[int, ...]
) -> PinholeIntrinsics:
    return PinholeIntrinsics(
        shape[1],
        shape[0],
        k.fx / stride,
        k.fy / stride,
        (k.cx - offset) / stride,
        (k.cy - offset) / stride,
    )


def segment_frame(
    depth: NDArray[np.floating],
    k: PinholeIntrinsics,
    world_from_camera: NDArray[np.float64],
    config: SegmenterConfig | None = None,
) -> Segmentation:
    """Segment one depth frame (metres, NaN where unknown; camera axes x right, y down,
    z forward) seen from ``world_from_camera``."""
    cfg = config or SegmenterConfig()
    pose = _rigid(world_from_camera)
    s = cfg.stride
    off = s // 2
    pts, z, gk = _grid(depth, k, pose, s)
    rows, cols = z.shape
    # Beyond a sensor's range (or behind it) depth is noise; kept out, the histograms'
    # bins stay bounded by the room around the camera.
    valid = np.isfinite(z) & (z > 0) & (z <= _RANGE_M) & np.isfinite(pts).all(axis=-1)
    z = np.where(valid, z, np.nan)
    pts = np.where(valid[..., None], pts, np.nan)
    n_valid = int(valid.sum())
    up = _AXES[cfg.up_axis]
    empty = np.zeros((rows, cols), bool)
    if n_valid < cfg.min_cells:
        return Segmentation(
            np.zeros((rows, cols), np.int32),
            (),
            0,
            0,
            (),
            s,
            off,
            pts.astype(np.float32),
            z.astype(np.float32),
            empty,
            empty,
        )

    normal = _normals(pts, cfg.normal_step)
    has_normal = np.isfinite(normal[..., 0]) & valid
    upness = np.abs(np.where(has_normal, normal[..., up], 0.0))
    height = pts[..., up]
    horizontal = has_normal & (upness >= cfg.horizontal_cos)
    supports = _support_heights(height[horizontal], n_valid, cfg)
    plane_cells = []
    for h in supports:
        near = np.abs(height - h) <= cfg.plane_tolerance_m
        # Edges of a table (normals smeared by the step) still belong to it.
        plane_cells.append(near & (~has_normal | (upness >= 0.7)))
    support_cells = (
        np.logical_or.reduce(plane_cells) if plane_cells else np.zeros((rows, cols), bool)
    )
    wall_cells, walls = _walls(
        pts, normal, has_normal & (upness <= cfg.vertical_cos), pose, n_valid, cfg
    )
    candidate = valid & ~support_cells & ~wall_cells & (z <= cfg.max_depth_m)
    if supports:
        candidate &= height > min(supports) + cfg.plane_tolerance_m
    comp, n_comp = _components(pts, z, candidate, gk, cfg)
    touching = [_grow(c, cfg.touch_cells) for c in plane_cells]
    labels, dropped = _objects(comp, n_comp, pts, touching, supports, cfg)
    return Segmentation(
        labels,
        tuple(supports),
        walls,
        n_comp,
        dropped,
        s,
        off,
        pts.astype(np.float32),
        z.astype(np.float32),
        support_cells,
        wall_cells,
    )


_RANGE_M = 20.0
"""Farthest depth the segmenter reads at all (any RGB-D sensor's range)."""


def _rigid(world_from_camera: NDArray[np.float64]) -> NDArray[np.float64]:
    """The camera pose, or :class:`FrameError` when it is not a rigid transform within
    the coordinates memory accepts (a scaled or sheared matrix, a translation of 1e300)."""
    pose = checked_pose(world_from_camera)
    rot = pose[:3, :3]
    if not np.allclose(rot.T @ rot, np.eye(3), atol=1e-3) or np.linalg.det(rot) < 0:
        raise FrameError("camera pose is not a rigid transform (its rotation is not one)")
    if np.abs(pose[:3, 3]).max() > COORDINATE_LIMIT_M or np.any(pose[3] != (0, 0, 0, 1)):
        raise FrameError("camera pose is out of range or not a homogeneous transform")
    return pose


def _grid(
    depth: NDArray[np.floating], k: PinholeIntrinsics, pose: NDArray[np.float64], stride: int
) -> tuple[NDArray[np.float64], NDArray[np.float64], PinholeIntrinsics]:
    """Every ``stride``-th pixel of rows and columns (from ``stride // 2``) back-projected
    into the world: (rows, cols, 3) points, NaN where depth is invalid; their depth; the
    grid's camera."""
    check_size(depth, k)
    off = stride // 2
    z = np.asarray(depth[off::stride, off::stride], dtype=np.float64)
    gk = _grid_intrinsics(k, stride, off, z.shape)
    u = (np.arange(z.shape[1]) - gk.cx) / gk.fx
    v = (np.arange(z.shape[0]) - gk.cy) / gk.fy
    cam = np.stack(np.broadcast_arrays(u[None, :] * z, v[:, None] * z, z), axis=-1)
    return cam @ pose[:3, :3].T + pose[:3, 3], z, gk


def _valid_points(
    cloud: NDArray[np.floating], z: NDArray[np.floating], max_depth_m: float
) -> NDArray[np.float32]:
    keep = np.isfinite(z) & (z <= max_depth_m)
    return np.ascontiguousarray(cloud[keep], dtype=np.float32)


def filtered_cloud(
    depth: NDArray[np.floating],
    k: PinholeIntrinsics,
    world_from_camera: NDArray[np.float64],
    config: SegmenterConfig | None = None,
) -> NDArray[np.float32]:
    """The frame as the segmenter reads it: every ``stride``-th pixel's point (N, 3) in
    the world, invalid and farther than ``max_depth_m`` left out (a sensor's depth there
    is too noisy to use). The perception node publishes it (sensor_msgs/PointCloud2)."""
    cfg = config or SegmenterConfig()
    pts, z, _gk = _grid(depth, k, checked_pose(world_from_camera), cfg.stride)
    return _valid_points(pts, z, cfg.max_depth_m)


def _normals(pts: NDArray[np.float64], step: int) -> NDArray[np.float64]:
    """Unit normals per cell from the differences ``step`` cells away either side (NaN at
    the border, where a neighbour is invalid, and across depth jumps: a normal there
    would be a made-up surface between two)."""
    out = np.full(pts.shape, np.nan)
    dx = pts[step:-step, 2 * step :] - pts[step:-step, : -2 * step]
    dy = pts[2 * step :, step:-step] - pts[: -2 * step, step:-step]
    n = np.cross(dx, dy)
    norm = np.linalg.norm(n, axis=-1)
    # Neighbours much farther apart than the grid's spacing straddle a depth jump.
    span = np.maximum(np.linalg.norm(dx, axis=-1), np.linalg.norm(dy, axis=-1))
    base = np.minimum(np.linalg.norm(dx, axis=-1), np.linalg.norm(dy, axis=-1))
    ok = np.isfinite(norm) & (norm > 0) & (span < 4.0 * np.maximum(base, 1e-6))
    with np.errstate(invalid="ignore", divide="ignore"):
        n = n / norm[..., None]
    n[~ok] = np.nan
    out[step:-step, step:-step] = n
    return out


def _grow(mask: NDArray[np.bool_], r: int) -> NDArray[np.bool_]:
    """``mask`` dilated by a (2r+1)-square: two 1-D passes of shifted ORs."""
    out = mask.copy()
    for axis in (0, 1):
        src = out.copy()
        n = src.shape[axis]
        for d in range(1, min(r, n - 1) + 1):
            ahead = [slice(None)] * 2
            behind = [slice(None)] * 2
            ahead[axis], behind[axis] = slice(d, None), slice(None, n - d)
            out[tuple(behind)] |= src[tuple(ahead)]
            out[tuple(ahead)] |= src[tuple(behind)]
    return out


def _peaks(counts: NDArray[np.float64], minimum: float, separation: int) -> list[int]:
    """Bins that are the largest within ``separation`` bins and hold at least ``minimum``."""
    found: list[int] = []
    work = counts.copy()
    while work.size:
        i = int(np.argmax(work))
        if work[i] < minimum:
            break
        found.append(i)
        work[max(0, i - separation) : i + separation + 1] = 0
    return found


def _support_heights(
    heights: NDArray[np.float64], n_valid: int, cfg: SegmenterConfig
) -> list[float]:
    if heights.size == 0:
        return []
    bin_m = cfg.plane_tolerance_m / 2
    lo = float(heights.min())
    idx = np.floor((heights - lo) / bin_m).astype(np.int64)
    counts = np.bincount(idx).astype(np.float64)
    # A plane's cells spread over neighbouring bins (noise, a slight tilt): summed over 3.
    smooth = np.convolve(counts, np.ones(3), mode="same")
    peaks = _peaks(smooth, cfg.min_support_fraction * n_valid, separation=4)
    out = []
    for p in peaks:
        sel = np.abs(idx - p) <= 1
        out.append(float(np.median(heights[sel])))
    return sorted(out)


def _walls(
    pts: NDArray[np.float64],
    normal: NDArray[np.float64],
    vertical: NDArray[np.bool_],
    pose: NDArray[np.float64],
    n_valid: int,
    cfg: SegmenterConfig,
) -> tuple[NDArray[np.bool_], int]:
    """Cells on large vertical planes: a Hough-style vote of the vertical cells over
    (normal direction, offset), peaks taken greedily."""
    up = _AXES[cfg.up_axis]
    a_ax, b_ax = (i for i in range(3) if i != up)
    cells = np.zeros(vertical.shape, bool)
    if not vertical.any():
        return cells, 0
    n2 = normal[..., [a_ax, b_ax]][vertical]
    p2 = pts[..., [a_ax, b_ax]][vertical]
    # One orientation per plane: normals turned to face the camera.
    cam2 = pose[[a_ax, b_ax], 3]
    flip = np.einsum("ij,ij->i", n2, cam2 - p2) < 0
    n2[flip] *= -1
    n2 /= np.linalg.norm(n2, axis=1, keepdims=True)
    theta = np.arctan2(n2[:, 1], n2[:, 0])
    offset = np.einsum("ij,ij->i", n2, p2)
    t_bins, d_bin = 72, cfg.plane_tolerance_m
    ti = np.floor((theta + np.pi) / (2 * np.pi) * t_bins).astype(np.int64) % t_bins
    d_lo = float(offset.min())
    di = np.floor((offset - d_lo) / d_bin).astype(np.int64)
    n_d = int(di.max()) + 1
    votes = (
        np.bincount(ti * n_d + di, minlength=t_bins * n_d).reshape(t_bins, n_d).astype(np.float64)
    )
    # Smoothed over neighbouring directions and offsets (with the angle wrapping round).
    padded = np.concatenate([votes[-1:], votes, votes[:1]], axis=0)
    by_angle = padded[:-2] + padded[1:-1] + padded[2:]
    smooth = by_angle.copy()
    smooth[:, 1:] += by_angle[:, :-1]
    smooth[:, :-1] += by_angle[:, 1:]
    flat_pts = pts[..., [a_ax, b_ax]]
    found = 0
    minimum = cfg.min_wall_fraction * n_valid
    for _ in range(cfg.max_walls):
        i = int(np.argmax(smooth))
        t, d = divmod(i, n_d)
        if smooth[t, d] < minimum:
            break
        turn = np.abs(ti - t)
        sel = (np.minimum(turn, t_bins - turn) <= 1) & (np.abs(di - d) <= 1)
        nrm = np.median(n2[sel], axis=0)
        nrm /= np.linalg.norm(nrm)
        off = float(np.median(offset[sel]))
        dist = np.abs(flat_pts @ nrm - off)
        facing = np.abs(np.nan_to_num(normal[..., [a_ax, b_ax]]) @ nrm) >= 0.7
        on_plane = (dist <= cfg.plane_tolerance_m) & (facing | ~np.isfinite(normal[..., 0]))
        cells |= on_plane
        found += 1
        smooth[max(0, t - 2) : t + 3, max(0, d - 2) : d + 3] = 0
        if t < 2 or t >= t_bins - 2:  # the wrap-around neighbours too
            smooth[(t + np.arange(-2, 3)) % t_bins, max(0, d - 2) : d + 3] = 0
    return cells, found


def _components(
    pts: NDArray[np.float64],
    z: NDArray[np.float64],
    candidate: NDArray[np.bool_],
    gk: PinholeIntrinsics,
    cfg: SegmenterConfig,
) -> tuple[NDArray[np.int64], int]:
    """Connected components of candidate cells, linking 8-neighbours nearer in space than
    ``link_spacings`` grid spacings at their depth; -1 outside any."""
    rows, cols = candidate.shape
    index = np.arange(rows * cols).reshape(rows, cols)
    spacing = np.abs(z) / min(abs(gk.fx), abs(gk.fy))
    src: list[NDArray[np.int64]] = []
    dst: list[NDArray[np.int64]] = []
    for dr, dc in ((0, 1), (1, 0), (1, 1), (1, -1)):
        a = (slice(0, rows - dr), slice(max(0, -dc), cols - max(0, dc)))
        b = (slice(dr, rows), slice(max(0, dc), cols - max(0, -dc) if dc < 0 else cols))
        if dc < 0:
            b = (slice(dr, rows), slice(0, cols + dc))
        both = candidate[a] & candidate[b]
        gap = np.linalg.norm(pts[a] - pts[b], axis=-1)
        reach = (
            cfg.link_spacings * np.hypot(dr, dc) * np.maximum(spacing[a], spacing[b]) + cfg.link_m
        )
        link = both & (gap <= reach)
        src.append(index[a][link])
        dst.append(index[b][link])
    s_all, d_all = np.concatenate(src), np.concatenate(dst)
    n = rows * cols
    graph = coo_matrix((np.ones(len(s_all), np.int8), (s_all, d_all)), shape=(n, n))
    _n, comp = connected_components(graph, directed=False)
    comp = comp.astype(np.int64)
    comp[~candidate.ravel()] = -1
    # Renumber the components that hold candidates 0..m-1.
    used, comp_inside = np.unique(comp[comp >= 0], return_inverse=True)
    out = np.full(n, -1, np.int64)
    out[comp >= 0] = comp_inside
    return out.reshape(rows, cols), len(used)


@dataclass(slots=True)
class _Part:
    cells: NDArray[np.int64]
    lo: NDArray[np.float64]
    hi: NDArray[np.float64]
    resting: bool


def _objects(
    comp: NDArray[np.int64],
    n_comp: int,
    pts: NDArray[np.float64],
    touching: list[NDArray[np.bool_]],
    supports: list[float],
    cfg: SegmenterConfig,
) -> tuple[NDArray[np.int32], tuple[tuple[str, int], ...]]:
    """The components that are objects, numbered 1..n on the grid, and what was dropped.

    A component resting on a support plane is an object; one that does not rest but
    stands on an object (its footprint over the object's, its bottom at most
    ``stack_gap_m`` above the object's top) is part of it: the seat of a chair whose
    chrome legs return no depth, a lampshade over its pole."""
    up = _AXES[cfg.up_axis]
    horiz = [i for i in range(3) if i != up]
    labels = np.zeros(comp.shape, np.int32)
    dropped: dict[str, int] = {}
    if n_comp == 0:
        return labels, ()
    flat = comp.ravel()
    inside = np.flatnonzero(flat >= 0)
    order = np.argsort(flat[inside], kind="stable")
    cells = inside[order]
    group = flat[cells]
    bounds = np.searchsorted(group, np.arange(n_comp + 1))
    n = np.diff(bounds)
    # Every component's 2nd and 98th percentile per axis from one sort per axis: values
    # sorted within their component (lexsort), then picked at each one's ranks.
    cell_pts = pts.reshape(-1, 3)[cells]
    lo_rank = bounds[:-1] + np.floor(0.02 * (n - 1)).astype(np.int64)
    hi_rank = bounds[:-1] + np.ceil(0.98 * (n - 1)).astype(np.int64)
    lo, hi = np.empty((n_comp, 3)), np.empty((n_comp, 3))
    for axis in range(3):
        srt = cell_pts[np.lexsort((cell_pts[:, axis], group)), axis]
        lo[:, axis], hi[:, axis] = srt[lo_rank], srt[hi_rank]
    rests = np.zeros(n_comp, bool)
    for h, t in zip(supports, touching, strict=True):
        touches = np.bincount(group, weights=t.ravel()[cells], minlength=n_comp) > 0
        gap = lo[:, up] - h
        rests |= touches & (gap >= cfg.rest_m[0]) & (gap <= cfg.rest_m[1])
    parts: list[_Part] = []
    for c in range(n_comp):
        if n[c] < cfg.min_stack_cells:
            dropped["small"] = dropped.get("small", 0) + 1
            continue
        parts.append(_Part(cells[bounds[c] : bounds[c + 1]], lo[c], hi[c], bool(rests[c])))
    bases = [p for p in parts if p.resting]
    for p in parts:
        if p.resting:
            continue
        best = None
        for b in bases:
            over = all(
                p.lo[i] <= b.hi[i] + cfg.stack_margin_m and b.lo[i] <= p.hi[i] + cfg.stack_margin_m
                for i in horiz
            )
            stands = over and b.lo[up] <= p.lo[up] <= b.hi[up] + cfg.stack_gap_m
            if stands and (best is None or b.hi[up] > best.hi[up]):
                best = b
        if best is None:
            key = "small" if len(p.cells) < cfg.min_cells else "not resting"
            dropped[key] = dropped.get(key, 0) + 1
            continue
        best.cells = np.concatenate([best.cells, p.cells])
        best.lo, best.hi = np.minimum(best.lo, p.lo), np.maximum(best.hi, p.hi)
    flat_labels = labels.ravel()
    n_obj = 0
    for b in bases:
        size = float((b.hi - b.lo).max())
        reason = (
            "small"
            if len(b.cells) < cfg.min_cells or size < cfg.min_size_m
            else "too large"
            if size > cfg.max_size_m
            else None
        )
        if reason is not None:
            dropped[reason] = dropped.get(reason, 0) + 1
            continue
        n_obj += 1
        flat_labels[b.cells] = n_obj
    return labels, tuple(sorted(dropped.items()))


def colour_name(rgb: tuple[float, float, float]) -> str:
    """A basic colour term for an sRGB colour (components 0..1): the achromatic ones by
    lightness, the rest by hue (brown: a dark orange or yellow)."""
    h, lightness, sat = colorsys.rgb_to_hls(*rgb)
    if sat < 0.2 or max(rgb) - min(rgb) < 0.08:
        if lightness < 0.2:
            return "black"
        return "white" if lightness > 0.8 else "grey"
    deg = h * 360
    if lightness < 0.12:
        return "black"
    if deg < 15 or deg >= 330:
        return "pink" if lightness > 0.7 else "red"
    if deg < 45:
        return "brown" if lightness < 0.4 else "orange"
    if deg < 70:
        return "brown" if lightness < 0.3 else "yellow"
    if deg < 170:
        return "green"
    if deg < 260:
        return "blue"
    if deg < 290:
        return "purple"
    return "pink"


def unknown_observations(
    depth: NDArray[np.floating],
    k: PinholeIntrinsics,
    world_from_camera: NDArray[np.float64],
    segmentation: Segmentation,
    colour: NDArray[np.uint8] | None = None,
    timestamp: float = 0.0,
    frame_id: str = "camera",
    config: SegmenterConfig | None = None,
) -> tuple[ObjectObservation, ...]:
    """The segmentation's objects as ``unknown`` observations: robust position and box
    as for a masked instance, colour descriptors from ``colour`` (H x W x 3, RGB)."""
    cfg = config or SegmenterConfig()
    seg = segmentation
    if seg.objects == 0:
        return ()
    s, off = seg.stride, seg.offset
    if depth[off::s, off::s].shape != seg.labels.shape:
        raise SizeMismatchError("the segmentation is of another frame's size")
    grid_depth = seg.depth  # the grid the segments were found on, read once
    gk = _grid_intrinsics(k, s, off, grid_depth.shape)
    names = {i: UNKNOWN for i in range(1, seg.objects + 1)}
    # Segment numbers ride along as id hints, to find each observation's segment.
    hints = {i: str(i) for i in names}
    result = observations_from_frame(
        grid_depth,
        seg.labels,
        names,
        gk,
        world_from_camera,
        timestamp,
        hints,
        # No outlier cut: a segment's cells are linked in space, it has no mask bleeding
        # onto the background (and a flat face's tiny spread would cut its sides).
        PerceptionConfig(min_points=cfg.min_cells, outlier_k=1e6),
        frame_id,
    )
    grid_rgb = None
    if colour is not None:
        if colour.ndim != 3 or colour.shape[:2] != depth.shape or colour.shape[2] < 3:
            raise SizeMismatchError(f"colour image is {colour.shape}, depth is {depth.shape}")
        grid_rgb = np.asarray(colour[off::s, off::s, :3], dtype=np.float64).reshape(-1, 3) / 255
    flat = seg.labels.ravel()
    out = []
    for obs in result.observations:
        state: dict[str, str] = {}
        if grid_rgb is not None:
            r, g, b = (
                float(c) for c in np.median(grid_rgb[flat == int(obs.object_id or 0)], axis=0)
            )
            state = {
                "colour": colour_name((r, g, b)),
                "rgb": "#{:02x}{:02x}{:02x}".format(*(round(c * 255) for c in (r, g, b))),
            }
        out.append(
            replace(obs, state=state, confidence=obs.confidence * cfg.confidence, object_id=None)
        )
    return tuple(out)
