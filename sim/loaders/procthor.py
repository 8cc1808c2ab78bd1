"""ProcTHOR house JSON → :class:`SceneSpec`.

The reachable grid is derived from the floor polygons: 0.25 m grid points at
least ``agent_radius`` inside a room, plus the points inside door openings,
minus the footprints of floor-standing furniture (inflated by the radius).
Walls are never crossed except through doors and open walls (``"empty": true``: no wall
between two rooms) because the inward margin leaves a gap wider than one grid step on each
side of a wall.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import Polygon, box
from shapely.ops import unary_union

from embodiment.affordances import Affordances
from memory_core.importers.procthor import load_procthor_house, rotated_size
from sim.errors import SceneLoadError
from sim.scene import DoorSpec, ObjectSpec, RoomSpec, SceneSpec

__all__ = ["load_procthor_scene"]

AGENT_RADIUS_M = 0.2
GRID_M = 0.25
AGENT_Y = 0.9009992
HUNG_M = 0.3
FLAT_M = 0.15
"""A thing this flat whose bottom is this high hangs on a wall (a painting, a wall
television): it blocks no floor, not even the side of a doorway it hangs beside."""


def _wall_line(wall_id: str) -> tuple[float, float, float, float]:
    parts = wall_id.split("|")
    return float(parts[-4]), float(parts[-3]), float(parts[-2]), float(parts[-1])


def _door(door: Mapping[str, Any]) -> tuple[DoorSpec, Polygon]:
    x0, z0, x1, z1 = _wall_line(str(door["wall0"]))
    length = math.hypot(x1 - x0, z1 - z0)
    if length <= 0:
        raise SceneLoadError(f"door {door['id']}: wall {door['wall0']} has zero length")
    ux, uz = (x1 - x0) / length, (z1 - z0) / length
    h0, h1 = sorted((float(door["holePolygon"][0]["x"]), float(door["holePolygon"][1]["x"])))
    mid = (h0 + h1) / 2
    cx, cz = x0 + ux * mid, z0 + uz * mid
    half = (h1 - h0) / 2
    inner = max(half - AGENT_RADIUS_M, 0.0)
    # A passage rectangle across the wall, as wide as the opening minus the agent's radius.
    nx, nz = -uz, ux
    depth = 2 * AGENT_RADIUS_M + GRID_M
    corners = [
        (cx + ux * s * inner + nx * d * depth, cz + uz * s * inner + nz * d * depth)
        for s, d in ((-1, -1), (1, -1), (1, 1), (-1, 1))
    ]
    spec = DoorSpec(str(door["id"]), str(door["room0"]), str(door["room1"]), (cx, cz), half)
    return spec, Polygon(corners)


def _open_walls(walls: list[Mapping[str, Any]]) -> list[tuple[DoorSpec, Polygon]]:
    """ProcTHOR's walls marked ``empty``: no wall at all, an open passage between the two
    rooms that share the segment (a kitchen open to its living room). Each is listed once
    per room; a pair becomes one opening as long as the segment, less the agent's radius at
    each end (where the real walls meet)."""
    rooms_of: dict[tuple[tuple[float, float], tuple[float, float]], list[str]] = {}
    ids: dict[tuple[tuple[float, float], tuple[float, float]], str] = {}
    for wall in walls:
        if not wall.get("empty"):
            continue
        x0, z0, x1, z1 = _wall_line(str(wall["id"]))
        a, b = sorted(((x0, z0), (x1, z1)))
        key = (a, b)
        rooms_of.setdefault(key, []).append(str(wall["roomId"]))
        ids.setdefault(key, str(wall["id"]))
    out = []
    for (a, b), rooms in sorted(rooms_of.items()):
        pair = sorted(set(rooms))
        if len(pair) != 2:
            continue  # open to the outside, or listed for one room only: leads nowhere
        length = math.dist(a, b)
        if length <= 2 * AGENT_RADIUS_M:
            continue
        ux, uz = (b[0] - a[0]) / length, (b[1] - a[1]) / length
        cx, cz = (a[0] + b[0]) / 2, (a[1] + b[1]) / 2
        inner = length / 2 - AGENT_RADIUS_M
        nx, nz = -uz, ux
        depth = 2 * AGENT_RADIUS_M + GRID_M
        corners = [
            (cx + ux * s * inner + nx * d * depth, cz + uz * s * inner + nz * d * depth)
            for s, d in ((-1, -1), (1, -1), (1, 1), (-1, 1))
        ]
        spec = DoorSpec(
            f"open|{ids[(a, b)]}", pair[0], pair[1], (cx, cz), length / 2, open_plan=True
        )
        out.append((spec, Polygon(corners)))
    return out


def load_procthor_scene(path: str | Path, affordances: Affordances) -> SceneSpec:
    house = load_procthor_house(path)
    name = f"procthor/{Path(path).parent.name}/{Path(path).stem}"
    try:
        return _build(house, name, affordances)
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, SceneLoadError):
            raise
        raise SceneLoadError(f"{name}: malformed house ({exc!r})") from exc


def _build(house: Mapping[str, Any], name: str, aff: Affordances) -> SceneSpec:
    rooms = tuple(
        RoomSpec(
            str(r["id"]),
            str(r.get("roomType") or "Room"),
            tuple((float(p["x"]), float(p["z"])) for p in r["floorPolygon"]),
        )
        for r in house["rooms"]
    )
    if not rooms:
        raise SceneLoadError(f"{name}: house has no rooms")
    doors: list[DoorSpec] = []
    passages: list[Polygon] = []
    for d in house.get("doors") or []:
        if d["room0"] == d["room1"]:
            continue  # a door to the outside leads nowhere reachable
        spec, passage = _door(d)
        doors.append(spec)
        passages.append(passage)
    for spec, passage in _open_walls(house.get("walls") or []):
        doors.append(spec)
        passages.append(passage)

    objects: list[ObjectSpec] = []
    blockers: list[Polygon] = []

    def add(obj: Mapping[str, Any], parent: str | None) -> None:
        asset = aff.catalog.asset(str(obj.get("assetId", "")))
        obj_type = asset[0] if asset else str(obj["id"]).split("|")[0]
        yaw = float((obj.get("rotation") or {}).get("y", 0.0))
        size = rotated_size(asset[1], yaw) if asset else aff.median_size(obj_type)
        p = obj["position"]
        pos = (float(p["x"]), float(p["y"]), float(p["z"]))
        openness = (
            float(obj["openness"])
            if "openness" in obj
            else (0.0 if aff.openable(obj_type) else None)
        )
        objects.append(
            ObjectSpec(
                str(obj["id"]),
                obj_type,
                pos,
                size,
                yaw,
                parent,
                openness,
                toggled=False if aff.toggleable(obj_type) else None,
                source="procthor",
                name=str(obj.get("assetId", "")),
            )
        )
        hung = pos[1] - size[1] / 2 >= HUNG_M and min(size[0], size[2]) <= FLAT_M
        if parent is None and not aff.pickupable(obj_type) and not hung:
            r = AGENT_RADIUS_M
            blockers.append(
                box(
                    pos[0] - size[0] / 2 - r,
                    pos[2] - size[2] / 2 - r,
                    pos[0] + size[0] / 2 + r,
                    pos[2] + size[2] / 2 + r,
                )
            )
        for child in obj.get("children") or []:
            add(child, str(obj["id"]))

    for obj in house.get("objects") or []:
        add(obj, None)

    free = unary_union(
        [Polygon(r.polygon).buffer(-AGENT_RADIUS_M) for r in rooms] + passages
    ).difference(unary_union(blockers) if blockers else Polygon())
    minx, minz, maxx, maxz = free.bounds
    xs = np.arange(math.ceil(minx / GRID_M), math.floor(maxx / GRID_M) + 1) * GRID_M
    zs = np.arange(math.ceil(minz / GRID_M), math.floor(maxz / GRID_M) + 1) * GRID_M
    gx, gz = np.meshgrid(xs, zs, indexing="ij")
    inside = shapely.contains_xy(free, gx.ravel(), gz.ravel())
    reachable = tuple(
        (float(x), float(z)) for x, z in zip(gx.ravel()[inside], gz.ravel()[inside], strict=True)
    )
    if not reachable:
        raise SceneLoadError(f"{name}: no reachable floor")
    agent = (house.get("metadata") or {}).get("agent") or {}
    ap = agent.get("position") or {"x": reachable[0][0], "z": reachable[0][1]}
    start_xz = min(reachable, key=lambda c: (c[0] - ap["x"]) ** 2 + (c[1] - ap["z"]) ** 2)
    yaw = float((agent.get("rotation") or {}).get("y", 0.0))
    return SceneSpec(
        name=name,
        kind="procthor",
        rooms=rooms,
        objects=tuple(objects),
        reachable=reachable,
        agent_start=(start_xz[0], start_xz[1], yaw),
        doors=tuple(doors),
        agent_height=AGENT_Y,
    )
