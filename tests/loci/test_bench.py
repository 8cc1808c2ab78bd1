"""`loci bench`: rows, totals, memory modes and workers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from loci.bench import reason_class, run_suite
from loci.cli import main
from sim import SceneRegistry
from sim.suites import load_suite

KEYS = {
    "success_rate",
    "gc_rate",
    "mean_steps",
    "mean_distance",
    "llm_calls",
    "llm_tokens",
    "wall_s",
    "stm_hit_rate",
    "critic_checks",
    "critic_disagreement",
}


def test_lifelong_with_memory_needs_fewer_steps_on_revisits(registry: SceneRegistry) -> None:
    # The whole suite (100 tasks, ~1 s): with navigation by poses from memory, as a robot
    # navigates, memory's gain on revisits is small (1.12x when measured; it was 3.1x when
    # the simulator walked to an object's true place, which a robot cannot), and single
    # sequences go either way (where the agent stands after the last task differs).
    tasks = load_suite("lifelong", registry.data)
    full = run_suite(tasks, registry.data, "full", workers=2)
    none = run_suite(tasks, registry.data, "none", workers=2)
    assert KEYS | {"revisit_mean_steps"} <= set(full["totals"])
    assert [r["task_id"] for r in full["tasks"]] == [t.task_id for t in tasks]
    ratio = none["totals"]["revisit_mean_steps"] / full["totals"]["revisit_mean_steps"]
    print(
        f"\nlifelong revisit steps: none {none['totals']['revisit_mean_steps']:.1f}"
        f" / full {full['totals']['revisit_mean_steps']:.1f} = {ratio:.2f}x"
    )
    assert ratio > 1.05
    hits = {
        name: sum(r["memory_hits"] for r in report["tasks"] if r["sequence_index"] > 0)
        for name, report in (("full", full), ("none", none))
    }
    assert hits["full"] > hits["none"]  # what earlier episodes saw was used
    # The loop judged predicates from memory; the goal checker scored from outside.
    for report in (full, none):
        assert report["totals"]["critic_checks"] > 0
        assert report["totals"]["critic_disagreement"] <= 0.05


def test_lifelong_look_alikes_under_camera_sensing(registry: SceneRegistry) -> None:
    """Two lifelong sequences whose goals name one of several look-alikes, run on the
    camera (rgbd), where memory has no identities: FloorPlan225 (a statue on its shelf
    all along is not the one someone moved; the shelf the goal names was seen only
    edge-on beside a whole one) and FloorPlan423 (the toilet paper put on the floor two
    tasks ago, as asked, is not the one a later task asks for; a hand reaching where one
    was believed does not take another a metre away). Every task is met, and the critic
    agrees with the scorer on every predicate (before: 4 tasks failed here, 5
    disagreements)."""
    tasks = [
        t
        for t in load_suite("lifelong", registry.data)
        if t.sequence in ("lifelong/FloorPlan225", "lifelong/FloorPlan423")
    ]
    assert len(tasks) == 10
    report = run_suite(tasks, registry.data, "full", workers=1, sensing="rgbd")
    assert [(r["task_id"], r["success"]) for r in report["tasks"]] == [
        (t.task_id, True) for t in tasks
    ]
    assert report["totals"]["critic_disagreement"] == 0.0


def test_failure_reasons_are_classed() -> None:
    assert reason_class("") == ""
    assert reason_class("cannot find Mug_291e6e8a") == "not found"
    assert reason_class("no reachable position near SideTable#3") == "unreachable"
    assert reason_class("Apple, in Fridge: not achieved") == "not achieved"
    assert reason_class("goal not met") == "critic believed done"
    assert reason_class("Object failed to open/close successfully.") == "skill error"


def test_cli_writes_json_and_rejects_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "r.json"
    assert (
        main(["bench", "--suite", "alfred-seen", "--limit", "3", "--quiet", "--json", str(out)])
        == 0
    )
    report = json.loads(out.read_text())
    assert len(report["tasks"]) == 3 and set(report["totals"]) >= KEYS
    assert main(["bench", "--suite", "nope", "--quiet"]) == 2
    assert "unknown suite" in capsys.readouterr().err
    # A task its scene cannot hold is a failed row with the reason; the others run.
    bad = tmp_path / "t.jsonl"
    bad.write_text(
        '{"id": "a", "scene": "FloorPlan1", "goal": [{"object": "Toilet"}]}\n'
        '{"id": "b", "scene": "FloorPlan1", "goal": [{"object": "Apple", "held": true}]}\n'
    )
    assert main(["bench", "--tasks", str(bad), "--quiet", "--json", str(out)]) == 0
    rows = {r["task_id"]: r for r in json.loads(out.read_text())["tasks"]}
    assert rows["a"]["error"].startswith("rejected: ") and not rows["a"]["success"]
    assert "no Toilet in scene FloorPlan1" in rows["a"]["error"]
    assert rows["a"]["reason"] == "rejected"
    assert rows["b"]["success"] and rows["b"]["steps"] > 0 and rows["b"]["reason"] == ""
    assert json.loads(out.read_text())["totals"]["failures"] == {"rejected": 1}
    bad.write_text('{"id": "a"}\n')
    assert main(["bench", "--tasks", str(bad), "--quiet"]) == 2
    assert "t.jsonl:1" in capsys.readouterr().err


def test_cli_compares_sensing_modes_side_by_side(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "s.json"
    args = ["bench", "--suite", "alfred-seen", "--limit", "2", "--quiet", "--json", str(out)]
    assert main([*args, "--sensing", "gt,rgbd"]) == 0
    runs = json.loads(out.read_text())["runs"]
    assert set(runs) == {"full/gt", "full/rgbd"}
    assert [runs[k]["totals"]["sensing"] for k in ("full/gt", "full/rgbd")] == ["gt", "rgbd"]
    assert main([*args, "--sensing", "lidar"]) == 2
    assert "--sensing takes gt, rgbd" in capsys.readouterr().err
    assert main([*args, "--body", "gazebo"]) == 2
    assert "unknown body 'gazebo'" in capsys.readouterr().err


def test_tasks_given_in_words_are_translated_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A row with only an instruction: without an LLM a rejected row saying so (the rest
    run; nothing scores an empty goal as met); with one, its goal is written (one call per
    clause), carried out, and its calls counted in the row."""
    from embodiment.scoring import GoalChecker
    from embodiment.tasks import TaskFormatError, parse_task
    from tests.planners.chat_server import ChatServer

    words = parse_task({"id": "w", "scene": "FloorPlan1", "instruction": "chill the apple"})
    assert words.needs_goal
    with pytest.raises(TaskFormatError, match="only an instruction"):
        GoalChecker(words)
    rows_file = tmp_path / "t.jsonl"
    rows_file.write_text(
        '{"id": "w", "scene": "FloorPlan1", '
        '"instruction": "Chill the apple, then open the fridge"}\n'
        '{"id": "b", "scene": "FloorPlan1", "goal": [{"object": "Apple", "held": true}]}\n'
    )
    out = tmp_path / "r.json"
    monkeypatch.delenv("LOCI_LLM_BASE_URL", raising=False)
    assert main(["bench", "--tasks", str(rows_file), "--quiet", "--json", str(out)]) == 0
    rows = {r["task_id"]: r for r in json.loads(out.read_text())["tasks"]}
    assert rows["w"]["reason"] == "rejected" and "an LLM must write its goal" in rows["w"]["error"]
    assert rows["b"]["success"]
    script = [
        ("json", {"object": "Apple", "state": {"isCooled": True}}),
        ("json", {"object": "Fridge", "state": {"isOpen": True}}),
    ]
    with ChatServer(script, lambda _p: {}) as server:
        monkeypatch.setenv("LOCI_LLM_BASE_URL", server.base_url)
        monkeypatch.setenv("LOCI_LLM_MODEL", "scripted")
        assert main(["bench", "--tasks", str(rows_file), "--quiet", "--json", str(out)]) == 0
    rows = {r["task_id"]: r for r in json.loads(out.read_text())["tasks"]}
    assert rows["w"]["success"], rows["w"]["error"]
    assert rows["w"]["llm_calls"] == 2 == len(server.requests) and rows["w"]["llm_tokens"] > 0
