"""The grid index answers exactly what a brute-force scan answers."""

from __future__ import annotations

import math
import random

import pytest

from memory_core.spatial import SpatialGrid


@pytest.mark.parametrize("column_axis", [None, 1, 2])
@pytest.mark.parametrize("cell", [0.25, 1.0, 4.0])
def test_grid_matches_brute_force(cell: float, column_axis: int | None) -> None:
    rng = random.Random(7)
    grid = SpatialGrid(cell, column_axis=column_axis)
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


@pytest.mark.parametrize("tree_from", [1, 10_000])
def test_many_queries_answer_as_one_at_a_time(tree_from: int) -> None:
    """The KD-tree path (tree_from=1) and the grid path give within()'s answers exactly,
    ties and points on the radius included."""
    rng = random.Random(3)
    grid = SpatialGrid(1.0, column_axis=1)
    for i in range(3000):
        grid.insert(f"p{i}", (rng.uniform(-30, 30), rng.uniform(0, 3), rng.uniform(-30, 30)))
    grid.insert("twin", (1.0, 1.0, 1.0))
    grid.insert("twin2", (1.0, 1.0, 1.0))
    points = [(rng.uniform(-35, 35), rng.uniform(0, 3), rng.uniform(-35, 35)) for _ in range(400)]
    points += [(1.0, 1.0, 2.0), (1.0, 1.0, 1.0)]
    radii = [rng.choice([0.0, 0.3, 1.0, 2.5, 7.0]) for _ in range(400)] + [1.0, 0.0]
    many = grid.within_many(points, radii, tree_from=tree_from)
    assert many == [grid.within(p, r) for p, r in zip(points, radii, strict=True)]
    assert {(1.0, "twin"), (1.0, "twin2")} <= set(many[-2])


@pytest.mark.parametrize("fill", ["insert_many", "insert_later"])
@pytest.mark.parametrize("first", ["within", "nearest", "move", "remove", "contains", "position"])
def test_points_put_in_bulk_answer_as_points_put_one_by_one(fill: str, first: str) -> None:
    """A grid filled by insert_many or insert_later (hashed when first used) agrees with
    one filled point by point, whichever operation comes first."""
    rng = random.Random(11)
    pts = {
        f"p{i}": (rng.uniform(-20, 20), rng.uniform(0, 3), rng.uniform(-20, 20))
        for i in range(1500)
    }
    one, bulk = SpatialGrid(1.0, column_axis=1), SpatialGrid(1.0, column_axis=1)
    for k, p in pts.items():
        one.insert(k, p)
    getattr(bulk, fill)(list(pts), list(pts.values()))
    assert len(bulk) == len(pts)
    q = (0.5, 1.0, -0.5)
    for grid in (one, bulk):
        if first == "within":
            assert grid.within(q, 3.0)
        elif first == "nearest":
            assert len(grid.nearest(q, 4)) == 4
        elif first == "move":
            grid.insert("p7", (40.0, 1.0, 40.0))
        elif first == "remove":
            grid.remove("p7")
        elif first == "contains":
            assert "p7" in grid and "nope" not in grid
        else:
            assert grid.position("p7") == pts["p7"]
    for _ in range(40):
        q = (rng.uniform(-45, 45), rng.uniform(0, 3), rng.uniform(-45, 45))
        r = rng.uniform(0.1, 6.0)
        assert bulk.within(q, r) == one.within(q, r)
        assert bulk.nearest(q, 5) == one.nearest(q, 5)
    assert len(bulk) == len(one)
    assert bulk.within_many([q] * 70, [8.0] * 70, tree_from=1) == [one.within(q, 8.0)] * 70
