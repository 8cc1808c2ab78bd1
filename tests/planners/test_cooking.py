"""Programs for AI2-THOR's kitchen states: cooking (stove, toaster, microwave), filling
and emptying, coffee, cracked eggs, temperature; the beliefs they leave where a camera
senses no state."""

from __future__ import annotations

from typing import Any

import pytest

from embodiment.body import BodyState
from embodiment.skills import Skill, StepResult
from memory_core import ObjectObservation, Pose
from planners.effects import skill_effects
from planners.executive import EpisodeResult, Executive
from planners.observe import new_memory
from sim import SceneRegistry
from sim.body import BuiltinBody
from sim.episode import make_world
from sim.tasks import WorldScorer, parse_task


def _run(
    registry: SceneRegistry, scene: str, sensing: str = "gt", **goal: Any
) -> tuple[EpisodeResult, list[tuple[Skill, StepResult]]]:
    task = parse_task({"id": "k", "scene": scene, **goal})
    world = make_world(task, registry)
    steps: list[tuple[Skill, StepResult]] = []
    executive = Executive(
        BuiltinBody(world, sensing),
        new_memory(),
        registry.affordances,
        on_step=lambda s, r: steps.append((s, r)),
    )
    return executive.run(task, WorldScorer(task, world)), steps


def test_stove_cooking_finds_the_knob_that_lights_the_burner(registry: SceneRegistry) -> None:
    """FloorPlan2's knobs are not wired to the burners nearest them: the planner lights
    knob after knob, looking at the burner, until it burns, and turns each off again."""
    result, steps = _run(
        registry,
        "FloorPlan2",
        goal=[{"object": "Potato", "in": ["Pan"], "state": {"isCooked": True}}],
    )
    assert result.success, result.error
    ons = [s.target for s, r in steps if s.name == "toggle_on"]
    offs = [s.target for s, r in steps if s.name == "toggle_off"]
    assert ons and ons == offs and all("StoveKnob" in (t or "") for t in ons)
    assert len(ons) > 1  # the nearest knob lights another burner here
    assert not any(s.name == "heat" for s, _ in steps)  # not the microwave


@pytest.mark.parametrize(
    ("goal", "skill"),
    [
        ([{"object": "BreadSliced", "state": {"isCooked": True}}], "toggle_on"),
        ([{"object": "Potato", "state": {"isCooked": True}}], "heat"),
        (
            [{"object": "Mug", "in": ["CoffeeMachine"], "state": {"isFilledWithLiquid": True}}],
            "toggle_on",
        ),
        ([{"object": "EggCracked", "in": ["Pan"], "state": {"isCooked": True}}], "break"),
        ([{"object": "Tomato", "state": {"temperature": "Cold"}}], "cool"),
    ],
    ids=["toast", "microwave", "coffee", "fried-egg", "chill"],
)
def test_kitchen_goals(registry: SceneRegistry, goal: list[Any], skill: str) -> None:
    result, steps = _run(registry, "FloorPlan1", goal=goal)
    assert result.success, result.error
    assert any(s.name == skill for s, _ in steps)


def test_fill_then_empty_and_no_undo_of_cooking(registry: SceneRegistry) -> None:
    result, steps = _run(
        registry,
        "FloorPlan1",
        subgoals=[
            [{"object": "Pot", "state": {"isFilledWithLiquid": True}}],
            [{"object": "Pot", "state": {"isFilledWithLiquid": False}}],
        ],
    )
    assert result.success, result.error
    names = [s.name for s, r in steps if r.success]
    assert names.index("fill") < names.index("empty")
    # Nothing un-cooks a potato: said plainly, not tried.
    undo, _ = _run(
        registry,
        "FloorPlan1",
        subgoals=[
            [{"object": "Potato", "state": {"isCooked": True}}],
            [{"object": "Potato", "state": {"isCooked": False}}],
        ],
    )
    assert not undo.success and "no skill makes a Potato isCooked=False" in undo.error


def test_beliefs_of_kitchen_skills_without_state_sensing(registry: SceneRegistry) -> None:
    """A camera senses no state: the skill's effects say the potato heated in the
    microwave is hot and cooked, and a lit knob heats what stands on its burner."""
    memory = new_memory()
    t = 1.0
    memory.observe(
        [
            ObjectObservation("Potato", (0.0, 1.0, 0.0), object_id="P"),
            ObjectObservation("StoveKnob", (1.0, 0.9, 0.0), object_id="K"),
            ObjectObservation("StoveBurner", (1.0, 0.9, 0.5), object_id="B"),
            ObjectObservation("Pan", (1.0, 0.95, 0.5), object_id="N", parent_id="B"),
            ObjectObservation("PotatoSliced", (1.0, 1.0, 0.5), object_id="S", parent_id="N"),
        ],
        t=t,
    )
    here = BodyState(Pose((0.0, 0.0, 0.0)), up_axis="y")
    aff = registry.affordances
    heated = skill_effects(StepResult(Skill("heat", "P"), True), here, memory, t, aff)
    assert heated[0].state == {"isHeated": True, "temperature": "Hot", "isCooked": True}
    lit = skill_effects(StepResult(Skill("toggle_on", "K"), True), here, memory, t, aff)
    by_id = {o.object_id: o.state for o in lit}
    assert by_id["B"] == {"isToggled": True}
    assert by_id["S"]["isCooked"] is True and by_id["N"]["temperature"] == "Hot"
    assert "isCooked" not in by_id["N"]  # a pan is not cooked
    # Without the affordances, no contextual rule is guessed.
    assert len(skill_effects(StepResult(Skill("toggle_on", "K"), True), here, memory, t)) == 1
