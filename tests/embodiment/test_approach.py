"""Navigation by poses: standing cells from memory's beliefs and the map."""

from __future__ import annotations

import math

import numpy as np
import pytest

from embodiment import FloorPlan, Room, Skill, StepResult
from embodiment.approach import ApproachNavigation, approach_point, grid_steps
from embodiment.body import floor_plan_from_json, floor_plan_to_json
from embodiment.grid import FREE, OCCUPIED, OccupancyGrid
from memory_core import InvalidInputError
from sim import SceneRegistry
from sim.body import BuiltinBody
from sim.episode import make_world
from sim.tasks import parse_task


def _corridor() -> OccupancyGrid:
    """A 1 x 8 free corridor of 0.25 m cells along u, a wall row above it."""
    data = np.full((2, 8), OCCUPIED, dtype=np.int8)
    data[0, :] = FREE
    return OccupancyGrid(0.25, (0.0, 0.0), data, "z")


def test_grid_steps_count_4_connected_moves() -> None:
    steps = grid_steps(_corridor(), (0.1, 0.1))
    assert steps[(0, 0)] == 0 and steps[(0, 7)] == 7 and (1, 0) not in steps


def test_stands_within_reach_of_the_footprint_fewest_steps_away() -> None:
    grid = _corridor()
    # A 0.5 m square table centred at u=1.875, v=0.375 (its edge at the corridor's
    # centre line): reach 0.5 m, so a cell within 0.25 m of its edge along u.
    got = approach_point(grid, (0.125, 0.125), (1.875, 0.375), (0.5, 0.5), reach_m=0.5)
    assert got is not None
    gap = max(abs(1.875 - got.stand[0]) - 0.25, 0.0)
    assert gap <= 0.25 + 1e-9  # within reach - margin
    assert got.stand == pytest.approx((1.375, 0.125))  # the nearest such cell from u=0.125
    assert got.face == (1.875, 0.375)
    # Out of reach from everywhere free: no standing cell.
    assert approach_point(grid, (0.125, 0.125), (1.0, 5.0), (0.2, 0.2), reach_m=0.5) is None
    # A place (no extent): the free cell nearest to it.
    place = approach_point(grid, (0.125, 0.125), (1.3, 3.0), None, reach_m=0.5)
    assert place is not None and place.stand == pytest.approx((1.375, 0.125))


def test_wrapped_builtin_body_reaches_what_memory_believes(registry: SceneRegistry) -> None:
    task = parse_task(
        {"id": "t", "scene": "FloorPlan1", "goal": [{"object": "Apple", "held": True}]}
    )
    world = make_world(task, registry)
    inner = BuiltinBody(world)
    body = ApproachNavigation(inner, inner.reach_m)
    apple = next(o for o in world.objects.values() if o.object_type == "Apple")
    went = body.execute(
        Skill("navigate", apple.object_id, label="Apple", position=apple.center, size=apple.size)
    )
    assert isinstance(went, StepResult) and went.success and went.skill.target == apple.object_id
    got = body.execute(Skill("pickup", apple.object_id))
    assert got.success, got.error_message
    assert body.state().held == apple.object_id
    # Without a believed position a pose cannot be computed: a failed skill, no exception.
    lost = body.execute(Skill("navigate", "Fridge|1"))
    assert not lost.success and "no believed position" in lost.error_message
    # A held object is not a place to go to.
    held = body.execute(Skill("navigate", apple.object_id, label="Apple", position=apple.center))
    assert not held.success and "in the agent's hand" in held.error_message
    # A bare point goal arrives facing the way it went.
    x, z = world.agent_xz
    cells = sorted(world.spec.reachable, key=lambda c: -math.dist(c, (x, z)))
    far = cells[0]
    moved = body.execute(Skill("navigate", f"point:{far[0]},{far[1]}"))
    assert moved.success and world.agent_xz == pytest.approx(far)


def test_a_thing_is_reached_from_its_own_room_not_through_a_wall(
    registry: SceneRegistry,
) -> None:
    """house_5: the microwave stands on a kitchen counter against the bathroom wall. From
    the bedroom, the cell nearest in steps within reach was in the bathroom, 1.1 m from the
    microwave through the wall: the agent stood there and could not close it. It stands in
    the kitchen now and can."""
    task = parse_task(
        {
            "id": "t",
            "scene": "procthor/houses_20/house_5",
            "goal": [{"object": "Microwave", "state": {"isOpen": True}}],
        }
    )
    world = make_world(task, registry)
    inner = BuiltinBody(world)
    body = ApproachNavigation(inner, inner.reach_m)
    box, oven = world.objects["Box|4|5"], world.objects["Microwave|6|20"]
    for thing in (box, oven):
        went = body.execute(
            Skill("navigate", thing.object_id, position=thing.center, size=thing.size)
        )
        assert went.success, went.error_message
    assert world.agent_room == "room|6"  # the kitchen, as the microwave
    assert body.execute(Skill("open", oven.object_id)).success
    # The simulator's own navigation to an object id keeps to the same rule.
    assert inner.execute(Skill("navigate", box.object_id)).success
    assert inner.execute(Skill("navigate", oven.object_id)).success
    assert world.agent_room == "room|6"
    assert inner.execute(Skill("close", oven.object_id)).success


def test_floor_plan_json_round_trip_and_defects(registry: SceneRegistry) -> None:
    plan = FloorPlan("h", (Room("r1", "Kitchen", ((0.0, 0.0), (1.0, 0.0), (1.0, 1.0))),))
    assert floor_plan_from_json(floor_plan_to_json(plan)) == plan
    # A real house with doors and open walls (an open kitchen) survives the trip.
    spec = registry.load("procthor/houses_20/house_4")
    house = FloorPlan(spec.name, spec.rooms, spec.doors)
    assert any(d.open_plan for d in house.doors) and not all(d.open_plan for d in house.doors)
    assert floor_plan_from_json(floor_plan_to_json(house)) == house
    door = {"id": "d", "rooms": ["r", "r"], "center": [0, 0], "half_width": 0.5}
    for bad in (
        {"name": "h", "rooms": [], "doors": [{**door, "open_plan": "yes"}]},
        {},
        {"name": "h", "rooms": [{"id": "r", "type": "K", "polygon": [[0, 0], [1, 0]]}]},
        {"name": "h", "rooms": [{"id": "r", "type": "K", "polygon": [[0, 0], [1, "x"], [1, 1]]}]},
        {"name": "h", "rooms": [{"id": "r", "type": "K", "polygon": [[0, 0], [1e300, 0], [1, 1]]}]},
        {"name": "", "rooms": []},
        [],
    ):
        with pytest.raises(InvalidInputError):
            floor_plan_from_json(bad)
