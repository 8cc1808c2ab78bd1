"""An occupancy grid in the sense of ROS ``nav_msgs/OccupancyGrid``.

Cells are square, ``resolution_m`` on a side, on the floor plane of the body's world
(``horizontal`` of a position for its up axis); ``origin`` is the floor-plane corner of
cell (row 0, column 0); rows run along the second floor axis, columns along the first.
Values: ``FREE`` (0), ``OCCUPIED`` (100), ``UNKNOWN`` (-1), as in ROS.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml
from numpy.typing import NDArray
from PIL import Image
from scipy import ndimage

from memory_core import InvalidInputError

__all__ = ["FREE", "OCCUPIED", "UNKNOWN", "OccupancyGrid"]

FREE, OCCUPIED, UNKNOWN = 0, 100, -1


@dataclass(frozen=True, slots=True, eq=False)
class OccupancyGrid:
    resolution_m: float
    origin: tuple[float, float]
    data: NDArray[np.int8]
    """rows by columns of FREE / OCCUPIED / UNKNOWN."""
    up_axis: str = "z"

    def __post_init__(self) -> None:
        if not 0 < self.resolution_m < math.inf:
            raise InvalidInputError(f"grid resolution must be > 0, got {self.resolution_m}")
        if self.data.ndim != 2 or self.data.size == 0:
            raise InvalidInputError("grid data must be a non-empty 2-D array")
        if self.up_axis not in ("y", "z"):
            raise InvalidInputError(f"up_axis must be 'y' or 'z', got {self.up_axis!r}")

    @classmethod
    def from_free_cells(
        cls, centres: list[tuple[float, float]], resolution_m: float, up_axis: str
    ) -> OccupancyGrid:
        """A map whose free cells are centred on ``centres`` (floor-plane points on the
        grid's lattice), every other cell occupied: a body that knows its whole map."""
        if not centres:
            raise InvalidInputError("a map needs at least one free cell")
        idx = np.array([[round(u / resolution_m), round(v / resolution_m)] for u, v in centres])
        lo = idx.min(axis=0)
        shape = idx.max(axis=0) - lo + 1
        data = np.full((int(shape[1]), int(shape[0])), OCCUPIED, dtype=np.int8)
        data[idx[:, 1] - lo[1], idx[:, 0] - lo[0]] = FREE
        origin = ((lo[0] - 0.5) * resolution_m, (lo[1] - 0.5) * resolution_m)
        return cls(resolution_m, (float(origin[0]), float(origin[1])), data, up_axis)

    @property
    def shape(self) -> tuple[int, int]:
        return (int(self.data.shape[0]), int(self.data.shape[1]))

    def ros_layout(self) -> tuple[NDArray[np.int8], tuple[float, float]]:
        """The cells and origin as ``nav_msgs/OccupancyGrid`` lays them out in ROS's map
        frame (REP-103, z up): a y-up grid's floor axes (x, z) are ROS's (-y, x), so its
        cells are transposed and its rows reversed (exactly; see
        ``memory_core.convention``)."""
        if self.up_axis == "y":
            data = self.data.T[::-1, :]
            origin = (self.origin[1], -(self.origin[0] + data.shape[0] * self.resolution_m))
            return np.ascontiguousarray(data), origin
        return self.data, self.origin

    def save_map_server(self, stem: Path) -> Path:
        """Write ``stem``.pgm and ``stem``.yaml as nav2's map_server reads them, in ROS's
        map frame (free 254, occupied 0, unknown 205; the image's bottom row at the
        origin); returns the YAML's path."""
        data, origin = self.ros_layout()
        pixels = np.full(data.shape, 205, np.uint8)
        pixels[data == FREE] = 254
        pixels[data == OCCUPIED] = 0
        image = stem.with_suffix(".pgm")
        Image.fromarray(np.flipud(pixels)).save(image)
        meta = {
            "image": image.name,
            "mode": "trinary",
            "resolution": self.resolution_m,
            "origin": [origin[0], origin[1], 0.0],
            "negate": 0,
            "occupied_thresh": 0.65,
            "free_thresh": 0.25,
        }
        path = stem.with_suffix(".yaml")
        path.write_text(yaml.safe_dump(meta, sort_keys=False), encoding="utf-8")
        return path

    def cell_of(self, u: float, v: float) -> tuple[int, int] | None:
        """(row, column) of the cell holding floor point (u, v); None outside the grid."""
        col = math.floor((u - self.origin[0]) / self.resolution_m)
        row = math.floor((v - self.origin[1]) / self.resolution_m)
        rows, cols = self.shape
        return (row, col) if 0 <= row < rows and 0 <= col < cols else None

    def centre(self, row: int, col: int) -> tuple[float, float]:
        r = self.resolution_m
        return (self.origin[0] + (col + 0.5) * r, self.origin[1] + (row + 0.5) * r)

    def reachable_from(self, u: float, v: float) -> list[tuple[float, float]]:
        """Centres of the free cells 4-connected to the free cell nearest (u, v)."""
        free = self.data == FREE
        if not free.any():
            return []
        labels, _n = ndimage.label(free)  # 4-connectivity by default
        start = self.cell_of(u, v)
        if start is None or not free[start]:
            rows, cols = np.nonzero(free)
            centres = np.stack(
                [self.origin[0] + (cols + 0.5) * self.resolution_m,
                 self.origin[1] + (rows + 0.5) * self.resolution_m], axis=1
            )  # fmt: skip
            k = int(np.argmin(np.hypot(centres[:, 0] - u, centres[:, 1] - v)))
            start = (int(rows[k]), int(cols[k]))
        rows, cols = np.nonzero(labels == labels[start])
        return [self.centre(int(r), int(c)) for r, c in zip(rows, cols, strict=True)]
