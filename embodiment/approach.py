"""Navigation by poses: where to stand to reach what memory believes is somewhere.

A robot's navigation stack (nav2) goes to poses, not to objects. :func:`approach_point`
turns a navigation target as memory knows it (a place, and for an object the footprint
of its box) into a standing cell of the body's occupancy grid and a point to face: among
the free cells 4-connected to the body, those whose floor distance to the footprint is
within ``reach_m - margin_m`` (else within ``reach_m``; for a place without extent the
free cell nearest to it), the one fewest grid steps away (ties: lowest coordinates).

:class:`ApproachNavigation` wraps any body so that every ``navigate`` to an object or
room becomes a ``navigate`` to ``point:u,v`` facing the target: the same rule in process
and through ROS's ``NavigateToPose``.
"""

from __future__ import annotations

import dataclasses
import math
from collections import deque
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import Polygon
from shapely.ops import unary_union

from embodiment.body import Body, BodyState, FloorPlan, Sensed, rooms_seen_from
from embodiment.grid import FREE, OccupancyGrid
from embodiment.skills import Skill, StepResult
from memory_core.geometry import horizontal

__all__ = [
    "Approach",
    "ApproachNavigation",
    "approach_point",
    "footprint_gap",
    "grid_steps",
    "seen_from",
]


@dataclass(frozen=True, slots=True)
class Approach:
    stand: tuple[float, float]
    """Floor-plane centre of the cell to stand on."""
    face: tuple[float, float]
    """Floor-plane point to face on arrival."""


def grid_steps(grid: OccupancyGrid, start: tuple[float, float]) -> dict[tuple[int, int], int]:
    """4-connected grid steps from the free cell holding (or nearest to) ``start`` to every
    free cell it connects to, keyed by (row, column)."""
    free = grid.data == FREE
    cell = grid.cell_of(*start)
    if cell is None or not free[cell]:
        rows, cols = np.nonzero(free)
        if rows.size == 0:
            return {}
        centres = [grid.centre(int(r), int(c)) for r, c in zip(rows, cols, strict=True)]
        k = min(
            range(len(centres)),
            key=lambda i: math.hypot(centres[i][0] - start[0], centres[i][1] - start[1]),
        )
        cell = (int(rows[k]), int(cols[k]))
    steps = {cell: 0}
    queue = deque([cell])
    n_rows, n_cols = grid.shape
    while queue:
        r, c = queue.popleft()
        for nr, nc in ((r + 1, c), (r - 1, c), (r, c + 1), (r, c - 1)):
            if 0 <= nr < n_rows and 0 <= nc < n_cols and free[nr, nc] and (nr, nc) not in steps:
                steps[(nr, nc)] = steps[(r, c)] + 1
                queue.append((nr, nc))
    return steps


def footprint_gap(
    p: tuple[float, float], centre: tuple[float, float], half: tuple[float, float]
) -> float:
    """Floor distance from ``p`` to an axis-aligned footprint (0 inside it)."""
    du = max(abs(centre[0] - p[0]) - half[0], 0.0)
    dv = max(abs(centre[1] - p[1]) - half[1], 0.0)
    return math.hypot(du, dv)


def seen_from(plan: FloorPlan | None, target: tuple[float, float]) -> Polygon | None:
    """Where a thing at ``target`` can be seen and reached from: the floor of its room and
    of the rooms open to it with no wall (a cell a metre away through a wall is not a place
    to reach it from); None when the plan has one room or none holds the point."""
    if plan is None or len(plan.rooms) < 2:
        return None
    polygons = {r.room_id: Polygon(r.polygon) for r in plan.rooms}
    there = next((k for k, p in polygons.items() if shapely.intersects_xy(p, *target)), None)
    if there is None:
        return None
    rooms = rooms_seen_from(plan.doors, there)
    return unary_union([polygons[k] for k in sorted(rooms) if k in polygons])


