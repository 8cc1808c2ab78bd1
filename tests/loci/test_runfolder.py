"""Run folders and saved memories are never overwritten, even by runs started together."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

from loci.cli import main
from loci.runfolder import MARKER, claim_new_file, claim_run_folder, save_memory
from memory_core import Event, LociError, Memory, SQLiteStore
from planners.observe import new_memory


def _claim(folder: str) -> str:
    try:
        return str(claim_run_folder(Path(folder)))
    except LociError as exc:
        return f"refused: {exc}"


def test_concurrent_claims_of_one_folder_let_exactly_one_run(tmp_path: Path) -> None:
    target = tmp_path / "same"
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        outcomes = pool.map(_claim, [str(target)] * 8)
    assert sum(not o.startswith("refused") for o in outcomes) == 1, outcomes
    assert (target / MARKER).is_file()


def test_claims_refuse_what_exists(tmp_path: Path) -> None:
    fresh = claim_run_folder(tmp_path / "a" / "b")
    assert fresh.is_dir() and (fresh / MARKER).is_file()
    with pytest.raises(LociError, match="already holds a run"):
        claim_run_folder(fresh)  # a claimed (even empty) folder belongs to its run
    (tmp_path / "file").write_text("x")
    with pytest.raises(LociError, match="not a folder"):
        claim_run_folder(tmp_path / "file")
    # Default folders never collide, even within one second.
    a, b = claim_run_folder(None, tmp_path / "runs"), claim_run_folder(None, tmp_path / "runs")
    assert a != b
    claim_new_file(tmp_path / "rec.mcap", "--record")
    with pytest.raises(LociError, match=r"--record .* exists"):
        claim_new_file(tmp_path / "rec.mcap", "--record")


def test_save_memory_refuses_to_overwrite_and_leaves_nothing_on_failure(tmp_path: Path) -> None:
    memory = new_memory()
    memory.episodic.begin_episode("e1", "go", 0.0)
    memory.record(Event(1.0, "e1", "look"))
    store = save_memory(memory, tmp_path / "memory.db")
    with pytest.raises(LociError, match="refusing to overwrite"):
        save_memory(new_memory(), store)
    again = Memory()
    with SQLiteStore(store) as s:
        again.load(s)
    assert len(again.episodic) == 1
    # A save that fails (the folder is gone) leaves no partial file behind.
    with pytest.raises(LociError, match="cannot save"):
        save_memory(memory, tmp_path / "missing" / "memory.db")
    assert not list((tmp_path).glob(".memory.db.partial*"))


def test_record_at_an_existing_path_is_refused_before_running(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bag = tmp_path / "episode.mcap"
    bag.write_bytes(b"an earlier recording")
    assert main(["run", "--out", str(tmp_path / "run"), "--record", str(bag)]) == 2
    assert "--record" in capsys.readouterr().err
    assert bag.read_bytes() == b"an earlier recording"
    assert not (tmp_path / "run").exists()


def test_a_task_id_that_cannot_be_stored_is_refused_before_running(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tasks = tmp_path / "tasks.jsonl"
    tasks.write_text(
        '{"id": "\\ud800", "scene": "FloorPlan1", "goal": [{"object": "Apple", "held": true}]}\n'
    )
    out = tmp_path / "run"
    assert main(["run", "--out", str(out), "--tasks", str(tasks)]) == 2
    assert "Unicode" in capsys.readouterr().err
    assert not out.exists()
