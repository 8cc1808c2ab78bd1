"""Room footprints made in bulk (a loaded memory's) are what the constructor makes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from memory_core.errors import InvalidInputError
from memory_core.geometry import RoomFootprint, room_polygons

HOUSES = Path(__file__).resolve().parents[3] / "shared" / "data" / "procthor_houses" / "houses_20"


def _house_rooms() -> list[tuple[str, list[list[float]]]]:
    rooms = []
    for path in sorted(HOUSES.glob("house_*.json")):
        for room in json.loads(path.read_text())["rooms"]:
            poly = [[p["x"], p["z"]] for p in room["floorPolygon"]]
            rooms.append((f"{path.stem}/{room['id']}", poly))
    return rooms


def test_real_rooms_in_bulk_equal_rooms_one_by_one() -> None:
    rooms = _house_rooms()
    assert len(rooms) > 50
    bulk = RoomFootprint.many(rooms)
    alone = [RoomFootprint(r, [(v[0], v[1]) for v in p]) for r, p in rooms]
    assert [f.room_id for f in bulk] == [r for r, _p in rooms]
    for a, b in zip(bulk, alone, strict=True):
        assert a.vertices == b.vertices
        assert np.array_equal(a.xy, b.xy)
    assert [p.area for p in room_polygons(bulk)] == [p.area for p in room_polygons(alone)]
    assert bulk[0].contains(*bulk[0].centroid) == alone[0].contains(*alone[0].centroid)


SQUARE = [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]


@pytest.mark.parametrize(
    "bad",
    [
        [[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]],  # collinear: zero area
        [[0.0, 0.0], [1.0, 0.0]],  # too few vertices
        [[0.0, 0.0], [1.0, float("nan")], [0.0, 1.0]],
        [[0.0, 0.0], [1.0, float("inf")], [0.0, 1.0]],
        [[0.0, 0.0], [1.0, "one"], [0.0, 1.0]],
        [[0.0, 0.0], None, [0.0, 1.0]],
        [[0.0, 0.0], [1e300, 0.0], [1e300, 1e300], [0.0, 1e300]],  # beyond the limit
        [[0.0, 0.0], [2e7, 0.0], [0.0, 1.0]],
    ],
)
def test_a_bad_room_among_good_ones_is_refused_as_alone(bad: list[object]) -> None:
    rooms = [("a", SQUARE), ("bad", bad), ("c", SQUARE)]
    with pytest.raises((InvalidInputError, TypeError, ValueError)) as alone:
        RoomFootprint("bad", [(v[0], v[1]) for v in bad])  # type: ignore[index]
    with pytest.raises(type(alone.value)):
        RoomFootprint.many(rooms)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "odd",
    [
        [[0.0, 0.0], [1e6, 0.0], [1e6, 1e-9]],  # a sliver near the rounding of the sum
        [[0.0, 0.0, 5.0], [1.0, 0.0, 5.0], [0.0, 1.0, 5.0]],  # a third coordinate, ignored
    ],
)
def test_odd_rooms_the_constructor_accepts_are_accepted(odd: list[list[float]]) -> None:
    """Rooms numpy cannot vouch for go to the constructor's own test."""
    alone = RoomFootprint("s", [(v[0], v[1]) for v in odd])
    (bulk,) = RoomFootprint.many([("s", odd)])
    assert bulk.vertices == alone.vertices
