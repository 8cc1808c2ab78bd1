"""Task format, goal checking (ordered and unordered) and ALFRED reference-plan replay."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from sim import SceneRegistry, Skill
from sim.episode import make_world, replay_reference_plan
from sim.suites import alfred_seen_tasks
from sim.tasks import GoalChecker, TaskFormatError, load_tasks, parse_task, task_to_json


def test_alfred_seen_maps_all_251_tasks_and_seven_types(registry: SceneRegistry) -> None:
    tasks = alfred_seen_tasks(registry.data)
    assert len(tasks) == 251
    assert len({t.task_type for t in tasks}) == 7
    for t in tasks:
        assert parse_task(json.loads(json.dumps(task_to_json(t)))) == t


def test_reference_plans_reach_their_goals(registry: SceneRegistry) -> None:
    tasks = alfred_seen_tasks(registry.data)
    results = [replay_reference_plan(t, registry) for t in tasks]
    ok = sum(r.success for r in results)
    failures = Counter(
        f"{r.failed_action or 'plan ended'}: {r.error.split(':')[0][:40]}"
        for r in results
        if not r.success
    )
    print(f"\nALFRED valid_seen reference plans: {ok}/{len(tasks)} reach their goal")
    for k, v in failures.most_common():
        print(f"  {v:3d}  {k}")
    assert ok / len(tasks) >= 0.95
    # Goal-condition success is never below full success.
    assert all(r.goal_conditions == 1.0 for r in results if r.success)


def test_ordered_subgoals_are_credited_in_order(registry: SceneRegistry) -> None:
    task = parse_task(
        {
            "id": "lamp-on-off",
            "scene": "FloorPlan301",
            "instruction": "turn the lamp on, then off",
            "subgoals": [
                [{"object": "DeskLamp", "state": {"isToggled": True}}],
                [{"object": "DeskLamp", "state": {"isToggled": False}}],
            ],
        }
    )
    world = make_world(task, registry)
    lamp = next(o.object_id for o in world.objects.values() if o.object_type == "DeskLamp")
    world.objects[lamp].is_toggled = False
    checker = GoalChecker(task)
    checker.update(world)
    # Off at the start does not count for the second subgoal: the first must come first.
    assert checker.credited == 0
    world.step(Skill("navigate", lamp))
    assert world.step(Skill("toggle_on", lamp)).success
    checker.update(world)
    assert checker.credited == 1 and not checker.success(world)
    assert world.step(Skill("toggle_off", lamp)).success
    assert checker.success(world) and checker.goal_conditions(world) == 1.0


def test_unordered_goal_counts_and_alternative_types(registry: SceneRegistry) -> None:
    task = parse_task(
        {
            "id": "t",
            "scene": "FloorPlan1",
            "goal": [{"object": ["Apple", "Tomato"], "in": ["Fridge"], "count": 2}],
        }
    )
    world = make_world(task, registry)
    checker = GoalChecker(task)
    assert not checker.success(world)
    inside = sum(
        1
        for o in world.objects.values()
        if o.object_type in ("Apple", "Tomato")
        and o.parent_id
        and world.objects[o.parent_id].object_type == "Fridge"
    )
    assert checker.goal_conditions(world) == min(inside, 2) / 2


def test_bad_task_files_name_the_line(tmp_path: Path, registry: SceneRegistry) -> None:
    p = tmp_path / "tasks.jsonl"
    good = json.dumps(
        {"id": "a", "scene": "FloorPlan1", "goal": [{"object": "Apple", "in": "Fridge"}]}
    )
    p.write_text(good + "\n" + '{"id": "b", "scene": "FloorPlan1"}\n')
    with pytest.raises(
        TaskFormatError, match=r"tasks.jsonl:2: a task needs 'goal' .* 'instruction'"
    ):
        load_tasks(p)
    p.write_text(good + "\nnot json\n")
    with pytest.raises(TaskFormatError, match=r":2:"):
        load_tasks(p)
    p.write_text(
        json.dumps(
            {
                "id": "c",
                "scene": "FloorPlan1",
                "goal": [{"object": "Apple", "state": {"isShiny": True}}],
            }
        )
    )
    with pytest.raises(TaskFormatError, match="state keys"):
        load_tasks(p)
    task = parse_task({"id": "d", "scene": "FloorPlan1", "goal": [{"object": "Toilet"}]})
    with pytest.raises(TaskFormatError, match="no Toilet in scene FloorPlan1"):
        make_world(task, registry)


@pytest.mark.parametrize(
    "text",
    ["[1, 2, 3]", "null", '"str"', "{", "[" * 50_000 + "]" * 50_000,
     '{"id": "t", "scene": "FloorPlan1", "goal": [{"object": "Apple"}], "init": {"agent": 3}}',
     '{"id": "t", "scene": "FloorPlan1", "subgoals": [[]]}'],
    ids=range(7),
)  # fmt: skip
def test_task_json_over_the_wire_is_refused_clearly(text: str) -> None:
    """What sim_node's reset_world and planner_node's goals parse: one error type."""
    from sim.server import parse_task_json
    from sim.tasks import TaskFormatError

    with pytest.raises(TaskFormatError, match="bad task"):
        parse_task_json(text)
