"""The grid index answers exactly what a brute-force scan answers."""

from __future__ import annotations

import math
import random

import pytest

from memory_core.spatial import SpatialGrid


@pytest.mark.parametrize("cell", [0.25, 1.0, 4.0])
def test_grid_matches_brute_force(cell: float) -> None:
    rng = random.Random(7)
    grid = SpatialGrid(cell)
    pts = {
        f"p{i}": (rng.uniform(-20, 20), rng.uniform(0, 3), rng.uniform(-20, 20))
        for i in range(2000)
    }
    for k, p in pts.items():
        grid.insert(k, p)
    for k in list(pts)[:300]:  # move some, remove some
        pts[k] = (rng.uniform(-30, 30), 1.0, rng.uniform(-30, 30))
        grid.insert(k, pts[k])
    for k in list(pts)[300:400]:
        grid.remove(k)
        del pts[k]
    for _ in range(50):
        q = (rng.uniform(-35, 35), rng.uniform(0, 3), rng.uniform(-35, 35))
        r = rng.uniform(0.1, 6.0)
        want = sorted((math.dist(q, p), k) for k, p in pts.items() if math.dist(q, p) <= r)
        assert grid.within(q, r) == want
        k = rng.randint(1, 15)
        brute = sorted((math.dist(q, p), key) for key, p in pts.items())[:k]
        assert grid.nearest(q, k) == brute
    assert len(grid) == len(pts)
