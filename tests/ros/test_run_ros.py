"""`loci run --ros`: the default episode through the four nodes, with the in-process
run's outcome."""

from __future__ import annotations

from pathlib import Path

import pytest

from loci.cli import main


def _steps(out: str, task: str) -> int:
    return int(out.split(f"{task}: success, ")[1].split(" steps")[0])


@pytest.mark.slow
def test_loci_run_ros_matches_in_process(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    rclpy_context: None,
) -> None:
    assert main(["run", "--out", str(tmp_path / "direct")]) == 0
    direct = capsys.readouterr().out
    monkeypatch.chdir(tmp_path)  # a relative --out, as `make run ROS=1` gives
    assert main(["run", "--ros", "--out", "ros"]) == 0
    via = capsys.readouterr().out
    assert "nodes up" in via
    for task in ("task 1", "task 2"):
        assert _steps(via, task) == _steps(direct, task)
    assert (tmp_path / "ros" / "ros" / "memory.db").stat().st_size > 0


def test_loci_run_ros_explains_what_is_missing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.delenv("FASTRTPS_DEFAULT_PROFILES_FILE")
    assert main(["run", "--ros", "--out", str(tmp_path)]) == 2
    assert "source ros_ws/env.sh" in capsys.readouterr().err
    assert main(["run", "--ros", "--record", "x.mcap", "--out", str(tmp_path)]) == 2
