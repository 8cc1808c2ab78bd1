"""Uniform-grid spatial hash for radius and k-nearest queries on moving points.

A grid keeps insert/move/remove O(1), which matters more here than the
O(log n) queries of a KD-tree that would have to be rebuilt after every batch.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt
from scipy.spatial import cKDTree

from memory_core.gcpause import paused_gc
from memory_core.types import Vec3

__all__ = ["SpatialGrid"]

Cell = tuple[int, int, int]


class SpatialGrid:
    """Points hashed into cubes of ``cell_m``, or into vertical columns when
    ``column_axis`` (0, 1 or 2: the up axis) is given.

    Indoors, things spread over tens of metres across but a few metres up: a radius
    query probes (2r/cell + 1)^2 columns instead of (2r/cell + 1)^3 cubes, most of them
    empty (a 2.5 m support search was 216 dictionary probes per node, the larger part
    of a 10k-observation batch's time).
    """

    def __init__(self, cell_m: float = 1.0, column_axis: int | None = None) -> None:
        if column_axis not in (None, 0, 1, 2):
            raise ValueError(f"column_axis must be 0, 1, 2 or None, got {column_axis!r}")
        self._cell = cell_m
        self._flat = column_axis
        self._cells: dict[Cell, set[str]] = {}
        # key -> point; a point's cell is worked out again when it moves (one tuple a
        # point instead of three: a load of 100k points made ~300k tuples to collect).
        self._where: dict[str, Vec3] = {}
        # Extent of every point ever inserted (never shrinks): bounds the cells a query
        # walks and the radius a k-nearest search grows to.
        self._lo: list[float] | None = None
        self._hi: list[float] | None = None
        self._later: tuple[Sequence[str], npt.NDArray[np.float64]] | None = None

    def __len__(self) -> int:
        return len(self._where) + (len(self._later[0]) if self._later is not None else 0)

    def __contains__(self, key: str) -> bool:
        if self._later is not None:
            self._settle()
        return key in self._where

    def insert_later(self, keys: Sequence[str], points: npt.ArrayLike) -> None:
        """:meth:`insert_many`, done when the grid is first read or changed.

        A loaded memory's points go in this way: hashing 100k of them was a third of a
        load, and a run that asks no spatial question of a layer never pays it."""
        pts = np.asarray(points, dtype=np.float64).reshape(-1, 3)
        if len(keys) != len(pts):
            raise ValueError(f"{len(keys)} keys for {len(pts)} points")
        if self._where or self._later is not None:
            self.insert_many(keys, pts)
        elif len(keys):
            self._later = (keys, pts)

    def _settle(self) -> None:
        later, self._later = self._later, None
        if later is not None:
            # Collector paused as in a load: the cyclic collector's passes over a large
            # heap, set off by 100k new tuples, cost 3x the hashing itself.
            with paused_gc():
                self.insert_many(*later)

    def _index(self, v: float, axis: int) -> int:
        return 0 if axis == self._flat else math.floor(v / self._cell)

    def _cell_of(self, p: Vec3) -> Cell:
        return (self._index(p[0], 0), self._index(p[1], 1), self._index(p[2], 2))

    def insert(self, key: str, p: Vec3) -> None:
        if self._later is not None:
            self._settle()
        if key in self._where:
            self.remove(key)
        self._cells.setdefault(self._cell_of(p), set()).add(key)
        self._where[key] = p
        if self._lo is None or self._hi is None:
            self._lo, self._hi = list(p), list(p)
        else:
            for i in range(3):
                if p[i] < self._lo[i]:
                    self._lo[i] = p[i]
                elif p[i] > self._hi[i]:
                    self._hi[i] = p[i]

    def insert_many(self, keys: Sequence[str], points: npt.ArrayLike) -> None:
        """:meth:`insert` for many points at once (loading a large memory)."""
        if self._later is not None:
            self._settle()
        pts = np.asarray(points, dtype=np.float64).reshape(-1, 3)
        if len(keys) != len(pts):
            raise ValueError(f"{len(keys)} keys for {len(pts)} points")
        if not len(keys):
            return
        # The same cells as _cell_of: np.floor of the same IEEE quotient as math.floor.
        cells = np.floor(pts / self._cell).astype(np.int64)
        if self._flat is not None:
            cells[:, self._flat] = 0
        where, buckets = self._where, self._cells
        if where:
            for key in keys:
                if key in where:
                    self.remove(key)
        points_t: list[Vec3] = list(map(tuple, pts.tolist()))  # type: ignore[arg-type]
        where.update(zip(keys, points_t, strict=True))
        for key, cell in zip(keys, map(tuple, cells.tolist()), strict=True):
            bucket = buckets.get(cell)
            if bucket is None:
                bucket = buckets[cell] = set()
            bucket.add(key)
        lo, hi = pts.min(axis=0).tolist(), pts.max(axis=0).tolist()
        if self._lo is None or self._hi is None:
            self._lo, self._hi = lo, hi
        else:
            self._lo = [min(a, b) for a, b in zip(self._lo, lo, strict=True)]
            self._hi = [max(a, b) for a, b in zip(self._hi, hi, strict=True)]

    def remove(self, key: str) -> None:
        if self._later is not None:
            self._settle()
        p = self._where.pop(key, None)
        if p is None:
            return
        cell = self._cell_of(p)
        bucket = self._cells[cell]
        bucket.discard(key)
        if not bucket:
            del self._cells[cell]

    def position(self, key: str) -> Vec3:
        if self._later is not None:
            self._settle()
        return self._where[key]

    def _cells_within(self, p: Vec3, r: float) -> list[set[str]]:
        """The occupied cells a point within ``r`` of ``p`` can be in (hot: called for
        every observation and every relation refresh, so written out flat)."""
        lo, hi = self._lo, self._hi
        if lo is None or hi is None:
            return []
        c, flat, floor = self._cell, self._flat, math.floor
        spans: list[tuple[int, int]] = []
        for axis in (0, 1, 2):
            a = max(p[axis] - r, lo[axis])
            b = min(p[axis] + r, hi[axis])
            if a > b:
                return []
            spans.append((0, 0) if axis == flat else (floor(a / c), floor(b / c)))
        (a0, a1), (b0, b1), (c0, c1) = spans
        cells = self._cells
        if (a1 - a0 + 1) * (b1 - b0 + 1) * (c1 - c0 + 1) > len(cells):
            # A huge radius: walking occupied cells is cheaper than the span.
            return [
                bucket
                for (i, j, k), bucket in cells.items()
                if a0 <= i <= a1 and b0 <= j <= b1 and c0 <= k <= c1
            ]
        get = cells.get
        out = []
        for i in range(a0, a1 + 1):
            for j in range(b0, b1 + 1):
                for k in range(c0, c1 + 1):
                    found = get((i, j, k))
                    if found:
                        out.append(found)
        return out

    def within(
        self, p: Vec3, r: float, accept: Callable[[str], bool] | None = None
    ) -> list[tuple[float, str]]:
        """``(distance, key)`` pairs within ``r`` of ``p``, nearest first."""
        if self._later is not None:
            self._settle()
        out: list[tuple[float, str]] = []
        where = self._where
        dist = math.dist
        for bucket in self._cells_within(p, r):
            for key in bucket:
                d = dist(where[key], p)
                if d <= r and (accept is None or accept(key)):
                    out.append((d, key))
        out.sort()
        return out

    def within_many(
        self, points: Sequence[Vec3], radii: Sequence[float], tree_from: int = 64
    ) -> list[list[tuple[float, str]]]:
        """:meth:`within` for many points at once, answer for answer the same.

        From ``tree_from`` queries on, and when the queries are not few against the
        points held (a KD-tree over all of them costs about what 1/16 as many grid
        queries do), one KD-tree answers them all in C: a batch of 10k observations
        asks ~30k radius queries."""
        if len(points) != len(radii):
            raise ValueError(f"{len(points)} points but {len(radii)} radii")
        if self._later is not None:
            self._settle()
        where = self._where
        if not where:
            return [[] for _ in points]
        if len(points) < tree_from or 16 * len(points) < len(where):
            return [self.within(p, r) for p, r in zip(points, radii, strict=True)]
        keys = list(where)
        held = [where[k] for k in keys]
        tree = cKDTree(np.asarray(held, dtype=float))
        r = np.asarray(radii, dtype=float)
        # A hair wider than asked: the tree's rounding must not lose what math.dist keeps;
        # the exact test below decides, as within() does.
        found = tree.query_ball_point(np.asarray(points, dtype=float), r + 1e-9 * (1.0 + r))
        dist = math.dist
        out: list[list[tuple[float, str]]] = []
        for p, radius, idx in zip(points, radii, found, strict=True):
            hits = [(dist(held[i], p), keys[i]) for i in idx]
            hits = [h for h in hits if h[0] <= radius]
            hits.sort()
            out.append(hits)
        return out

    def nearest(
        self, p: Vec3, k: int, accept: Callable[[str], bool] | None = None
    ) -> list[tuple[float, str]]:
        """The ``k`` nearest keys to ``p`` (fewer if fewer are accepted)."""
        if self._later is not None:
            self._settle()
        if k <= 0 or not self._where:
            return []
        r = self._cell
        while True:
            found = self.within(p, r, accept)
            # Everything within r is exact; stop once k are inside or the grid is exhausted.
            if len(found) >= k or r > self._extent_bound(p):
                return found[:k]
            r *= 2.0

    def _extent_bound(self, p: Vec3) -> float:
        """Distance from ``p`` beyond which no point can lie."""
        if self._lo is None or self._hi is None:
            return 0.0
        return math.sqrt(
            sum(max(abs(self._lo[i] - p[i]), abs(self._hi[i] - p[i])) ** 2 for i in range(3))
        )
