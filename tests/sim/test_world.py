"""World model: AI2-THOR preconditions/effects, visibility, metadata shape, determinism."""

from __future__ import annotations

import json

import pytest

from sim import SceneRegistry, Skill, World
from tests.conftest import DATA


def _first(world: World, otype: str) -> str:
    """The first object of a type that no closed container hides."""
    return next(
        o.object_id
        for o in sorted(world.objects.values(), key=lambda o: o.object_id)
        if o.object_type == otype and not world.enclosed(o.object_id)
    )


@pytest.fixture
def kitchen(registry: SceneRegistry) -> World:
    return World(registry.load("FloorPlan1"), registry.affordances)


def test_closed_fridge_hides_its_contents_until_opened(kitchen: World) -> None:
    fridge = next(o for o in kitchen.objects.values() if o.object_type == "Fridge")
    assert not fridge.is_open and fridge.children
    egg = fridge.children[0]
    assert kitchen.step(Skill("navigate", egg)).success
    assert not kitchen.is_visible(egg) and egg not in kitchen.visible_objects()
    failed = kitchen.step(Skill("pickup", egg))
    assert not failed.success and "not visible" in failed.error_message
    assert kitchen.step(Skill("open", fridge.object_id)).success
    assert kitchen.is_visible(egg)
    assert kitchen.step(Skill("pickup", egg)).success and kitchen.held == egg
    meta = {o["objectId"]: o for o in kitchen.metadata()["objects"]}
    assert meta[egg]["isPickedUp"] and meta[egg]["parentReceptacles"] is None
    assert egg not in meta[fridge.object_id]["receptacleObjectIds"]


def test_receptacle_rules_follow_the_metadata(kitchen: World, registry: SceneRegistry) -> None:
    aff = registry.affordances
    facts = json.loads((DATA / "ai2thor_object_metadata/alfred_object_facts.json").read_text())
    allowed = facts["receptacle_to_allowed_objects"]
    assert aff.can_place("Egg", "Fridge") and "Egg" in allowed["Fridge"]
    assert not aff.can_place("Egg", "CoffeeMachine") and allowed["CoffeeMachine"] == ["Mug"]
    for rec, objs in allowed.items():
        for obj in objs:
            assert aff.can_place(obj, rec)
    # In the world: a mug goes into the coffee machine, an apple does not.
    apple, machine = _first(kitchen, "Apple"), _first(kitchen, "CoffeeMachine")
    kitchen.step(Skill("navigate", apple))
    assert kitchen.step(Skill("pickup", apple)).success
    kitchen.step(Skill("navigate", machine))
    r = kitchen.step(Skill("put", machine))
    assert not r.success and r.error_message == "No valid Receptacle found"
    assert kitchen.held == apple


def test_state_changes(kitchen: World) -> None:
    apple, knife = _first(kitchen, "Apple"), _first(kitchen, "ButterKnife")
    kitchen.step(Skill("navigate", apple))
    r = kitchen.step(Skill("slice", apple))
    assert not r.success and "knife" in r.error_message
    kitchen.step(Skill("navigate", knife))
    assert kitchen.step(Skill("pickup", knife)).success
    kitchen.step(Skill("navigate", apple))
    assert kitchen.step(Skill("slice", apple)).success
    assert kitchen.objects[apple].is_sliced
    assert not kitchen.step(Skill("slice", apple)).success
    # Heat needs the thing in hand and a microwave in reach.
    mug = _first(kitchen, "Mug")
    kitchen.step(Skill("drop"))
    kitchen.step(Skill("navigate", mug))
    assert kitchen.step(Skill("pickup", mug)).success
    assert not kitchen.step(Skill("heat", mug)).success  # no microwave in reach here
    kitchen.step(Skill("navigate", _first(kitchen, "Microwave")))
    assert kitchen.step(Skill("heat", mug)).success
    assert kitchen.objects[mug].temperature == "Hot"
    # Toggling: a light switch on, twice is an error.
    sw = _first(kitchen, "LightSwitch")
    kitchen.step(Skill("navigate", sw))
    first = kitchen.objects[sw].is_toggled
    assert kitchen.step(Skill("toggle_off" if first else "toggle_on", sw)).success
    again = kitchen.step(Skill("toggle_off" if first else "toggle_on", sw))
    # It says why: the switch already was as asked (the agent learns its state from this).
    assert not again.success and again.unchanged
    fridge = _first(kitchen, "Fridge")
    kitchen.step(Skill("navigate", fridge))
    assert kitchen.step(Skill("open", fridge)).success
    twice = kitchen.step(Skill("open", fridge))
    assert not twice.success and twice.unchanged
    assert twice.error_message == "Object failed to open/close successfully."
    # Failing for another reason is not "unchanged".
    assert not kitchen.step(Skill("slice", apple)).unchanged