def approach_point(
    grid: OccupancyGrid,
    start: tuple[float, float],
    target: tuple[float, float],
    extent: tuple[float, float] | None,
    reach_m: float,
    margin_m: float = 0.25,
    within: Polygon | None = None,
) -> Approach | None:
    """Where to stand to reach ``target`` (floor-plane centre; ``extent`` its floor-plane
    size, None for a place), on the floor ``within`` where one is given and a cell there
    will do; None when no free cell connects to ``start``."""
    steps = grid_steps(grid, start)
    if not steps:
        return None
    centres = {cell: grid.centre(*cell) for cell in steps}
    if within is not None:
        cells = list(centres)
        xy = np.array([centres[c] for c in cells])
        inside = shapely.contains_xy(within, xy[:, 0], xy[:, 1])
        kept = {c: centres[c] for c, ok in zip(cells, inside, strict=True) if ok}
        if kept:
            centres = kept
    if extent is None:
        best = min(
            centres,
            key=lambda c: (math.dist(centres[c], target), steps[c], centres[c]),
        )
        return Approach(centres[best], target)
    half = (extent[0] / 2, extent[1] / 2)
    gaps = {cell: footprint_gap(p, target, half) for cell, p in centres.items()}
    for limit in (reach_m - margin_m, reach_m):
        near = [cell for cell, g in gaps.items() if g <= limit]
        if near:
            best = min(near, key=lambda c: (steps[c], centres[c]))
            return Approach(centres[best], target)
    return None


def _point(u: float, v: float) -> str:
    return f"point:{u:.4f},{v:.4f}"


class ApproachNavigation:
    """A body whose object and room navigation goes to poses (see the module)."""

    def __init__(self, body: Body, reach_m: float) -> None:
        self.body, self.reach_m = body, reach_m

    @property
    def up_axis(self) -> str:
        return self.body.up_axis

    def state(self) -> BodyState:
        return self.body.state()

    def look(self) -> Sensed:
        return self.body.look()

    def occupancy(self) -> OccupancyGrid | None:
        return self.body.occupancy()

    def floor_plan(self) -> FloorPlan | None:
        return self.body.floor_plan()

    def execute(self, skill: Skill) -> StepResult:
        if skill.name != "navigate" or skill.target is None:
            return self.body.execute(skill)
        if skill.target.startswith("point:"):
            return self.body.execute(self._headed(skill))
        if skill.position is None:
            return StepResult(skill, False, f"no believed position for {skill.target}")
        state = self.body.state()
        if skill.target == state.held:
            return StepResult(skill, False, f"{skill.target} is in the agent's hand")
        grid = self.body.occupancy()
        if grid is None:
            return StepResult(skill, False, "no map to navigate by")
        up = self.body.up_axis
        target = horizontal(skill.position, up)
        extent = horizontal(skill.size, up) if skill.size is not None else None
        room = seen_from(self.body.floor_plan(), target)
        goal = approach_point(grid, state.floor_xy, target, extent, self.reach_m, within=room)
        if goal is None:
            return StepResult(skill, False, f"no reachable position near {skill.target}")
        face = (
            (goal.face[0], skill.position[1], goal.face[1])
            if up == "y"
            else (goal.face[0], goal.face[1], skill.position[2])
        )
        posed = Skill("navigate", _point(*goal.stand), label=skill.label, position=face)
        result = self.body.execute(posed)
        return dataclasses.replace(result, skill=skill)

    def _headed(self, skill: Skill) -> Skill:
        """A point goal without a heading faces the way from here to it (a pose goal
        always has one): 1 m beyond the point along that line."""
        if skill.position is not None:
            return skill
        try:
            u, v = (float(c) for c in skill.target.removeprefix("point:").split(","))  # type: ignore[union-attr]
        except ValueError:
            return skill  # the body names the bad point
        state = self.body.state()
        here = state.floor_xy
        d = math.hypot(u - here[0], v - here[1])
        if d < 1e-9:
            return skill
        fu, fv = u + (u - here[0]) / d, v + (v - here[1]) / d
        h = state.pose.position
        face = (fu, h[1], fv) if self.up_axis == "y" else (fu, fv, h[2])
        return dataclasses.replace(skill, position=face)
