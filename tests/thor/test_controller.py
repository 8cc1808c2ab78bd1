"""ai2thor's own Controller on ``loci thor-backend`` (a real process over AI2-THOR's FIFO
protocol): frames and metadata as AI2-THOR gives them, AI2-THOR's errors, and a backend
that dies or hangs ends the episode with a reason instead of a hang."""

from __future__ import annotations

import os
import shlex
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from embodiment.skills import Skill, StepResult
from loci.bench import run_suite
from loci.episodes import run_on_thor
from planners.observe import new_memory
from sim import SceneRegistry
from sim.suites import load_suite
from thor.body import Ai2ThorBody


def test_frames_metadata_and_errors_through_the_controller(
    controllers: Callable[..., Any],
) -> None:
    c = controllers("FloorPlan1", "rgbd")
    event = c.step(action="Pass")
    meta = event.metadata
    assert meta["sceneName"] == "FloorPlan1_physics" and meta["lastActionSuccess"]
    assert event.frame.shape == (240, 320, 3) and event.depth_frame.shape == (240, 320)
    # Depth in metres, as AI2-THOR's Meters format: a plausible room.
    valid = event.depth_frame[event.depth_frame > 0]
    assert 0.2 < float(np.median(valid)) < 10.0
    # Instance masks are the metadata's objects (and walls, floor), pixel for pixel.
    ids = {o["objectId"] for o in meta["objects"]}
    masks = event.instance_masks
    assert masks and all(k in ids or k.startswith(("Wall|", "Floor")) for k in masks)
    assert sum(int(m.sum()) for m in masks.values()) <= 320 * 240
    reach = c.step(action="GetReachablePositions").metadata["actionReturn"]
    assert len(reach) > 50
    with pytest.raises(ValueError, match="Invalid action: NoSuchAction"):
        c.step(action="NoSuchAction")
    fridge = next(o["objectId"] for o in meta["objects"] if o["objectType"] == "Fridge")
    failed = c.step(action="PickupObject", objectId=fridge).metadata
    assert not failed["lastActionSuccess"]
    assert failed["errorMessage"] == f"{fridge} is not pickupable"
    assert c.step(action="RotateRight").metadata["lastActionSuccess"]  # still serving


def _alfred(data_dir: Path) -> Any:
    return next(
        t for t in load_suite("alfred-seen", data_dir) if t.task_type == "pick_and_place_simple"
    )


def test_a_backend_dying_mid_episode_fails_it_with_the_reason(
    controllers: Callable[..., Any], registry: SceneRegistry, data_dir: Path
) -> None:
    task = _alfred(data_dir)
    c = controllers(task.scene)
    steps: list[StepResult] = []

    def kill_on_third(_skill: Skill, result: StepResult) -> None:
        steps.append(result)
        if len(steps) == 3:
            c.server.unity_proc.kill()

    started = time.monotonic()
    result, body = run_on_thor(c, new_memory(), task, registry, True, on_step=kill_on_third)
    assert time.monotonic() - started < 30
    assert not result.success
    assert body.fault is not None and "AI2-THOR backend failed" in body.fault
    assert "body fault" in result.error, result.error
    assert all(not s.success for s in steps[3:])


def test_a_hung_backend_is_killed_and_reported(controllers: Callable[..., Any]) -> None:
    c = controllers("FloorPlan1")
    body = Ai2ThorBody(c, step_timeout_s=2.0)
    assert body.step("Pass") == (True, "")
    os.kill(c.server.unity_proc.pid, signal.SIGSTOP)  # alive, never answers
    started = time.monotonic()
    ok, err = body.step("MoveAhead")
    waited = time.monotonic() - started
    assert not ok and err.startswith("body fault") and waited < 10
    assert body.step("Pass") == (False, err)  # every later action fails the same way


def test_the_bench_goes_on_after_a_backend_dies(thor_home: Path, data_dir: Path) -> None:
    """The first backend dies at its 12th action (inside the first task: start-up and
    set-up take 8); that task fails with the reason and the next one runs on a new
    backend."""
    tasks = [
        t for t in load_suite("alfred-seen", data_dir) if t.task_type == "pick_and_place_simple"
    ][:2]
    marker = thor_home / "died"
    command = shlex.join(
        [
            sys.executable,
            str(Path(__file__).with_name("dying_backend.py")),
            str(data_dir),
            str(marker),
            "12",
        ]
    )
    report = run_suite(tasks, data_dir, body="ai2thor", thor_executable=command)
    first, second = report["tasks"]
    assert marker.exists()
    assert not first["success"] and "AI2-THOR backend failed" in first["error"], first["error"]
    assert second["success"], second["error"]
