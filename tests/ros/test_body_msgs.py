"""The body interface's types through ROS messages (loci_ros.body_msgs)."""

from __future__ import annotations

import numpy as np
import pytest

from embodiment import Sensed, Skill, StepResult
from embodiment.body import BodyState
from embodiment.grid import FREE, OCCUPIED, OccupancyGrid
from memory_core import InvalidInputError, ObjectObservation, Pose, ViewVolume
from memory_core.convention import to_ros


def _grid(up: str) -> OccupancyGrid:
    data = np.full((3, 5), OCCUPIED, dtype=np.int8)
    data[1, 1:4] = FREE
    data[2, 3] = FREE
    return OccupancyGrid(0.25, (-1.125, 2.375), data, up)


@pytest.mark.parametrize("up", ["y", "z"])
def test_grid_round_trip_and_ros_geometry(up: str) -> None:
    from loci_ros.body_msgs import grid_from_msg, grid_to_msg

    grid = _grid(up)
    msg = grid_to_msg(grid, 1.5, "map")
    back = grid_from_msg(msg, up)
    assert back.resolution_m == grid.resolution_m and back.origin == pytest.approx(grid.origin)
    assert np.array_equal(back.data, grid.data)
    # Every free cell's centre lands, in ROS's frame, in a free cell of the ROS map.
    ros = np.asarray(msg.data, dtype=np.int8).reshape(msg.info.height, msg.info.width)
    for r, c in zip(*np.nonzero(grid.data == FREE), strict=True):
        u, v = grid.centre(int(r), int(c))
        p = (u, 0.0, v) if up == "y" else (u, v, 0.0)
        x, y, _z = to_ros(p, up)
        col = int((x - msg.info.origin.position.x) // msg.info.resolution)
        row = int((y - msg.info.origin.position.y) // msg.info.resolution)
        assert ros[row, col] == FREE
    assert int((ros == FREE).sum()) == int((grid.data == FREE).sum())


def test_bad_maps_are_refused() -> None:
    from loci_ros.body_msgs import grid_from_msg, grid_to_msg

    msg = grid_to_msg(_grid("z"), 0.0, "map")
    msg.data = msg.data[:-1]
    with pytest.raises(InvalidInputError, match="cells"):
        grid_from_msg(msg, "z")
    msg = grid_to_msg(_grid("z"), 0.0, "map")
    msg.info.origin.orientation.z, msg.info.origin.orientation.w = 0.7071, 0.7071
    with pytest.raises(InvalidInputError, match="rotated"):
        grid_from_msg(msg, "z")


def test_skill_goal_and_result_round_trip() -> None:
    from loci_ros.body_msgs import result_from_msg, result_to_msg, skill_from_goal, skill_to_goal

    skill = Skill("pickup", "Apple#3", False, "Apple", (1.0, 0.9, -2.0), (0.1, 0.12, 0.1))
    assert skill_from_goal(skill_to_goal(skill, "y"), "y") == skill
    bare = Skill("drop")
    assert skill_from_goal(skill_to_goal(bare, "y"), "y") == bare
    obs = ObjectObservation("Apple", (1.0, 0.9, -2.0), timestamp=3.0, object_id="Apple|1")
    view = ViewVolume((0.0, 1.5, 0.0), (0.0, -0.4, 1.0), 35.0, 1.2)
    step = StepResult(skill, True, "", 1, 0.0, sensed=Sensed(observations=(obs,), view=view))
    state = BodyState(
        Pose((0.5, 0.9, 0.25), (0.0, 0.7071068, 0.0, 0.7071068)), "Apple#3", "Apple", "y"
    )
    got, got_state, sensed = result_from_msg(result_to_msg(step, state, "y"), skill, "y")
    assert (got.success, got.primitive_steps, got.skill) == (True, 1, skill)
    assert sensed.observations == (obs,)
    assert sensed.view is not None and sensed.view.origin == pytest.approx(view.origin)
    assert sensed.view.forward == pytest.approx(view.forward)
    assert got_state.held == "Apple#3" and got_state.pose.position == pytest.approx(
        (0.5, 0.9, 0.25)
    )
    assert got_state.pose.orientation == pytest.approx(state.pose.orientation)
    lit = StepResult(Skill("toggle_on", "DeskLamp#2"), False, "already on", 1, unchanged=True)
    back, _, _ = result_from_msg(result_to_msg(lit, state, "y"), lit.skill, "y")
    assert back.unchanged and not back.success and not got.unchanged
