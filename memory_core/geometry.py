"""Geometry helpers: horizontal projection, room polygons and view volumes."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry import Polygon

from memory_core.errors import InvalidInputError
from memory_core.types import COORDINATE_LIMIT_M, Vec3, check_bounded, check_finite

__all__ = ["RoomFootprint", "ViewVolume", "horizontal", "room_polygons", "vertical"]


def horizontal(p: Sequence[float], up_axis: str) -> tuple[float, float]:
    """The floor-plane coordinates of ``p``."""
    return (p[0], p[2]) if up_axis == "y" else (p[0], p[1])


def vertical(p: Sequence[float], up_axis: str) -> float:
    return p[1] if up_axis == "y" else p[2]


def _ring_area(vertices: list[tuple[float, float]]) -> float:
    """The area shapely gives the polygon (the shoelace formula, as GEOS computes it)."""
    total = 0.0
    for (x0, y0), (x1, y1) in zip(vertices, vertices[1:] + vertices[:1], strict=True):
        total += x0 * y1 - x1 * y0
    return abs(total) / 2.0


def room_polygons(footprints: Sequence[RoomFootprint]) -> list[Polygon]:
    """Every footprint's polygon, the missing ones made in one vectorised shapely call
    (5k rooms one by one took 0.3 s, the first time a loaded memory located a room)."""
    missing = [f for f in footprints if f._polygon is None]
    if missing:
        coords = np.concatenate([f.xy for f in missing])
        owner = np.repeat(np.arange(len(missing)), [len(f.xy) for f in missing])
        polygons = shapely.polygons(shapely.linearrings(coords, indices=owner))
        shapely.prepare(polygons)
        for f, p in zip(missing, polygons, strict=True):
            f._polygon = p
    return [f.polygon for f in footprints]


class RoomFootprint:
    """A room's floor polygon, prepared for fast point-in-room tests."""

    __slots__ = ("_polygon", "room_id", "xy")

    def __init__(self, room_id: str, polygon: Sequence[tuple[float, float]]) -> None:
        if len(polygon) < 3:
            raise InvalidInputError(f"room {room_id!r} polygon needs >= 3 vertices")
        check_bounded(
            f"room {room_id!r} polygon", (c for v in polygon for c in v), COORDINATE_LIMIT_M
        )
        vertices = [(float(x), float(y)) for x, y in polygon]
        if _ring_area(vertices) <= 0.0:
            raise InvalidInputError(f"room {room_id!r} polygon has zero area")
        self.room_id = room_id
        self.xy: NDArray[np.float64] = np.asarray(vertices, dtype=np.float64)
        """(n, 2) vertices."""
        # Built on first use: a loaded memory of 5k rooms spent 0.2 s making polygons
        # that most runs never test a point against.
        self._polygon: Polygon | None = None

    @classmethod
    def many(cls, rooms: Sequence[tuple[str, Sequence[Sequence[float]]]]) -> list[RoomFootprint]:
        """Footprints of many rooms (a loaded memory's), checked in numpy: 5k rooms one
        by one were a tenth of a load. A room numpy cannot vouch for is made by the
        constructor, which accepts or refuses it exactly as it would alone."""
        counts = [len(poly) for _room, poly in rooms]
        try:
            xy = np.asarray(list(chain.from_iterable(p for _r, p in rooms)), dtype=np.float64)
        except (TypeError, ValueError):
            xy = np.empty((0, 2))
        if not rooms or min(counts) < 3 or xy.shape != (sum(counts), 2):
            return [cls(room, [(v[0], v[1]) for v in poly]) for room, poly in rooms]
        ends = np.cumsum(np.asarray(counts, dtype=np.int64))
        starts = ends - counts
        nxt = np.arange(1, len(xy) + 1)
        nxt[ends - 1] = starts  # each ring closes on its first vertex
        with np.errstate(invalid="ignore", over="ignore"):  # inf/NaN: left to the constructor
            cross = xy[:, 0] * xy[nxt, 1] - xy[nxt, 0] * xy[:, 1]
            twice_area = np.abs(np.add.reduceat(cross, starts))
            # Far above the rounding of a sum taken in another order, or left to the
            # constructor's own sum (a ring of zero area is refused there).
            sure = np.isfinite(twice_area) & (
                twice_area > 1e-9 * np.add.reduceat(np.abs(cross), starts)
            )
        sure &= np.logical_and.reduceat((np.abs(xy) <= COORDINATE_LIMIT_M).all(axis=1), starts)
        out = []
        for (room, poly), a, b, ok in zip(
            rooms, starts.tolist(), ends.tolist(), sure.tolist(), strict=True
        ):
            if not ok:
                out.append(cls(room, [(v[0], v[1]) for v in poly]))
                continue
            f = cls.__new__(cls)
            f.room_id, f.xy, f._polygon = room, xy[a:b], None
            out.append(f)
        return out

    @property
    def vertices(self) -> list[tuple[float, float]]:
        return [(x, y) for x, y in self.xy.tolist()]

    @property
    def polygon(self) -> Polygon:
        if self._polygon is None:
            self._polygon = Polygon(self.xy)
            shapely.prepare(self._polygon)
        return self._polygon

    def contains(self, x: float, y: float) -> bool:
        return bool(shapely.contains_xy(self.polygon, x, y))

    @property
    def centroid(self) -> tuple[float, float]:
        c = self.polygon.centroid
        return (float(c.x), float(c.y))


@dataclass(frozen=True, slots=True)
class ViewVolume:
    """A camera's view as a cone: apex, unit forward direction, half-angle, range.

    It does not model occlusion; callers that know visibility (a simulator)
    pass the expected ids directly instead.
    """

    origin: Vec3
    forward: Vec3
    half_fov_deg: float = 45.0
    max_range_m: float = 3.0
    min_range_m: float = 0.1

    def __post_init__(self) -> None:
        check_finite("view origin", self.origin)
        f = check_finite("view forward", self.forward)
        n = math.sqrt(sum(c * c for c in f))
        if n < 1e-9:
            raise InvalidInputError("view forward vector has zero length")
        object.__setattr__(self, "forward", (f[0] / n, f[1] / n, f[2] / n))
        if not 0.0 < self.half_fov_deg < 90.0 or self.max_range_m <= self.min_range_m:
            raise InvalidInputError("view volume needs 0 < half_fov < 90 and max > min range")

    def contains(self, points: NDArray[np.float64]) -> NDArray[np.bool_]:
        d = points - np.asarray(self.origin)
        dist = np.linalg.norm(d, axis=1)
        along = d @ np.asarray(self.forward)
        cos_lim = math.cos(math.radians(self.half_fov_deg))
        with np.errstate(invalid="ignore", divide="ignore"):
            inside = along >= cos_lim * dist
        out: NDArray[np.bool_] = inside & (dist >= self.min_range_m) & (dist <= self.max_range_m)
        return out
