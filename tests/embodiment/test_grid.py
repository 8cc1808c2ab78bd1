"""The occupancy grid: lattice placement, lookups, connectivity."""

from __future__ import annotations

import numpy as np
import pytest

from embodiment import FREE, OCCUPIED, OccupancyGrid
from memory_core import InvalidInputError


def test_free_cells_land_on_their_lattice_and_islands_stay_apart() -> None:
    # Two rooms of free cells 0.25 m apart, not connected (a wall column between them).
    left = [(i * 0.25, j * 0.25) for i in range(0, 3) for j in range(-2, 2)]
    right = [(i * 0.25, j * 0.25) for i in range(4, 6) for j in range(-2, 2)]
    grid = OccupancyGrid.from_free_cells(left + right, 0.25, "y")
    assert grid.shape == (4, 6)
    assert int((grid.data == FREE).sum()) == len(left) + len(right)
    assert grid.data[:, 3].tolist() == [OCCUPIED] * 4
    for u, v in left + right:
        cell = grid.cell_of(u, v)
        assert cell is not None and grid.centre(*cell) == pytest.approx((u, v))
    assert _rounded(grid.reachable_from(0.0, 0.0)) == _rounded(left)
    # From outside every free cell: the nearest free cell's island.
    assert _rounded(grid.reachable_from(10.0, 0.0)) == _rounded(right)
    assert grid.cell_of(-5.0, 0.0) is None


def _rounded(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    return sorted((round(u, 6), round(v, 6)) for u, v in points)


def test_bad_grids_are_refused() -> None:
    with pytest.raises(InvalidInputError):
        OccupancyGrid(0.0, (0.0, 0.0), np.zeros((2, 2), dtype=np.int8))
    with pytest.raises(InvalidInputError):
        OccupancyGrid(0.1, (0.0, 0.0), np.zeros((0, 2), dtype=np.int8))
    with pytest.raises(InvalidInputError):
        OccupancyGrid.from_free_cells([], 0.25, "y")
