"""The critic judges predicates from memory and the body's state; skill effects feed it."""

from __future__ import annotations

import pytest

from embodiment import BodyState, Skill, StepResult
from embodiment.tasks import parse_task
from memory_core import Box3D, Layer, Memory, ObjectObservation, Pose
from planners.critic import believed_count
from planners.effects import skill_effects
from planners.observe import new_memory

FRIDGE, EGG, MUG = "Fridge|1", "Egg|1", "Mug|1"


def _memory() -> Memory:
    mem = new_memory()
    mem.observe(
        [
            ObjectObservation(
                "Fridge",
                (0.0, 0.9, 0.0),
                object_id=FRIDGE,
                layer=Layer.RECEPTACLE,
                state={"isOpen": False},
            ),
            ObjectObservation(
                "Egg", (0.0, 0.8, 0.1), object_id=EGG, parent_id=FRIDGE, name="Egg_a1b2"
            ),
            ObjectObservation("Mug", (3.0, 0.0, 3.0), object_id=MUG, layer=Layer.OBJECT),
        ],
        t=1.0,
    )
    return mem


def _pred(**d: object):  # type: ignore[no-untyped-def]
    return parse_task({"id": "t", "scene": "s", "goal": [d]}).predicates[0]


IDLE = BodyState(Pose((0.0, 0.0, 0.0)), up_axis="y")


def test_relations_states_names_and_the_floor() -> None:
    mem = _memory()
    assert believed_count(_pred(object="Egg", **{"in": "Fridge"}), mem, IDLE) == 1
    assert believed_count(_pred(object="Egg", **{"in": "CounterTop"}), mem, IDLE) == 0
    assert believed_count(_pred(object="Egg", **{"in": FRIDGE}), mem, IDLE) == 1
    assert believed_count(_pred(object="Egg", name="Egg_a1b2"), mem, IDLE) == 1
    assert believed_count(_pred(object="Egg", name="Egg_zzzz"), mem, IDLE) == 0
    assert believed_count(_pred(object="Fridge", state={"isOpen": True}), mem, IDLE) == 0
    assert believed_count(_pred(object="Mug", **{"in": "Floor"}), mem, IDLE) == 1
    assert believed_count(_pred(object="Mug", count=2), mem, IDLE) == 1


def test_what_is_held_is_in_no_receptacle() -> None:
    mem = _memory()
    holding = BodyState(Pose((0.0, 0.0, 0.0)), held=EGG, held_label="Egg", up_axis="y")
    assert believed_count(_pred(object="Egg", held=True), mem, holding) == 1
    assert believed_count(_pred(object="Egg", held=True), mem, IDLE) == 0
    assert believed_count(_pred(object="Egg", **{"in": "Fridge"}), mem, holding) == 0


def test_successful_skills_become_beliefs_and_failures_do_not() -> None:
    mem = _memory()
    opened = StepResult(Skill("open", FRIDGE), True)
    mem.observe(skill_effects(opened, IDLE, mem, 2.0), t=2.0)
    assert mem.graph.node(FRIDGE).state["isOpen"] is True
    failed = StepResult(Skill("close", FRIDGE), False, "too far")
    assert skill_effects(failed, IDLE, mem, 3.0) == []
    holding = BodyState(Pose((0.0, 0.0, 0.0)), held=MUG, held_label="Mug", up_axis="y")
    put = StepResult(Skill("put", FRIDGE), True)
    mem.observe(skill_effects(put, holding, mem, 4.0), t=4.0)
    assert mem.graph.support_of(MUG) == (FRIDGE, mem.graph.support_of(EGG)[1])  # type: ignore[index]
    assert believed_count(_pred(object="Mug", **{"in": "Fridge"}), mem, IDLE) == 1


def test_a_thing_on_nothing_known_is_on_the_floor_only_when_low() -> None:
    """A camera sees the top of a thing on the floor, not where it touches it; a thing on
    nothing memory knows 0.8 m up rests on something unseen, not on the floor."""
    mem = new_memory()
    low, high = Box3D((2.0, 0.12, 2.0), (0.1, 0.12, 0.1)), Box3D((4.0, 0.83, 2.0), (0.1, 0.1, 0.1))
    mem.observe(
        [
            ObjectObservation("SoapBar", low.center, box=low),
            ObjectObservation("ToiletPaper", high.center, box=high),
        ],
        t=1.0,
    )
    assert believed_count(_pred(object="SoapBar", **{"in": "Floor"}), mem, IDLE) == 1
    assert believed_count(_pred(object="ToiletPaper", **{"in": "Floor"}), mem, IDLE) == 0


def test_a_thing_put_on_a_long_counter_is_believed_on_its_near_side() -> None:
    """Unseen after the put, the mug is believed where a hand reaches from where the agent
    stands (inside the counter's footprint), not at the counter's centre 1.5 m away."""
    mem = new_memory()
    counter = Box3D((0.0, 0.45, 0.0), (3.0, 0.9, 0.6))
    mem.observe(
        [
            ObjectObservation(
                "CounterTop", counter.center, box=counter, object_id="C", layer=Layer.RECEPTACLE
            ),
            ObjectObservation("Mug", (5.0, 0.0, 5.0), object_id=MUG, layer=Layer.OBJECT),
        ],
        t=1.0,
    )
    agent = BodyState(Pose((1.4, 0.0, -1.0)), held=MUG, held_label="Mug", up_axis="y")
    (put, *_rest) = skill_effects(StepResult(Skill("put", "C"), True), agent, mem, 2.0)
    assert put.parent_id == "C"
    assert put.position[0] == pytest.approx(1.4)
    assert put.position[2] == pytest.approx(-0.2)  # 10 cm inside the near edge
    assert put.position[1] == counter.center[1]
