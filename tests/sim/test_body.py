"""The built-in simulator behind the body interface."""

from __future__ import annotations

import pytest

from embodiment import BodyError, FloorPlan, Skill
from embodiment.grid import FREE
from sim import SceneRegistry
from sim.body import BuiltinBody
from sim.episode import make_world
from sim.tasks import parse_task

TASK = parse_task({"id": "t", "scene": "FloorPlan1", "goal": [{"object": "Apple", "held": True}]})


def test_state_map_and_floor_plan_are_the_worlds(registry: SceneRegistry) -> None:
    world = make_world(TASK, registry)
    body = BuiltinBody(world)
    state = body.state()
    assert state.floor_xy == world.agent_xz and state.held is None and state.up_axis == "y"
    grid = body.occupancy()
    assert int((grid.data == FREE).sum()) == len(world.spec.reachable)
    reach = {(round(u, 2), round(v, 2)) for u, v in grid.reachable_from(*state.floor_xy)}
    nav = {world.nav.xz(c) for c in world.nav.distances_from(world.agent_xz)}
    assert reach == {(round(u, 2), round(v, 2)) for u, v in nav}
    plan = body.floor_plan()
    assert isinstance(plan, FloorPlan) and [r.room_id for r in plan.rooms] == [
        r.room_id for r in world.spec.rooms
    ]


def test_sensing_gives_ids_names_states_and_a_view(registry: SceneRegistry) -> None:
    world = make_world(TASK, registry)
    body = BuiltinBody(world)
    sensed = body.look()
    assert sensed.view is not None and sensed.observations
    ids = {o.object_id for o in sensed.observations}
    assert ids == set(world.visible_objects())
    for o in sensed.observations:
        truth = world.objects[o.object_id or ""]
        assert o.label == truth.object_type and o.name == truth.name
        assert o.position == truth.center
    result = body.execute(Skill("look_around"))
    assert result.success and result.sensed is not None
    assert {o.object_id for o in result.sensed.observations} == set(result.seen)


def test_failures_and_faults_are_failed_outcomes(
    registry: SceneRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = make_world(TASK, registry)
    body = BuiltinBody(world)
    bad = body.execute(Skill("pickup", "Unicorn|1|2|3"))
    assert not bad.success and "not the objectId" in bad.error_message

    def explode(skill: Skill) -> None:
        raise RuntimeError("motor controller lost")

    monkeypatch.setattr(world, "step", explode)
    fault = body.execute(Skill("look_around"))
    assert not fault.success and "motor controller lost" in fault.error_message
    with pytest.raises(BodyError, match="sensing 'lidar'"):
        BuiltinBody(world, sensing="lidar")


def test_rgbd_sensing_gives_labelled_frames_and_grounds_memory_ids(
    registry: SceneRegistry,
) -> None:
    import math

    import numpy as np

    from embodiment.body import RGBDFrame

    world = make_world(TASK, registry)
    body = BuiltinBody(world, "rgbd")
    sensed = body.look()
    assert not sensed.observations and len(sensed.frames) == 1
    frame = sensed.frames[0]
    assert isinstance(frame, RGBDFrame) and frame.instance is not None
    assert np.isnan(frame.depth).any() or np.isfinite(frame.depth).all()
    assert not any("|" in label for label in frame.labels)  # types, never ids
    look = body.execute(Skill("look_around"))
    assert look.sensed is not None and len(look.sensed.frames) == 4 and look.seen == ()
    # A memory id the simulator does not know is grounded by label near its position.
    apple = next(o for o in world.objects.values() if o.object_type == "Apple")
    near = tuple(c + 0.2 for c in apple.center)
    go = body.execute(Skill("navigate", "Apple#7", label="Apple", position=near))
    assert go.success and go.skill.target == "Apple#7"
    assert math.dist(world.agent_xz, (apple.center[0], apple.center[2])) < 2.0
    far = body.execute(Skill("pickup", "Apple#8", label="Apple", position=(50.0, 0.0, 50.0)))
    assert not far.success and "no Apple found" in far.error_message
    # A hand reaching where a small thing was believed does not take one 0.8 m away.
    off = (apple.center[0] + 0.8, apple.center[1], apple.center[2])
    wide = body.execute(Skill("pickup", "Apple#9", label="Apple", position=off))
    assert not wide.success and "no Apple found" in wide.error_message
    got = body.execute(Skill("pickup", "Apple#7", label="Apple", position=near))
    assert got.success and body.state().held == "Apple#7"  # memory's id, not the simulator's
