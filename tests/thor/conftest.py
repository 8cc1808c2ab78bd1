"""AI2-THOR tests: the real ``ai2thor`` package's Controller against real backend
processes (``loci thor-backend``, or a replay of recorded AI2-THOR 5.0 events)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from thor.setup import backend_command, start_controller, stop_controller


@pytest.fixture
def thor_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """ai2thor writes logs and prunes builds under ~/.ai2thor: a home of the test's own."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)  # no GPU probing
    return home


@pytest.fixture
def controllers(thor_home: Path, data_dir: Path) -> Iterator[Callable[..., Any]]:
    """Start Controllers on ``loci thor-backend`` (or another executable); all are stopped
    at the end."""
    started: list[Any] = []

    def start(scene: str = "FloorPlan1", sensing: str = "gt", **kw: Any) -> Any:
        executable = kw.pop("executable", None) or backend_command(data_dir)
        controller = start_controller(scene, sensing, executable, **kw)
        started.append(controller)
        return controller

    yield start
    for c in started:
        stop_controller(c)  # one test kills its backend on purpose
