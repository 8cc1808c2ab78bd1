"""Habitat's pose conventions, checked on a trajectory habitat-sim recorded (habitat-lab's
test data): a free step forward moves 0.25 m along what we call forward, a turn turns
10 degrees the way we call left, and nothing else moves."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from hsim.convert import agent_pose, forward, heading, rotation, world_from_camera
from memory_core import InvalidInputError

DATA = Path(__file__).resolve().parents[3] / "shared/data/habitat"
TRAJECTORY = DATA / "habitat_lab_test_data/test/data/habitat-sim_trajectory_data.json"
STEP_M = 0.25  # habitat-lab's forward_step_size in the config that recorded it
TURN_DEG = 10.0


def _trajectory() -> dict[str, list]:  # type: ignore[type-arg]
    return json.loads(TRAJECTORY.read_text())  # type: ignore[no-any-return]


def test_a_free_step_forward_is_a_quarter_metre_along_forward() -> None:
    d = _trajectory()
    pos, rot, acts, clear = (
        d["positions"],
        d["rotations"],
        d["actions"],
        d["distances_to_obstacles"],
    )
    free = 0
    for i, act in enumerate(acts[:-1]):
        step = np.subtract(pos[i + 1], pos[i])
        flat = step[[0, 2]]
        if act != "move_forward":
            continue
        along = float(step @ forward(rot[i]))
        assert along >= -1e-6  # sliding along a wall never goes backwards
        assert np.linalg.norm(flat) <= STEP_M + 1e-4
        if clear[i] is None or clear[i] > STEP_M + 0.005:
            free += 1
            assert along == pytest.approx(STEP_M, abs=1e-4)
            assert np.linalg.norm(flat - along * forward(rot[i])[[0, 2]]) < 1e-4
    assert free >= 2  # the recording has free steps to check


def test_a_left_turn_is_ten_degrees_anticlockwise_in_place() -> None:
    d = _trajectory()
    pos, rot, acts = d["positions"], d["rotations"], d["actions"]
    turns = [i for i, a in enumerate(acts[:-1]) if a == "turn_left"]
    assert len(turns) == 6
    for i in turns:
        assert np.allclose(pos[i + 1], pos[i], atol=1e-6)
        turned = math.degrees(heading(rot[i + 1]) - heading(rot[i]))
        turned = (turned + 180.0) % 360.0 - 180.0
        assert turned == pytest.approx(TURN_DEG, abs=1e-3)


def test_poses_keep_the_recorded_quaternion() -> None:
    d = _trajectory()
    for p, q in zip(d["positions"], d["rotations"], strict=True):
        pose = agent_pose(p, q)
        assert pose.position == tuple(p)
        assert np.allclose(pose.orientation, q, atol=1e-6) or np.allclose(
            pose.orientation, np.negative(q), atol=1e-6
        )


def test_the_camera_looks_where_the_agent_faces_from_its_height() -> None:
    q = [0.0, 0.5000002980232239, 0.0, 0.8660252094268799]
    cam = world_from_camera((1.0, 0.2, 3.0), q)
    assert np.allclose(cam[:3, 3], (1.0, 1.7, 3.0))
    assert np.allclose(cam[:3, 2], forward(q))  # OpenCV +z is the view direction
    assert np.allclose(cam[:3, 1], (0.0, -1.0, 0.0))  # OpenCV +y is down in a y-up world


@pytest.mark.parametrize(
    "bad", [[0, 0, 0, 0], [0, 0, 1], [math.nan, 0, 0, 1], [0, math.inf, 0, 1], "wxyz"]
)
def test_a_bad_rotation_is_refused(bad: object) -> None:
    with pytest.raises(InvalidInputError, match="Habitat rotation"):
        rotation(bad)  # type: ignore[arg-type]
