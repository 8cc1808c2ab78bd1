"""`loci run --sensing rgbd --map`: the depth frames the body returns during the run are
fused into a map from depth (open3d's TSDF), and the run folder gets its mesh (map.ply)
and occupancy grid (map.pgm/map.yaml, nav2's map_server format), linked from the report."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

from loci.cli import DEFAULT_SCENE, main
from loci.main_job import default_first_task
from memory_core.convention import to_ros
from sim import SceneRegistry
from sim.episode import make_world

FREE, OCCUPIED = 254, 0
"""map_server's trinary PGM values."""


@pytest.fixture(scope="module")
def mapped_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The default run (one house, two tasks) with rgbd sensing and a map; its folder and
    what it printed."""
    import contextlib
    import io

    out = tmp_path_factory.mktemp("run") / "r"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = main(["run", "--sensing", "rgbd", "--map", "--out", str(out)])
    assert code == 0, printed.getvalue()
    return out, printed.getvalue()


def _ply_vertices(path: Path) -> int:
    """The vertex count a PLY file's header declares (the header is ASCII in every format)."""
    with path.open("rb") as f:
        assert f.readline().strip() == b"ply"
        for raw in f:
            line = raw.decode("ascii").strip()
            if line.startswith("element vertex "):
                return int(line.split()[-1])
            if line == "end_header":
                break
    return 0


def test_the_run_folder_gets_the_mesh_and_the_occupancy_grid(mapped_run: tuple[Path, str]) -> None:
    out, printed = mapped_run
    assert _ply_vertices(out / "map.ply") > 1000
    meta = yaml.safe_load((out / "map.yaml").read_text())
    assert meta["resolution"] > 0 and meta["image"] == "map.pgm"
    pixels = np.asarray(Image.open(out / meta["image"]))
    assert (pixels == FREE).any() and (pixels == OCCUPIED).any()
    assert "map from depth: " in printed and " depth frames fused" in printed
    page = (out / "index.html").read_text()
    for name in ("map.ply", "map.pgm", "map.yaml", "map_occupancy.png"):
        assert f'"{name}"' in page
    assert (out / "map_occupancy.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_agents_start_is_free_in_the_occupancy_grid(
    mapped_run: tuple[Path, str], registry: SceneRegistry
) -> None:
    """The agent stood at its start: the map from its own depth must have floor there. The
    map is in ROS's map frame (the simulator's y-up world converted exactly), and
    map_server's image has its bottom row at the origin."""
    out, _printed = mapped_run
    meta = yaml.safe_load((out / "map.yaml").read_text())
    pixels = np.asarray(Image.open(out / meta["image"]))
    x, z = make_world(default_first_task(registry, DEFAULT_SCENE, 0), registry).agent_xz
    east, north, _up = to_ros((x, 0.0, z), "y")
    res, (ox, oy, _yaw) = meta["resolution"], meta["origin"]
    col = math.floor((east - ox) / res)
    row = pixels.shape[0] - 1 - math.floor((north - oy) / res)
    assert 0 <= row < pixels.shape[0] and 0 <= col < pixels.shape[1]
    assert pixels[row, col] == FREE


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--map"], "--map fuses the body's depth frames: add --sensing rgbd"),
        (["--map", "--sensing", "gt"], "add --sensing rgbd"),
        (["--map", "--sensing", "rgbd", "--ros"], "--map fuses the depth frames"),
        (["--map", "--sensing", "rgbd", "--map-voxel", "0"], "map voxel size 0.0 m"),
    ],
)
def test_a_map_without_depth_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    out = tmp_path / "r"
    assert main(["run", "--out", str(out), *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("loci: error: ") and message in err
    assert not out.exists()  # refused before the run folder was claimed


def test_a_map_without_open3d_says_how_to_install_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A None entry makes `import open3d` fail as it does where open3d is not installed.
    monkeypatch.setitem(sys.modules, "open3d", None)
    out = tmp_path / "r"
    assert main(["run", "--sensing", "rgbd", "--map", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "needs open3d: pip install -e '.[open3d]'" in err
    assert not out.exists()
