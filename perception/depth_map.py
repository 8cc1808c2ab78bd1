"""A map from depth: posed depth frames fused into a TSDF (open3d's ``VoxelBlockGrid``),
the surface mesh it holds, and an occupancy grid projected from that surface for a body
that is served no SLAM map.

open3d is an optional dependency (the ``open3d`` extra: ``open3d-cpu``, which needs
Debian's ``libusb-1.0-0``); without it :class:`DepthMap` says so when made. In open3d
0.20 the older ``ScalableTSDFVolume`` returns an empty mesh; the ``VoxelBlockGrid`` API
works.

The occupancy grid is the body interface's (:class:`embodiment.grid.OccupancyGrid`, as
``nav_msgs/OccupancyGrid``: -1 unknown, 0 free, 100 occupied, the origin the corner of
cell (0, 0)), so a body with no SLAM map can be served it as it is. A cell is occupied where the
fused surface has points at obstacle height (``band_m`` above the floor), free where it
has floor and nothing at obstacle height, unknown where the surface says neither (the
TSDF keeps only the band around surfaces: open space far from any surface is not in it).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from embodiment.grid import OccupancyGrid
from perception.camera import PinholeIntrinsics, check_size, checked_pose
from perception.errors import FrameError

__all__ = ["DepthMap", "DepthMapConfig"]

_AXES = {"y": 1, "z": 2}


@dataclass(frozen=True, slots=True)
class DepthMapConfig:
    voxel_m: float = 0.01
    block_resolution: int = 8
    """Voxels per block side (open3d allocates blocks where surfaces are seen)."""
    block_count: int = 20_000
    """Blocks reserved at first; the hash map grows past it."""
    depth_max_m: float = 4.0
    trunc_voxels: float = 4.0
    """The TSDF's truncation band, in voxels either side of a surface."""
    up_axis: str = "y"
    cell_m: float = 0.05
    band_m: tuple[float, float] = (0.1, 1.6)
    """Heights above the floor at which a surface is an obstacle (a robot's body)."""
    floor_tolerance_m: float = 0.05
    weight_threshold: float = 0.5
    """A voxel is surface when its weight (frames that saw it) exceeds this. open3d keeps
    weights strictly above it: at 1.0 a single frame gives no surface at all."""

    def __post_init__(self) -> None:
        if self.up_axis not in _AXES:
            raise ValueError(f"up_axis must be y or z, got {self.up_axis!r}")
        if not (self.voxel_m > 0 and self.cell_m > 0 and self.depth_max_m > 0):
            raise ValueError("voxel_m, cell_m and depth_max_m must be positive")


def _open3d() -> Any:
    try:
        return importlib.import_module("open3d")
    except ImportError as exc:
        raise ImportError(
            "a map from depth needs open3d: pip install -e '.[open3d]' (open3d-cpu, which "
            f"needs Debian's libusb-1.0-0: apt-get install libusb-1.0-0) ({exc})"
        ) from exc


