"""The `loci` command: the demo that `make run` runs, and clear errors on bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from loci.cli import main
from memory_core import Memory, SQLiteStore


def test_run_main_job_writes_a_report_and_memory_helps(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "task 1: success" in out and "task 2: success" in out
    with_memory = int(out.split("task 2: success, ")[1].split(" steps")[0])
    without = int(out.split("task 2 again with an empty memory: ")[1].split(" steps")[0])
    assert with_memory < without
    for name in ("index.html", "map.png", "subgraph.png", "memory.db"):
        assert (tmp_path / name).stat().st_size > 0
    assert (tmp_path / "map.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    mem = Memory()
    with SQLiteStore(tmp_path / "memory.db") as store:
        mem.load(store)
    assert len(mem.episodic) > 0 and len(mem.graph) > 0


def test_run_rejects_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert main(["run", "--out", str(tmp_path), "--scene", "FloorPlan999"]) == 2
    assert "unknown scene" in capsys.readouterr().err
    monkeypatch.delenv("LOCI_LLM_BASE_URL", raising=False)
    assert main(["run", "--out", str(tmp_path), "--planner", "llm"]) == 2
    assert "needs an endpoint" in capsys.readouterr().err
    assert main(["run", "--out", str(tmp_path), "--fallback", "llm"]) == 2
    assert "--fallback llm needs an endpoint" in capsys.readouterr().err
    assert main(["bench", "--suite", "household", "--fallback", "llm", "--quiet"]) == 2
    assert "--fallback llm needs" in capsys.readouterr().err
    monkeypatch.setenv("LOCI_LLM_BASE_URL", "http://127.0.0.1:9/v1")  # nothing listens there
    monkeypatch.setenv("LOCI_LLM_MODEL", "m")
    assert main(["run", "--out", str(tmp_path / "y"), "--planner", "llm"]) == 2
    assert "unreachable" in capsys.readouterr().err
    # A run folder that already holds a memory is refused before anything runs, and kept.
    kept = tmp_path / "x"
    kept.mkdir()
    (kept / "memory.db").write_bytes(b"earlier memory")
    assert main(["run", "--out", str(kept)]) == 2
    assert "already holds a run (memory.db)" in capsys.readouterr().err
    assert (kept / "memory.db").read_bytes() == b"earlier memory"
    assert sorted(p.name for p in kept.iterdir()) == ["memory.db"]


def test_memory_demo_builds_queries_persists_and_reloads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["memory-demo", "--out", str(tmp_path), "--config", "configs/memory.yaml"]) == 0
    out = capsys.readouterr().out
    assert "house house_0.json: 57 nodes" in out
    assert "reload identical: True" in out
    mem = Memory()
    with SQLiteStore(tmp_path / "memory.db") as store:
        mem.load(store)
    assert len(mem.graph) == 57 and len(mem.episodic) == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--house", "no/such/house.json"], "house file"),
        (["--data-dir", "no/such/dir"], "data folder"),
    ],
)
def test_bad_arguments_exit_non_zero_with_a_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert main(["memory-demo", "--out", str(tmp_path), *args]) == 2
    assert message in capsys.readouterr().err


def test_bad_config_is_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("stm: {policy: 3}")
    assert main(["memory-demo", "--out", str(tmp_path), "--config", str(cfg)]) == 2
    assert "stm.policy" in capsys.readouterr().err


def test_scenes_lists_every_scene_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    assert main(["scenes", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 150
    fp1 = next(r for r in rows if r["scene"] == "FloorPlan1")
    assert fp1["inferred"] == 0 and fp1["room_types"] == ["Kitchen"]
    assert sum(r["inferred"] for r in rows) > 0
    assert {r["kind"] for r in rows} == {"ithor", "procthor"}


def test_an_llm_that_stops_at_once_still_leaves_memory_and_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.planners.chat_server import ChatServer

    with ChatServer([], lambda _p: {"skill": "done", "target": ""}) as server:
        monkeypatch.setenv("LOCI_LLM_BASE_URL", server.base_url)
        monkeypatch.setenv("LOCI_LLM_MODEL", "scripted")
        code = main(
            ["run", "--out", str(tmp_path / "r"), "--planner", "llm", "--scene", "FloorPlan1"]
        )
    assert code == 1  # task 1 failed
    out = capsys.readouterr().out
    assert "task 1: FAILED the LLM said done before the goal was met" in out
    assert (tmp_path / "r" / "index.html").is_file()
    mem = Memory()
    with SQLiteStore(tmp_path / "r" / "memory.db") as store:
        mem.load(store)
    assert len(mem.episodic.episodes) == 2  # both tasks ran (and failed)


def test_run_with_rgbd_sensing_builds_memory_through_perception(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "--sensing", "rgbd", "--out", str(tmp_path / "r")]) == 0
    out = capsys.readouterr().out
    assert "task 1: success" in out and "task 2: success" in out
    mem = Memory()
    with SQLiteStore(tmp_path / "r" / "memory.db") as store:
        mem.load(store)
    # Perception's nodes carry memory's own ids (label#n), never the simulator's.
    objects = [n for n in mem.graph.iter_nodes() if n.layer.value == "object"]
    assert objects and all("#" in n.id for n in objects)


def test_run_an_instruction_through_a_chat_server(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`loci run --instruction`: one LLM call writes the goal (kept in the run folder), the
    symbolic executive carries it out, no LLM in the loop; no endpoint is a clear error."""
    import json

    from tests.planners.chat_server import ChatServer

    monkeypatch.delenv("LOCI_LLM_BASE_URL", raising=False)
    words = ["run", "--scene", "FloorPlan1", "--instruction", "chill the apple"]
    assert main([*words, "--out", str(tmp_path / "none")]) == 2
    assert "an LLM must write its goal" in capsys.readouterr().err
    answer = {"object": "Apple", "in": "Fridge"}  # one predicate per clause
    with ChatServer([("json", answer)], lambda _p: {}) as server:
        monkeypatch.setenv("LOCI_LLM_BASE_URL", server.base_url)
        monkeypatch.setenv("LOCI_LLM_MODEL", "scripted")
        code = main([*words, "--out", str(tmp_path / "run")])
    out = capsys.readouterr().out
    assert code == 0, out
    assert len(server.requests) == 1 and "goal (1 LLM call(s)" in out
    kept = json.loads((tmp_path / "run" / "instruction_task.jsonl").read_text())
    assert kept["instruction"] == "chill the apple"
    assert kept["subgoals"] == [[{"object": ["Apple"], "in": ["Fridge"]}]]
    assert "task 1: success" in out