def test_invalid_actions_fail_cleanly(kitchen: World) -> None:
    for skill, msg in [
        (Skill("teleport", "x"), "Invalid action: teleport"),
        (Skill("pickup", "Nope|1|2|3"), "is not the objectId on any object"),
        (Skill("pickup"), "needs a target"),
        (Skill("put", _first(kitchen, "CounterTop")), "not holding"),
        (Skill("open", _first(kitchen, "CounterTop")), "not openable"),
        (Skill("pickup", _first(kitchen, "Fridge")), "not pickupable"),
    ]:
        r = kitchen.step(skill)
        assert not r.success and msg in r.error_message, (skill, r.error_message)
        assert kitchen.metadata()["errorMessage"] == r.error_message
        assert not kitchen.metadata()["lastActionSuccess"]


def test_metadata_fields_match_ai2thor(kitchen: World) -> None:
    recorded = json.loads(
        (
            DATA
            / "ai2thor_recorded/rl_thor_events/objects_metadata_samples/FloorPlan1_physics.json"
        ).read_text()
    )
    real_keys = set(next(iter(recorded.values())))
    meta = kitchen.metadata()
    ours = set(meta["objects"][0])
    assert ours == real_keys, ours ^ real_keys
    schema = json.loads(
        (DATA / "ai2thor_recorded/ai2thor_tests_data/metadata-schema.json").read_text()
    )
    agent_keys = set(schema["properties"]["agent"]["properties"])
    assert {"position", "rotation", "cameraHorizon"} <= agent_keys & set(meta["agent"])
    assert {"objects", "agent", "lastActionSuccess", "errorMessage", "inventoryObjects"} <= set(
        schema["properties"]
    ) | {"inventoryObjects"}
    # The recorded scene loads with the recorded ids, positions and states.
    for oid, m in recorded.items():
        o = kitchen.objects[oid]
        assert o.object_type == m["objectType"] and o.openness == (
            m["openness"] if m["openable"] else 0
        )


def test_navigation_counts_steps_and_is_deterministic(registry: SceneRegistry) -> None:
    spec = registry.load("procthor/houses_20/house_1")
    runs = []
    for _ in range(2):
        w = World(spec, registry.affordances)
        results = [w.step(Skill("navigate", r.room_id)) for r in spec.rooms]
        runs.append([(r.success, r.primitive_steps, r.distance_m) for r in results])
        moved = [r for r in results if r.success and r.distance_m > 0]
        assert all(r.primitive_steps >= r.distance_m / 0.25 for r in moved)
        assert w.steps_taken == sum(max(r.primitive_steps, 1) for r in results)
    assert runs[0] == runs[1]


def test_state_round_trips_through_json_and_bad_state_changes_nothing(
    registry: SceneRegistry,
) -> None:
    from sim.errors import SimError

    world = World(registry.load("FloorPlan1"), registry.affordances)
    apple = next(o for o, so in world.objects.items() if so.object_type == "Apple")
    assert world.step(Skill("navigate", apple)).success
    assert world.step(Skill("pickup", apple)).success
    twin = World(registry.load("FloorPlan1"), registry.affordances)
    twin.set_state(json.loads(json.dumps(world.state())))
    assert twin.metadata() == world.metadata()
    assert twin.visible_objects() == world.visible_objects()
    assert twin.held == apple and twin.steps_taken == world.steps_taken
    before = twin.metadata()
    broken = world.state()
    broken["held"] = "NoSuchObject|1|2|3"
    with pytest.raises(SimError, match="held object"):
        twin.set_state(broken)
    with pytest.raises(SimError, match="malformed world state"):
        twin.set_state({"objects": [{"object_id": "x"}]})
    assert twin.metadata() == before
