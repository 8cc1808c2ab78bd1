"""AI2-THOR's kitchen rules in the simulator: stove knobs and burners, cooking, toasting,
coffee, filling and emptying, breaking (``object_types_data.json``'s contextual
interactions and the recorded metadata)."""

from __future__ import annotations

import json

import pytest

from sim import SceneRegistry, Skill, World
from sim.world import SimObject
from tests.conftest import DATA

_RECORDED = DATA / "ai2thor_recorded/rl_thor_events/objects_metadata_samples"


def _of(world: World, otype: str) -> list[SimObject]:
    return sorted(
        (o for o in world.objects.values() if o.object_type == otype), key=lambda o: o.object_id
    )


def _hold(world: World, object_id: str) -> None:
    assert world.step(Skill("pickup", object_id, force=True)).success, world.last_error


def _put(world: World, thing: str, where: str) -> None:
    _hold(world, thing)
    world.step(Skill("navigate", where))
    assert world.step(Skill("put", where, force=True)).success, world.last_error


@pytest.fixture
def kitchen2(registry: SceneRegistry) -> World:
    """FloorPlan2: six burners wired to their knobs as AI2-THOR recorded them (not the
    nearest knob)."""
    return World(registry.load("FloorPlan2"), registry.affordances)


def test_knobs_switch_the_recorded_burners(kitchen2: World) -> None:
    meta = json.loads((_RECORDED / "FloorPlan2_physics.json").read_text())
    recorded = {
        o["objectId"]: tuple(o["controlledObjects"])
        for o in meta.values()
        if o["objectType"] == "StoveKnob"
    }
    knobs = _of(kitchen2, "StoveKnob")
    assert {k.object_id: k.controls for k in knobs} == recorded
    knob = knobs[0]
    burner = kitchen2.objects[knob.controls[0]]
    # The burner takes no toggle of its own; the error says what does.
    kitchen2.step(Skill("navigate", burner.object_id))
    refused = kitchen2.step(Skill("toggle_on", burner.object_id))
    assert not refused.success and knob.object_id in refused.error_message
    kitchen2.step(Skill("navigate", knob.object_id))
    assert kitchen2.step(Skill("toggle_on", knob.object_id)).success
    assert burner.is_toggled and sum(b.is_toggled for b in _of(kitchen2, "StoveBurner")) == 1
    row = next(o for o in kitchen2.metadata()["objects"] if o["objectId"] == knob.object_id)
    assert row["controlledObjects"] == [burner.object_id]
    assert kitchen2.step(Skill("toggle_off", knob.object_id)).success
    assert not burner.is_toggled


def test_a_pan_on_a_lit_burner_cooks_what_it_holds(kitchen2: World) -> None:
    potato, pan = _of(kitchen2, "Potato")[0], _of(kitchen2, "Pan")[0]
    knob = _of(kitchen2, "StoveKnob")[0]
    burner = knob.controls[0]
    _put(kitchen2, potato.object_id, pan.object_id)
    _put(kitchen2, pan.object_id, burner)
    assert not potato.is_cooked and potato.temperature == "RoomTemp"
    kitchen2.step(Skill("navigate", knob.object_id))
    assert kitchen2.step(Skill("toggle_on", knob.object_id)).success
    assert potato.is_cooked and potato.temperature == "Hot" and pan.temperature == "Hot"
    # Put in the pan while the burner is lit: cooked at once.
    bread_slice = _bread_slice(kitchen2)
    kitchen2.step(Skill("drop"))
    _put(kitchen2, bread_slice.object_id, pan.object_id)
    assert bread_slice.is_cooked
    # A pan is not cookable; another knob lights another burner, not this one.
    assert not pan.is_cooked


def _bread_slice(world: World) -> SimObject:
    bread = _of(world, "Bread")[0]
    knife = (_of(world, "Knife") or _of(world, "ButterKnife"))[0]
    _hold(world, knife.object_id)
    world.step(Skill("navigate", bread.object_id))
    assert world.step(Skill("slice", bread.object_id)).success
    return next(o for o in _of(world, "BreadSliced") if bread.object_id in o.object_id)


def test_the_toaster_takes_and_toasts_only_bread_slices(kitchen2: World) -> None:
    toaster = _of(kitchen2, "Toaster")[0]
    apple = _of(kitchen2, "Apple")[0]
    _hold(kitchen2, apple.object_id)
    kitchen2.step(Skill("navigate", toaster.object_id))
    refused = kitchen2.step(Skill("put", toaster.object_id))
    assert not refused.success and refused.error_message == "No valid Receptacle found"
    kitchen2.step(Skill("drop"))
    piece = _bread_slice(kitchen2)
    kitchen2.step(Skill("drop"))
    _put(kitchen2, piece.object_id, toaster.object_id)
    assert not piece.is_cooked
    assert kitchen2.step(Skill("toggle_on", toaster.object_id)).success
    assert piece.is_cooked and piece.temperature == "Hot"


