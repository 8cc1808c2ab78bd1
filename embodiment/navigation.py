"""Shortest paths on the reachable 0.25 m grid (4-connected), with step counting.

Shared by bodies that walk a grid of reachable positions (the built-in simulator,
AI2-THOR's ``GetReachablePositions``): the same cells give the same paths and step counts
whatever order a body lists them in."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable

import networkx as nx

__all__ = ["GridNav", "Path", "turns_between"]

Cell = tuple[int, int]


class Path:
    def __init__(self, cells: list[tuple[float, float]], moves: int, turns: int, yaw: float):
        self.cells = cells
        self.moves = moves
        self.turns = turns
        self.final_yaw = yaw

    @property
    def steps(self) -> int:
        return self.moves + self.turns


def _yaw_of(dx: float, dz: float) -> float:
    """AI2-THOR yaw: 0 faces +z, 90 faces +x."""
    return math.degrees(math.atan2(dx, dz)) % 360.0


def turns_between(yaw_a: float, yaw_b: float) -> int:
    """90° rotations needed to go from ``yaw_a`` to ``yaw_b`` (both snapped to 90°)."""
    diff = (round(yaw_b / 90) - round(yaw_a / 90)) % 4
    return min(diff, 4 - diff)


class GridNav:
    def __init__(self, cells: Iterable[tuple[float, float]], grid: float = 0.25) -> None:
        self.grid = grid
        self._bfs: dict[Cell, dict[Cell, int]] = {}
        self._g: nx.Graph = nx.Graph()
        # Sorted: networkx breaks ties between equally short paths by insertion order.
        keys = sorted({self.key(c) for c in cells})
        self._g.add_nodes_from(keys)
        present = set(keys)
        for i, j in keys:
            for di, dj in ((1, 0), (0, 1)):
                if (i + di, j + dj) in present:
                    self._g.add_edge((i, j), (i + di, j + dj))

    def key(self, xz: tuple[float, float]) -> Cell:
        return (round(xz[0] / self.grid), round(xz[1] / self.grid))

    def xz(self, cell: Cell) -> tuple[float, float]:
        return (cell[0] * self.grid, cell[1] * self.grid)

    def __contains__(self, xz: tuple[float, float]) -> bool:
        return self.key(xz) in self._g

    def nearest_cell(self, xz: tuple[float, float]) -> tuple[float, float]:
        best = min(
            self._g.nodes,
            key=lambda c: (c[0] * self.grid - xz[0]) ** 2 + (c[1] * self.grid - xz[1]) ** 2,
        )
        return self.xz(best)

    def snap(self, xz: tuple[float, float]) -> tuple[float, float]:
        """``xz`` if it is reachable, else the nearest reachable cell."""
        return xz if xz in self else self.nearest_cell(xz)

    def distances_from(self, xz: tuple[float, float]) -> dict[Cell, int]:
        """Grid steps to every reachable cell (cached: the grid never changes)."""
        start = self.key(xz)
        if start not in self._bfs:
            self._bfs[start] = dict(nx.single_source_shortest_path_length(self._g, start))
        return self._bfs[start]

    def path(
        self,
        start: tuple[float, float],
        yaw: float,
        goal: tuple[float, float],
        face: tuple[float, float] | None = None,
    ) -> Path | None:
        """Cells from start to goal; turns counted at every heading change and, with
        ``face``, the final turn towards that point."""
        try:
            keys = nx.shortest_path(self._g, self.key(start), self.key(goal))
        except (nx.NetworkXNoPath, nx.NodeNotFound):
            return None
        cells = [self.xz(k) for k in keys]
        turns, heading = 0, yaw
        for a, b in itertools.pairwise(cells):
            new = _yaw_of(b[0] - a[0], b[1] - a[1])
            turns += turns_between(heading, new)
            heading = new
        if face is not None:
            end = cells[-1]
            # Rounded to 1e-6 first: a heading that crossed a wire (a quaternion) lands on
            # the same side of a 45° tie as the exact one.
            quarter = round(_yaw_of(face[0] - end[0], face[1] - end[1]) / 90, 6)
            target = round(quarter) * 90 % 360
            turns += turns_between(heading, target)
            heading = float(target)
        return Path(cells, len(cells) - 1, turns, heading)