class DepthMap:
    """Fuse posed depth frames; read back the mesh and an occupancy grid."""

    def __init__(self, config: DepthMapConfig | None = None) -> None:
        self.config = config or DepthMapConfig()
        o3d = _open3d()
        self._o3d, self._core = o3d, o3d.core
        c = self.config
        self._grid = o3d.t.geometry.VoxelBlockGrid(
            attr_names=("tsdf", "weight"),
            attr_dtypes=(o3d.core.float32, o3d.core.float32),
            attr_channels=((1), (1)),
            voxel_size=c.voxel_m,
            block_resolution=c.block_resolution,
            block_count=c.block_count,
            device=o3d.core.Device("CPU:0"),
        )
        self.frames = 0

    def integrate(
        self,
        depth: NDArray[np.floating],
        k: PinholeIntrinsics,
        world_from_camera: NDArray[np.float64],
    ) -> None:
        """Fuse one depth frame (metres, NaN where unknown) seen from ``world_from_camera``
        (camera axes: x right, y down, z forward)."""
        check_size(depth, k)
        pose = checked_pose(world_from_camera)
        core, c = self._core, self.config
        metres = np.nan_to_num(np.asarray(depth, dtype=np.float32), nan=0.0, posinf=0.0)
        image = self._o3d.t.geometry.Image(core.Tensor(np.ascontiguousarray(metres)))
        intrinsic = core.Tensor(
            np.array([[k.fx, 0.0, k.cx], [0.0, k.fy, k.cy], [0.0, 0.0, 1.0]]), core.float64
        )
        extrinsic = core.Tensor(np.linalg.inv(pose), core.float64)
        blocks = self._grid.compute_unique_block_coordinates(
            image, intrinsic, extrinsic, 1.0, c.depth_max_m, c.trunc_voxels
        )
        self._grid.integrate(
            blocks, image, intrinsic, extrinsic, 1.0, c.depth_max_m, c.trunc_voxels
        )
        self.frames += 1

    def surface(self) -> NDArray[np.float64]:
        """The fused surface as points (N, 3), world frame."""
        if self.frames == 0:
            return np.empty((0, 3))
        try:
            cloud = self._grid.extract_point_cloud(weight_threshold=self.config.weight_threshold)
        except RuntimeError:  # open3d 0.20 fails on an empty extraction instead of returning it
            return np.empty((0, 3))
        return np.asarray(cloud.point.positions.numpy(), dtype=np.float64).reshape(-1, 3)

    def mesh(self) -> Any:
        """The fused surface as an open3d ``t.geometry.TriangleMesh``."""
        return self._grid.extract_triangle_mesh(weight_threshold=self.config.weight_threshold)

    def save_ply(self, path: Path) -> Path:
        """The mesh as a PLY file (for the run report; MeshLab, Foxglove, RViz read it),
        vertices and faces only: open3d writes every attribute in doubles, and the normals
        (which viewers compute) were a third of the file."""
        full = self.mesh()
        mesh = self._o3d.t.geometry.TriangleMesh()
        mesh.vertex.positions = full.vertex.positions
        mesh.triangle.indices = full.triangle.indices
        if not self._o3d.t.io.write_triangle_mesh(str(path), mesh):
            raise OSError(f"could not write the mesh to {path}")
        return path

    def floor(self) -> float:
        """The floor's height along the up axis: the lowest 1% of the surface (the floor
        is the lowest large surface a room has)."""
        pts = self._surface_or_error()
        return float(np.percentile(pts[:, _AXES[self.config.up_axis]], 1))

    def _surface_or_error(self) -> NDArray[np.float64]:
        pts = self.surface()
        if len(pts) == 0:
            raise FrameError("nothing fused yet: integrate depth frames first")
        return pts

    def occupancy(self, floor: float | None = None) -> OccupancyGrid:
        """The occupancy grid over the fused surface's extent. ``floor``: the floor's
        height along the up axis (default: :meth:`floor`)."""
        c = self.config
        pts = self._surface_or_error()
        up = _AXES[c.up_axis]
        a_axis, b_axis = (i for i in range(3) if i != up)
        height = pts[:, up]
        floor_h = self.floor() if floor is None else float(floor)
        above = height - floor_h
        a, b = pts[:, a_axis], pts[:, b_axis]
        origin = (
            float(np.floor(a.min() / c.cell_m) * c.cell_m),
            float(np.floor(b.min() / c.cell_m) * c.cell_m),
        )
        col = np.floor((a - origin[0]) / c.cell_m).astype(np.int64)
        row = np.floor((b - origin[1]) / c.cell_m).astype(np.int64)
        data = np.full((int(row.max()) + 1, int(col.max()) + 1), -1, np.int8)
        on_floor = np.abs(above) <= c.floor_tolerance_m
        data[row[on_floor], col[on_floor]] = 0
        obstacle = (above >= c.band_m[0]) & (above <= c.band_m[1])
        data[row[obstacle], col[obstacle]] = 100
        return OccupancyGrid(c.cell_m, origin, data, c.up_axis)