def test_coffee_machine_fills_a_mug_with_hot_coffee(kitchen2: World) -> None:
    machine, mug = _of(kitchen2, "CoffeeMachine")[0], _of(kitchen2, "Mug")[0]
    _put(kitchen2, mug.object_id, machine.object_id)
    assert not mug.is_filled
    assert kitchen2.step(Skill("toggle_on", machine.object_id)).success
    assert mug.is_filled and mug.fill_liquid == "coffee" and mug.temperature == "Hot"
    row = next(o for o in kitchen2.metadata()["objects"] if o["objectId"] == mug.object_id)
    assert row["isFilledWithLiquid"] and row["fillLiquid"] == "coffee"
    assert not mug.is_cooked  # hot, not cooked: a mug does not cook


def test_fill_at_a_sink_and_pour_out(kitchen2: World) -> None:
    mug, basin = _of(kitchen2, "Mug")[0], _of(kitchen2, "SinkBasin")[0]
    apple = _of(kitchen2, "Apple")[0]
    _hold(kitchen2, apple.object_id)
    assert "cannot be filled" in kitchen2.step(Skill("fill", apple.object_id)).error_message
    kitchen2.step(Skill("drop"))
    _hold(kitchen2, mug.object_id)
    far = kitchen2.step(Skill("fill", mug.object_id))
    assert not far.success and "SinkBasin" in far.error_message
    kitchen2.step(Skill("navigate", basin.object_id))
    filled = kitchen2.step(Skill("fill", mug.object_id))
    assert filled.success and filled.primitive_steps == 4
    assert mug.is_filled and mug.fill_liquid == "water" and kitchen2.held == mug.object_id
    assert kitchen2.step(Skill("empty", mug.object_id)).success and not mug.is_filled
    again = kitchen2.step(Skill("empty", mug.object_id))
    assert not again.success and again.unchanged
    assert "not filled" in again.error_message


def test_break_an_egg_and_a_television(registry: SceneRegistry, kitchen2: World) -> None:
    egg = _of(kitchen2, "Egg")[0]
    fridge = _of(kitchen2, "Fridge")[0]
    kitchen2.step(Skill("navigate", fridge.object_id))
    kitchen2.step(Skill("open", fridge.object_id))
    _hold(kitchen2, egg.object_id)
    assert kitchen2.step(Skill("break", egg.object_id)).success
    cracked = _of(kitchen2, "EggCracked")
    assert len(cracked) == 1 and egg.is_broken and not egg.pickupable
    assert kitchen2.held is None
    assert kitchen2.step(Skill("break", egg.object_id)).unchanged
    apple = _of(kitchen2, "Apple")[0]
    kitchen2.step(Skill("navigate", apple.object_id))
    assert "not breakable" in kitchen2.step(Skill("break", apple.object_id)).error_message
    living = World(registry.load("FloorPlan201"), registry.affordances)
    tv = _of(living, "Television")[0]
    living.step(Skill("navigate", tv.object_id))
    assert living.step(Skill("toggle_on", tv.object_id)).success
    assert living.step(Skill("break", tv.object_id)).success
    assert tv.is_broken and not tv.is_toggled
    refused = living.step(Skill("toggle_on", tv.object_id))
    assert not refused.success and "broken" in refused.error_message


def test_a_running_microwave_does_not_open(kitchen2: World) -> None:
    oven = _of(kitchen2, "Microwave")[0]
    kitchen2.step(Skill("navigate", oven.object_id))
    if oven.is_open:
        assert kitchen2.step(Skill("close", oven.object_id)).success
    assert kitchen2.step(Skill("toggle_on", oven.object_id)).success
    refused = kitchen2.step(Skill("open", oven.object_id))
    assert not refused.success and "turned off" in refused.error_message


def test_state_with_new_fields_round_trips(kitchen2: World, registry: SceneRegistry) -> None:
    knob = _of(kitchen2, "StoveKnob")[0]
    kitchen2.step(Skill("navigate", knob.object_id))
    kitchen2.step(Skill("toggle_on", knob.object_id))
    mirror = World(registry.load("FloorPlan2"), registry.affordances)
    mirror.set_state(json.loads(json.dumps(kitchen2.state())))
    assert mirror.objects[knob.object_id].controls == knob.controls
    assert mirror.objects[knob.controls[0]].is_toggled
