"""Uniform-grid spatial hash for radius and k-nearest queries on moving points.

A grid keeps insert/move/remove O(1), which matters more here than the
O(log n) queries of a KD-tree that would have to be rebuilt after every batch.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator

from memory_core.types import Vec3

__all__ = ["SpatialGrid"]

Cell = tuple[int, int, int]


class SpatialGrid:
    def __init__(self, cell_m: float = 1.0) -> None:
        self._cell = cell_m
        self._cells: dict[Cell, set[str]] = {}
        self._where: dict[str, tuple[Cell, Vec3]] = {}
        # Bounds of every cell ever occupied (never shrink): a cheap cap for k-nearest shells.
        self._lo: list[int] | None = None
        self._hi: list[int] | None = None

    def __len__(self) -> int:
        return len(self._where)

    def __contains__(self, key: str) -> bool:
        return key in self._where

    def _cell_of(self, p: Vec3) -> Cell:
        c = self._cell
        return (math.floor(p[0] / c), math.floor(p[1] / c), math.floor(p[2] / c))

    def insert(self, key: str, p: Vec3) -> None:
        if key in self._where:
            self.remove(key)
        cell = self._cell_of(p)
        self._cells.setdefault(cell, set()).add(key)
        self._where[key] = (cell, p)
        if self._lo is None or self._hi is None:
            self._lo, self._hi = list(cell), list(cell)
        else:
            for i in range(3):
                if cell[i] < self._lo[i]:
                    self._lo[i] = cell[i]
                elif cell[i] > self._hi[i]:
                    self._hi[i] = cell[i]

    def remove(self, key: str) -> None:
        entry = self._where.pop(key, None)
        if entry is None:
            return
        bucket = self._cells[entry[0]]
        bucket.discard(key)
        if not bucket:
            del self._cells[entry[0]]

    def position(self, key: str) -> Vec3:
        return self._where[key][1]

    def _cells_within(self, p: Vec3, r: float) -> Iterator[set[str]]:
        c = self._cell
        lo = (math.floor((p[0] - r) / c), math.floor((p[1] - r) / c), math.floor((p[2] - r) / c))
        hi = (math.floor((p[0] + r) / c), math.floor((p[1] + r) / c), math.floor((p[2] + r) / c))
        n_span = (hi[0] - lo[0] + 1) * (hi[1] - lo[1] + 1) * (hi[2] - lo[2] + 1)
        if n_span > len(self._cells):
            # A huge radius: walking occupied cells is cheaper than the span.
            for cell, bucket in self._cells.items():
                if all(lo[i] <= cell[i] <= hi[i] for i in range(3)):
                    yield bucket
            return
        cells = self._cells
        for i in range(lo[0], hi[0] + 1):
            for j in range(lo[1], hi[1] + 1):
                for k in range(lo[2], hi[2] + 1):
                    found = cells.get((i, j, k))
                    if found:
                        yield found

    def within(
        self, p: Vec3, r: float, accept: Callable[[str], bool] | None = None
    ) -> list[tuple[float, str]]:
        """``(distance, key)`` pairs within ``r`` of ``p``, nearest first."""
        out: list[tuple[float, str]] = []
        where = self._where
        dist = math.dist
        for bucket in self._cells_within(p, r):
            for key in bucket:
                d = dist(where[key][1], p)
                if d <= r and (accept is None or accept(key)):
                    out.append((d, key))
        out.sort()
        return out

    def nearest(
        self, p: Vec3, k: int, accept: Callable[[str], bool] | None = None
    ) -> list[tuple[float, str]]:
        """The ``k`` nearest keys to ``p`` (fewer if fewer are accepted)."""
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
        """Distance from ``p`` beyond which no occupied cell can lie."""
        if self._lo is None or self._hi is None:
            return 0.0
        c = self._cell
        return math.sqrt(
            sum(
                max(abs(self._lo[i] * c - p[i]), abs((self._hi[i] + 1) * c - p[i])) ** 2
                for i in range(3)
            )
        )
