"""The Habitat body on a real habitat-sim.

habitat-sim has no wheel for this platform on PyPI and neither package registry carries
its sources, so CI has none: there, only the first test runs (no habitat-sim: a clear
error). The others run where habitat-sim is importable and its test assets are found
(``LOCI_HABITAT_TEST_ASSETS``: habitat-sim's ``data/test_assets``, with
``scenes/simple_room.glb`` and ``objects/``); docs/habitat.md says what was run by hand.
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from embodiment.affordances import Affordances
from embodiment.grid import FREE
from embodiment.navigation import GridNav
from embodiment.scoring import StateScorer
from embodiment.skills import Skill
from embodiment.tasks import parse_task
from hsim.errors import HabitatUnavailableError
from memory_core import Layer
from planners.executive import Executive
from planners.observe import new_memory
from tests.conftest import DATA

try:
    import habitat_sim
except ImportError:
    habitat_sim = None

ASSETS = Path(os.environ.get("LOCI_HABITAT_TEST_ASSETS", "/nonexistent"))
SCENE = ASSETS / "scenes" / "simple_room.glb"
needs_sim = pytest.mark.skipif(
    habitat_sim is None or not SCENE.is_file(),
    reason="needs habitat-sim (no wheel for this platform on PyPI; install it as Habitat "
    "documents) and its test assets in LOCI_HABITAT_TEST_ASSETS",
)


@pytest.mark.skipif(habitat_sim is not None, reason="habitat-sim is installed here")
def test_without_habitat_sim_the_body_says_how_to_get_it(tmp_path: Path) -> None:
    from hsim.body import HabitatBody

    with pytest.raises(HabitatUnavailableError, match="no wheel for this platform"):
        HabitatBody.open(tmp_path / "scene.glb")


@pytest.fixture(scope="module")
def room() -> Iterator[object]:
    from hsim.body import HabitatBody, HabitatBodyConfig

    body = HabitatBody.open(SCENE, HabitatBodyConfig())
    yield body
    body.close()


def _random_points(body: object, n: int, seed: int) -> list[np.ndarray]:  # type: ignore[type-arg]
    body.sim.pathfinder.seed(seed)  # type: ignore[attr-defined]
    return [body.random_point() for _ in range(n)]  # type: ignore[attr-defined]


@needs_sim
def test_the_map_is_the_navmesh_and_grid_paths_match_its_geodesics(room: object) -> None:
    """The occupancy grid from the navmesh: every navigable point falls on a free cell,
    and a 4-connected grid path between two points (the built-in planner's kind) is no
    shorter than habitat-sim's geodesic, and no longer than sqrt(2) times it."""
    grid = room.occupancy()  # type: ignore[attr-defined]
    res = grid.resolution_m
    free = np.argwhere(grid.data == FREE)
    assert len(free) > 50
    cells = [(grid.origin[0] + (c + 0.5) * res, grid.origin[1] + (r + 0.5) * res) for r, c in free]
    nav = GridNav(cells, grid=res)
    pts = _random_points(room, 12, seed=3)
    for p in pts:
        col = int((p[0] - grid.origin[0]) // res)
        row = int((p[2] - grid.origin[1]) // res)
        assert grid.data[row, col] == FREE
    checked = 0
    for a, b in itertools.combinations(pts, 2):
        path = habitat_sim.ShortestPath()
        path.requested_start, path.requested_end = a, b
        assert room.sim.pathfinder.find_path(path)  # type: ignore[attr-defined]
        geo = float(path.geodesic_distance)
        steps = nav.path((a[0], a[2]), 0.0, (b[0], b[2]))
        if steps is None or geo < 4 * res:
            continue  # a point on a cell the grid's rounding cut off: counted below
        grid_m = steps.steps * res
        assert geo - 2 * res <= grid_m <= math.sqrt(2) * geo + 4 * res, (geo, grid_m)
        checked += 1
    assert checked >= 40


@needs_sim
def test_a_walk_is_the_geodesic_and_look_around_sees_the_room(room: object) -> None:
    a, b = _random_points(room, 2, seed=11)
    room.teleport(a, (0.0, 0.0, 0.0, 1.0))  # type: ignore[attr-defined]
    result = room.execute(Skill("navigate", f"point:{b[0]},{b[2]}"))  # type: ignore[attr-defined]
    assert result.success, result.error_message
    end = room.state().pose.position  # type: ignore[attr-defined]
    assert math.hypot(end[0] - b[0], end[2] - b[2]) < 0.05
    path = habitat_sim.ShortestPath()
    path.requested_start, path.requested_end = a, b
    room.sim.pathfinder.find_path(path)  # type: ignore[attr-defined]
    assert result.distance_m == pytest.approx(path.geodesic_distance, abs=1e-4)
    looked = room.execute(Skill("look_around"))  # type: ignore[attr-defined]
    assert looked.success and looked.sensed is not None and len(looked.sensed.frames) == 4
    seen = []
    for frame in looked.sensed.frames:
        assert frame.depth.shape == (240, 320) and frame.rgb is not None
        assert frame.rgb.shape == (240, 320, 3)
        seen.append(float(np.isfinite(frame.depth).mean()))
    # simple_room is a floor with furniture and no walls: facing out over its edge a
    # camera 1.5 m up sees nothing; most headings see the room.
    assert sum(v > 0.1 for v in seen) >= 2, seen
    views = [f.world_from_camera[:3, 2] for f in looked.sensed.frames]
    assert all(abs(float(a @ b)) < 1e-3 for a, b in itertools.pairwise(views))  # 90 deg apart


@needs_sim
def test_find_a_chair_through_the_loop_from_rendered_frames() -> None:
    """ObjectNav-style "find the chair" through the closed loop: the symbolic planner, the
    critic on memory built from rendered RGB-D + semantic frames through perception, and
    the scorer on the placed objects' ground truth."""
    from hsim.body import HabitatBody, HabitatBodyConfig, PlacedObject
    from hsim.scoring import habitat_scene

    objects = ASSETS / "objects"
    probe = HabitatBody.open(SCENE, HabitatBodyConfig())
    start, chair_at, donut_at = _spread(probe)
    probe.close()
    placed = [
        PlacedObject(str(objects / "chair.object_config.json"), "Chair", chair_at, 1),
        PlacedObject(str(objects / "donut.object_config.json"), "Donut", donut_at, 2),
    ]
    # Facing away from the chair: it must be searched for, not seen at the start.
    away = math.atan2(chair_at[0] - start[0], chair_at[2] - start[2])
    facing = (0.0, math.sin(away / 2), 0.0, math.cos(away / 2))
    body = HabitatBody.open(SCENE, HabitatBodyConfig(), placed, start=(start, facing))
    try:
        task = parse_task(
            {"id": "find-chair", "scene": str(SCENE), "goal": [{"object": "Chair", "near": 1.5}]}
        )
        scorer = StateScorer(task, lambda: habitat_scene(body))
        assert not scorer.success()
        first = body.look().frames[0]
        assert "Chair" not in first.labels  # not in view at the start
        memory = new_memory(up_axis="y")
        result = Executive(body, memory, Affordances.load(DATA)).run(task, scorer)
        assert result.success, (result.error, result.summaries)
        assert result.skills >= 2  # looked for it, then went to it
        chairs = memory.graph.find_by_label("Chair")
        assert chairs and chairs[0].layer in (Layer.OBJECT, Layer.RECEPTACLE)
        chair = next(p for label, _n, p in body.things() if label == "Chair")
        assert math.dist(chairs[0].position, chair) < 0.5  # perceived where it stands
    finally:
        body.close()


def _spread(body: object) -> tuple[list[float], list[float], list[float]]:
    """A start and two places for objects, far apart on the navmesh."""
    pts = _random_points(body, 40, seed=5)
    start = pts[0]
    far = sorted(pts[1:], key=lambda p: -math.hypot(p[0] - start[0], p[2] - start[2]))
    chair = far[0]
    donut = next(p for p in far[1:] if math.hypot(p[0] - chair[0], p[2] - chair[2]) > 1.5)
    return list(start), [chair[0], chair[1] + 0.5, chair[2]], [donut[0], donut[1] + 0.1, donut[2]]


def _bench_task(scenes: Path, start: list[float], chair_at: list[float]) -> dict[str, object]:
    away = math.atan2(chair_at[0] - start[0], chair_at[2] - start[2])
    return {
        "id": "habitat/find-chair",
        "scene": "scenes/simple_room.glb",
        "goal": [{"object": "Chair", "near": 1.5}],
        "init": {
            "habitat_start": {
                "position": start,
                "rotation": [0.0, math.sin(away / 2), 0.0, math.cos(away / 2)],
            },
            "habitat_objects": [
                {
                    "template": "objects/chair.object_config.json",
                    "label": "Chair",
                    "position": chair_at,
                    "semantic_id": 1,
                }
            ],
        },
    }


@pytest.mark.skipif(habitat_sim is not None, reason="habitat-sim is installed here")
def test_bench_on_habitat_without_it_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from loci.cli import main

    tasks = tmp_path / "t.jsonl"
    tasks.write_text(json.dumps(_bench_task(tmp_path, [0, 0, 0], [2, 0, 2])) + "\n")
    argv = ["bench", "--quiet", "--body", "habitat", "--sensing", "rgbd", "--tasks", str(tasks)]
    assert main([*argv, "--habitat-scenes", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("loci: error:") and "no wheel for this platform" in err
    assert main(argv) == 2
    assert "--habitat-scenes" in capsys.readouterr().err


@needs_sim
def test_loci_bench_runs_a_task_file_on_habitat(tmp_path: Path) -> None:
    import json

    from hsim.body import HabitatBody, HabitatBodyConfig
    from loci.cli import main

    probe = HabitatBody.open(SCENE, HabitatBodyConfig())
    start, chair_at, _donut = _spread(probe)
    probe.close()
    tasks = tmp_path / "t.jsonl"
    tasks.write_text(json.dumps(_bench_task(ASSETS, start, chair_at)) + "\n")
    out = tmp_path / "bench.json"
    argv = ["bench", "--quiet", "--body", "habitat", "--sensing", "rgbd", "--tasks", str(tasks)]
    assert main([*argv, "--habitat-scenes", str(ASSETS), "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    (row,) = report["tasks"]
    assert row["success"] and row["skills"] >= 2, row
