"""Task files: every malformed line is one clear error at parse time (``loci tasks``,
``bench`` and ``run`` share the parser), never a traceback later."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from embodiment.tasks import TaskFormatError, load_tasks, parse_task
from loci.cli import main

GOOD: dict[str, Any] = {
    "id": "t1",
    "scene": "FloorPlan1",
    "goal": [{"object": "Apple", "in": "Fridge"}],
}
POSE = {"objectName": "Apple_1", "position": {"x": 1.0, "y": 0.9, "z": 1.0}}


def _with(**changes: Any) -> dict[str, Any]:
    return {**GOOD, **changes}


BAD_LINES: list[tuple[str, str]] = [
    ("[1, 2, 3]", "must be a JSON object"),
    ("null", "must be a JSON object"),
    ('"str"', "must be a JSON object"),
    ("[" * 100_000 + "]" * 100_000, "t.jsonl:1"),
    (json.dumps(_with(subgoals=[[]], goal=None)), "subgoals[0]"),
    (json.dumps(_with(id="\ud800")), "not valid Unicode"),
    (json.dumps(_with(sequence_index=1e400)), "sequence_index"),
    (json.dumps(_with(sequence_index="3")), "sequence_index"),
    (json.dumps(_with(init=[1])), "'init' must be an object"),
    (json.dumps(_with(init={"agent": {"x": 1e400, "z": 0}})), "init.agent.x"),
    (json.dumps(_with(init={"agent": {"x": 1e9, "z": 0}})), "init.agent.x"),
    (json.dumps(_with(init={"agent": {"z": 0}})), "init.agent.x"),
    (json.dumps(_with(init={"agent": 5})), "init.agent must be an object"),
    (json.dumps(_with(init={"object_poses": {"a": 1}})), "init.object_poses must be a list"),
    (json.dumps(_with(init={"object_poses": [1]})), "init.object_poses must be a list"),
    (json.dumps(_with(init={"object_poses": [{}]})), "objectName"),
    (json.dumps(_with(init={"object_poses": [{**POSE, "position": None}]})), "position"),
    (
        json.dumps(
            _with(init={"object_poses": [{**POSE, "position": {"x": "a", "y": 0, "z": 0}}]})
        ),
        "position.x",
    ),
    (
        '{"id": "t", "scene": "s", "goal": [{"object": "Apple"}], "init": {"moves": '
        '[{"objectName": "A", "position": {"x": NaN, "y": 0, "z": 0}}]}}',
        "position.x",
    ),
    (json.dumps(_with(init={"moves": [{**POSE, "rotation": [1]}]})), "rotation"),
    (json.dumps(_with(init={"openness": [{"objectId": "F", "openness": 7}]})), "openness"),
    (json.dumps(_with(init={"walkthrough": 3})), "init.walkthrough: 'init' must be an object"),
    (
        json.dumps(_with(init={"walkthrough": {"object_poses": [{}]}})),
        "init.walkthrough: init.object_poses[0].objectName",
    ),
    (
        json.dumps(_with(init={"walkthrough": {"walkthrough": {}}})),
        "cannot hold another walkthrough",
    ),
    (json.dumps(_with(init={"openness": [{"openness": 1}]})), "objectId"),
    (json.dumps(_with(init={"object_toggles": [{"objectType": "Lamp"}]})), "isOn"),
    (json.dumps(_with(init={"object_toggles": "on"})), "object_toggles"),
    (
        json.dumps(_with(goal=[{"object": "Mug", "state": {"temperature": "warm"}}])),
        "temperature must be one of",
    ),
    (
        json.dumps(_with(goal=[{"object": "Mug", "state": {"isFilledWithLiquid": "yes"}}])),
        "isFilledWithLiquid must be true or false",
    ),
]


@pytest.mark.parametrize(("line", "message"), BAD_LINES, ids=range(len(BAD_LINES)))
def test_malformed_lines_are_one_clear_error(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text(line + "\n", encoding="utf-8")
    with pytest.raises(TaskFormatError, match=r"t\.jsonl:1") as info:
        load_tasks(path)
    assert message in str(info.value)


@pytest.mark.parametrize(
    "raw", [b"\xff\xfe\x00\x01binary", "{}".encode("utf-16"), b"\x80\x81"], ids=range(3)
)
def test_files_that_are_not_utf8_text_are_refused(tmp_path: Path, raw: bytes) -> None:
    path = tmp_path / "t.jsonl"
    path.write_bytes(raw)
    with pytest.raises(TaskFormatError, match="not UTF-8 text"):
        load_tasks(path)


def test_the_commands_say_loci_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text(json.dumps(_with(init={"agent": {"x": float("inf"), "z": 0}})) + "\n")
    for command in (["tasks", "--tasks"], ["bench", "--quiet", "--tasks"], ["run", "--tasks"]):
        assert main([*command, str(path)]) == 2
        err = capsys.readouterr().err
        assert err.startswith("loci: error:") and "init.agent.x" in err


def test_a_good_task_with_every_init_block_parses() -> None:
    task = parse_task(
        _with(
            init={
                "object_poses": [POSE],
                "moves": [{**POSE, "rotation": {"x": 0, "y": 90, "z": 0}}],
                "object_toggles": [{"objectType": "DeskLamp", "isOn": True}],
                "openness": [{"objectId": "Fridge|1", "openness": 0.5}],
                "agent": {"x": 1.0, "z": -2.0, "rotation": 90},
            },
            sequence="s",
            sequence_index=2,
        )
    )
    assert task.init["agent"]["x"] == 1.0 and task.sequence_index == 2


_json = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=True) | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=20,
)
_task_like = st.fixed_dictionaries(
    {"id": st.text(min_size=1, max_size=6), "scene": st.text(min_size=1, max_size=6)},
    optional={"goal": _json, "subgoals": _json, "init": _json, "sequence_index": _json,
              "instruction": _json, "ordered": _json},
)  # fmt: skip


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(_json, _task_like))
def test_any_json_line_parses_or_is_refused_clearly(value: Any) -> None:
    """Property: whatever a line holds, the parser returns a task or raises TaskFormatError
    (through ``load_tasks``): nothing else escapes."""
    # load_tasks turns these into TaskFormatError; anything else escapes and fails the test.
    with contextlib.suppress(ValueError, TypeError, RecursionError):
        parse_task(value)


def test_pieces_name_what_they_are_made_from() -> None:
    from embodiment.tasks import check_types_exist, made_from

    assert made_from("AppleSliced") == "Apple" and made_from("EggCracked") == "Egg"
    assert made_from("Mug") == "Mug"
    egg = parse_task({**GOOD, "goal": [{"object": "EggCracked", "in": ["Pan"]}]})
    check_types_exist(egg, ["Egg", "Pan"])
    with pytest.raises(TaskFormatError, match="no EggCracked"):
        check_types_exist(egg, ["Apple", "Pan"])


def test_navigation_goals_parse_and_round_trip() -> None:
    from embodiment.tasks import task_to_json

    task = parse_task(
        {
            "id": "nav",
            "scene": "hm3d/TEEsavR23oF",
            "subgoals": [
                [{"object": ["bed"], "near": 1.5}],
                [{"at": [1.5, 0.1, -2.0], "near": 0.2}],
                [{"object": "Mug", "in": "Sink", "near": 1.0}],
            ],
        }
    )
    bed, point, mug = (sg[0] for sg in task.subgoals)
    assert bed.near == 1.5 and bed.at is None
    assert point.object_types == () and point.at == (1.5, 0.1, -2.0) and point.near == 0.2
    assert mug.in_types == ("Sink",) and mug.near == 1.0
    assert "within 0.2 m of (1.5, 0.1, -2)" in point.describe()
    assert parse_task(task_to_json(task)) == task


@pytest.mark.parametrize(
    ("pred", "message"),
    [
        ({"object": "bed", "near": 0}, "near must be a distance > 0"),
        ({"object": "bed", "near": -1}, "near must be a distance > 0"),
        ({"object": "bed", "near": 1e9}, "near must be finite and within"),
        ({"object": "bed", "near": "1"}, "near must be a number"),
        ({"at": [0, 0, 0]}, "takes only 'near'"),
        ({"at": [0, 0, 0], "near": 1, "object": "bed"}, "takes only 'near'"),
        ({"at": [0, 0], "near": 1}, r"at must be \[x, y, z\]"),
        ({"at": [0, float("nan"), 0], "near": 1}, "at must be finite"),
        ({"at": "here", "near": 1}, r"at must be \[x, y, z\]"),
    ],
)
def test_bad_navigation_goals_are_refused(pred: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_task({"id": "t", "scene": "s", "goal": [pred]})
