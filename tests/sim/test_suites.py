"""The task suites: sizes, validity against their scenes, and goals not met at the start."""

from __future__ import annotations

from collections import Counter

import pytest

from sim import SceneRegistry
from sim.episode import apply_init, make_world
from sim.suites import load_suite
from sim.tasks import GoalChecker
from sim.world import World


@pytest.fixture(scope="module")
def suites(registry: SceneRegistry) -> dict[str, list]:  # type: ignore[type-arg]
    return {
        name: load_suite(name, registry.data)
        for name in (
            "alfred-seen",
            "rearrange-val",
            "lifelong",
            "household",
            "household-procthor",
            "household-day",
            "household-kitchen",
        )
    }


def test_suite_sizes(suites: dict[str, list]) -> None:  # type: ignore[type-arg]
    assert len(suites["alfred-seen"]) == 251
    # Episodes with no receptacle-level change (a shift along one receptacle, a door opened
    # wider) have no goal this format can state: they are dropped, never faked.
    assert 650 <= len(suites["rearrange-val"]) <= 1000
    seqs = Counter(t.sequence for t in suites["lifelong"])
    assert len(seqs) == 20 and set(seqs.values()) == {5}
    sizes = Counter(t.task_type for t in suites["household"])
    assert set(sizes) == {"household-simple", "household-composite", "household-complex"}
    for t in suites["household"]:
        n = len(t.subgoals)
        lo, hi = {
            "household-simple": (1, 2),
            "household-composite": (3, 4),
            "household-complex": (5, 6),
        }[t.task_type]
        assert lo <= n <= hi and t.ordered
    # The same recipe on the 20 ProcTHOR houses, three sizes each.
    assert len(suites["household-procthor"]) == 60
    days = Counter(t.sequence for t in suites["household-day"])
    assert len(days) == 20 and set(days.values()) == {5}
    assert all(3 <= len(t.subgoals) <= 4 for t in suites["household-day"])
    # The kitchens: every kitchen state is asked for somewhere.
    kitchen = suites["household-kitchen"]
    assert len(kitchen) == 90 and {t.scene for t in kitchen} == {
        f"FloorPlan{n}" for n in range(1, 31)
    }
    preds = [p for t in kitchen for sg in t.subgoals for p in sg]
    asked = {(k, str(v)) for p in preds for k, v in p.state.items()}
    for state in (
        ("isCooked", "True"),
        ("isFilledWithLiquid", "True"),
        ("isFilledWithLiquid", "False"),
        ("temperature", "Cold"),
    ):
        assert state in asked
    pieces = {t for p in preds for t in p.object_types}
    assert {"BreadSliced", "EggCracked"} <= pieces
    assert any("Pan" in p.in_types or "Pot" in p.in_types for p in preds)
    assert any("CoffeeMachine" in p.in_types for p in preds)


def test_a_household_day_moves_what_the_next_task_asks_for_onto_a_surface(
    suites: dict[str, list],  # type: ignore[type-arg]
    registry: SceneRegistry,
) -> None:
    """Between two tasks of a day someone else sets things the next task asks for on
    another surface; nothing sliced earlier that day is asked for again."""
    from sim.suites.household import _SURFACES

    day = [t for t in suites["household-day"] if t.sequence.endswith("/house_0")]
    world = make_world(day[0], registry)
    sliced: set[str] = set()
    for k, task in enumerate(day):
        if k == 0:
            sliced |= {
                t
                for sg in task.subgoals
                for p in sg
                if p.state.get("isSliced")
                for t in p.object_types
            }
            continue
        wants = {t for sg in task.subgoals for p in sg for t in p.object_types}
        assert not wants & sliced
        apply_init(world, task)
        for move in task.init.get("moves", []):
            (thing,) = [o for o in world.objects.values() if o.name == move["objectName"]]
            assert thing.object_type in wants
            assert thing.parent_id is not None
            assert world.objects[thing.parent_id].object_type in _SURFACES
        sliced |= {
            t for sg in task.subgoals for p in sg if p.state.get("isSliced") for t in p.object_types
        }


def test_every_task_sets_up_and_starts_unsolved(
    suites: dict[str, list],
    registry: SceneRegistry,  # type: ignore[type-arg]
) -> None:
    unsolved: Counter[str] = Counter()
    for name, tasks in suites.items():
        worlds: dict[str, World] = {}
        for t in tasks:
            if t.sequence and t.sequence_index > 0:
                world = worlds[t.sequence]
                apply_init(world, t)
            else:
                world = make_world(t, registry)
                worlds[t.sequence] = world
            checker = GoalChecker(t)
            if not checker.success(world):
                unsolved[name] += 1
        assert unsolved[name] >= 0.9 * len(tasks), (name, unsolved[name], len(tasks))
    print(f"\nunsolved at start: {dict(unsolved)}")


def test_lifelong_moves_only_some_objects(
    suites: dict[str, list],  # type: ignore[type-arg]
    registry: SceneRegistry,
) -> None:
    seq = [t for t in suites["lifelong"] if t.sequence == "lifelong/FloorPlan24"]
    world = make_world(seq[0], registry)
    before = {o.name: o.position for o in world.objects.values() if o.pickupable}
    apply_init(world, seq[1])
    after = {o.name: o.position for o in world.objects.values() if o.pickupable}
    moved = {n for n in before if before[n] != after.get(n)}
    assert moved == {m["objectName"] for m in seq[1].init["moves"]}
    assert 0 < len(moved) < len(before)


def test_rearrangement_tasks_carry_their_walkthrough(
    suites: dict[str, list],  # type: ignore[type-arg]
    registry: SceneRegistry,
) -> None:
    """The walkthrough is the room as the goal leaves it: there, every goal holds."""
    from sim.episode import walkthrough_world

    tasks = [t for t in suites["rearrange-val"] if t.scene == "FloorPlan424"][:10]
    for t in tasks:
        world = walkthrough_world(t, registry)
        assert world is not None
        assert GoalChecker(t).success(world), t.task_id
    assert walkthrough_world(suites["alfred-seen"][0], registry) is None
