"""habitat-sim's recorded sensor observations (its own test ground truth: RGBA, depth in
metres, semantic ids, each with the agent state it was rendered from) through our frame
conversion and perception: the floor lands where the recorded agent stands, flat, and
every instance where its own pixels are."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from hsim.errors import HabitatDataError
from hsim.observations import HabitatCamera, frame_from_observations, instances_from_semantic
from perception.camera import backproject, transform
from perception.instances import observations_from_frame

GT = (
    Path(__file__).resolve().parents[3]
    / "shared/data/habitat/habitat_sim_test_assets/tests/gt_data"
)
# habitat-sim's test renders 640x480, hfov 90, the camera 1.5 m up (examples/settings.py)
CAMERA = HabitatCamera(640, 480, 90.0)
NAVMESH_ABOVE_FLOOR_M = 0.2
"""An agent stands on the navmesh, which lies up to one voxel (0.2 m) above the floor."""


def _load(scene: str, *sensors: str) -> tuple[dict[str, np.ndarray], dict[str, list[float]]]:  # type: ignore[type-arg]
    state = json.loads((GT / f"{scene}-state.json").read_text())
    return {s: np.load(GT / f"{scene}-{s}.npy") for s in sensors}, state


@pytest.mark.parametrize(
    ("scene", "sensors"),
    [("van-gogh-room", ("depth_sensor", "color_sensor")), ("17DRP5sb8fy", ("depth_sensor",))],
)
def test_the_floor_lies_flat_just_under_the_recorded_agent(
    scene: str, sensors: tuple[str, ...]
) -> None:
    obs, state = _load(scene, *sensors)
    frame = frame_from_observations(obs, state["pos"], state["rot"], CAMERA)
    world = transform(backproject(frame.depth, frame.intrinsics), frame.world_from_camera)
    y = world[:, 1]
    floor = float(np.percentile(y, 1))
    agent_y = state["pos"][1]
    assert agent_y - NAVMESH_ABOVE_FLOOR_M <= floor <= agent_y
    # Flat: the floor band is thin (a wrong pitch or roll tilts it out of the band).
    band = y[np.abs(y - floor) < 0.05]
    assert len(band) > 0.02 * len(y) and float(np.std(band)) < 0.02
    # Nothing below the floor, everything within the depth sensor's reach.
    assert float(np.percentile(y, 0.1)) > floor - 0.05
    cam = frame.world_from_camera[:3, 3]
    assert np.all(np.linalg.norm(world - cam, axis=1) < 1.01 * np.sqrt(3) * np.nanmax(frame.depth))


def test_colour_drops_alpha_and_empty_depth_becomes_nan() -> None:
    obs, state = _load("van-gogh-room", "depth_sensor", "color_sensor")
    holed = dict(obs, depth_sensor=np.where(np.arange(640) < 10, 0.0, obs["depth_sensor"]))
    frame = frame_from_observations(holed, state["pos"], state["rot"], CAMERA)
    assert frame.rgb is not None and frame.rgb.shape == (480, 640, 3)
    assert np.array_equal(frame.rgb, obs["color_sensor"][:, :, :3])
    assert np.isnan(frame.depth[:, :10]).all() and np.isfinite(frame.depth[:, 10:]).all()


def test_semantic_instances_are_perceived_where_their_pixels_are() -> None:
    obs, state = _load("17DRP5sb8fy", "depth_sensor", "semantic_sensor")
    ids = [int(i) for i in np.unique(obs["semantic_sensor"])]
    # This scene's category table (its .house file) is not in the data: name every id.
    labels = {i: f"Thing{i}" for i in ids if i != 0}
    frame = frame_from_observations(obs, state["pos"], state["rot"], CAMERA, labels=labels)
    assert frame.instance is not None and len(frame.labels) == len(labels)
    result = observations_from_frame(
        frame.depth,
        frame.instance,
        dict(enumerate(frame.labels)),
        frame.intrinsics,
        frame.world_from_camera,
    )
    assert len(result.observations) + result.skipped_small == len(labels)
    assert len(result.observations) > 20
    sem = obs["semantic_sensor"]
    for o in result.observations:
        sid = int(o.label.removeprefix("Thing"))
        mask = (sem == sid) & np.isfinite(frame.depth)
        pts = transform(backproject(frame.depth, frame.intrinsics, mask), frame.world_from_camera)
        lo, hi = pts.min(axis=0), pts.max(axis=0)
        assert np.all(np.asarray(o.position) >= lo - 1e-6)
        assert np.all(np.asarray(o.position) <= hi + 1e-6)


def test_unlabelled_ids_are_no_instance() -> None:
    sem = np.array([[0, 5, 5], [7, 7, 9]], dtype=np.uint32)
    index, names = instances_from_semantic(sem, {5: "Chair", 9: "Table"})
    assert names == ("Chair", "Table")
    assert index.tolist() == [[-1, 0, 0], [-1, -1, 1]]


def test_a_frame_that_does_not_fit_the_camera_is_refused() -> None:
    obs, state = _load("van-gogh-room", "depth_sensor")
    with pytest.raises(HabitatDataError, match="camera 320x240"):
        frame_from_observations(obs, state["pos"], state["rot"], HabitatCamera(320, 240))
    with pytest.raises(HabitatDataError, match="no depth"):
        frame_from_observations({}, state["pos"], state["rot"], CAMERA)
