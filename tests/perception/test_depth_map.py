"""A map from depth on the real Redwood frames (open3d's VoxelBlockGrid): the fused
surface agrees with every frame's own points, the occupancy grid puts walls where the
depth saw them and the camera in free space, the mesh is written as PLY."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from scipy.spatial import cKDTree

from perception import FrameError, PinholeIntrinsics, SizeMismatchError, backproject, decode_depth
from perception.depth_map import DepthMap, DepthMapConfig
from tests.conftest import DATA

REDWOOD = DATA / "rgbd_frames/open3d_redwood_5frames"


def _frames() -> tuple[PinholeIntrinsics, list[np.ndarray], list[np.ndarray]]:
    cam = json.loads((REDWOOD / "camera_primesense.json").read_text())
    m = cam["intrinsic_matrix"]  # column-major
    k = PinholeIntrinsics(cam["width"], cam["height"], m[0], m[4], m[6], m[7])
    lines = (REDWOOD / "trajectory.log").read_text().split("\n")
    poses = [
        np.array([[float(x) for x in lines[i + r].split()] for r in range(1, 5)])
        for i in range(0, len(lines) - 4, 5)
    ]
    depths = [
        decode_depth(np.asarray(Image.open(p)), "16UC1", 1000.0)
        for p in sorted((REDWOOD / "depth").glob("*.png"))
    ]
    return k, poses, depths


@pytest.fixture(scope="module")
def fused() -> tuple[DepthMap, PinholeIntrinsics, list[np.ndarray], list[np.ndarray]]:
    k, poses, depths = _frames()
    depth_map = DepthMap(DepthMapConfig(up_axis="y"))  # Redwood's world: y up
    for depth, pose in zip(depths, poses, strict=True):
        depth_map.integrate(depth, k, pose)
    return depth_map, k, poses, depths


def _world_points(depth: np.ndarray, k: PinholeIntrinsics, pose: np.ndarray) -> np.ndarray:
    cam = backproject(depth, k)
    cam = cam[np.isfinite(cam).all(axis=1) & (cam[:, 2] < 4.0)]
    return cam @ pose[:3, :3].T + pose[:3, 3]


def test_the_fused_surface_agrees_with_every_frame(fused) -> None:  # type: ignore[no-untyped-def]
    depth_map, k, poses, depths = fused
    surface = depth_map.surface()
    assert len(surface) > 10_000 and depth_map.frames == 5
    tree = cKDTree(surface)
    for depth, pose in zip(depths, poses, strict=True):
        pts = _world_points(depth, k, pose)[::50]
        dist, _ = tree.query(pts)
        # Sensor noise plus pose error (the frames agree with each other within 3 cm).
        assert np.median(dist) < 0.02, np.median(dist)


def test_occupancy_puts_walls_where_depth_saw_them_and_the_camera_in_free_space(
    fused,  # type: ignore[no-untyped-def]
) -> None:
    depth_map, k, poses, depths = fused
    grid = depth_map.occupancy()
    values = set(np.unique(grid.data).tolist())
    assert values == {-1, 0, 100}
    lo, hi = depth_map.config.band_m
    pts = _world_points(depths[0], k, poses[0])
    above = pts[:, 1] - depth_map.floor()
    wall = pts[(above > lo + 0.05) & (above < hi - 0.05)][::20]
    inside = [cell for p in wall if (cell := grid.cell_of(p[0], p[2])) is not None]
    occupied = sum(grid.data[r, c] == 100 for r, c in inside)
    assert len(inside) >= 0.95 * len(wall) and occupied >= 0.9 * len(inside)
    for pose in poses:
        cell = grid.cell_of(pose[0, 3], pose[2, 3])
        if cell is not None:
            assert grid.data[cell] != 100  # the camera stood there: no obstacle


def test_the_mesh_is_written_as_ply(fused, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import open3d as o3d

    depth_map = fused[0]
    path = depth_map.save_ply(tmp_path / "map.ply")
    mesh = o3d.io.read_triangle_mesh(str(path))
    assert len(mesh.vertices) > 10_000 and len(mesh.triangles) > 10_000
    lo, hi = np.asarray(mesh.vertices).min(axis=0), np.asarray(mesh.vertices).max(axis=0)
    surface = depth_map.surface()
    assert np.allclose(lo, surface.min(axis=0), atol=0.05)
    assert np.allclose(hi, surface.max(axis=0), atol=0.05)


def test_bad_input_is_named() -> None:
    k, poses, depths = _frames()
    depth_map = DepthMap()
    with pytest.raises(FrameError, match="nothing fused yet"):
        depth_map.occupancy()
    with pytest.raises(SizeMismatchError, match="but the camera is"):
        depth_map.integrate(depths[0][:100], k, poses[0])
    bad = poses[0].copy()
    bad[0, 3] = np.nan
    with pytest.raises(FrameError, match="finite 4x4"):
        depth_map.integrate(depths[0], k, bad)
    with pytest.raises(ValueError, match="up_axis"):
        DepthMapConfig(up_axis="w")


def test_loci_replay_maps_a_bag_of_real_depth_frames(tmp_path: Path) -> None:
    """`loci replay --map`: Redwood's frames written as a ROS 2 bag (in ROS's z-up world:
    only the container is synthetic) give a mesh and a nav2 map_server map."""
    import yaml

    from loci.cli import main
    from perception.bag_images import write_rgbd_bag

    k, poses, _ = _frames()
    y_up_to_z_up = np.array([[1, 0, 0, 0], [0, 0, -1, 0], [0, 1, 0, 0], [0, 0, 0, 1.0]])
    ros_poses = [y_up_to_z_up @ p for p in poses]
    raw = [np.asarray(Image.open(p)) for p in sorted((REDWOOD / "depth").glob("*.png"))]
    bag = tmp_path / "redwood"
    write_rgbd_bag(bag, raw, ros_poses, k, [10.0 + i for i in range(5)])
    assert main(["replay", str(bag), "--map"]) == 2  # the map needs a report folder
    out = tmp_path / "report"
    assert main(["replay", str(bag), "--map", "--map-voxel", "0.02", "--report", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["map_frames_fused"] == 5
    meta = yaml.safe_load((out / "map.yaml").read_text())
    assert meta["image"] == "map.pgm" and meta["resolution"] == 0.05
    pgm = np.asarray(Image.open(out / "map.pgm"))
    assert {0, 205, 254} <= set(np.unique(pgm).tolist())
    # The cameras stood in the room: their cells are not obstacles (rows from the bottom).
    for pose in ros_poses:
        col = int((pose[0, 3] - meta["origin"][0]) / meta["resolution"])
        row = pgm.shape[0] - 1 - int((pose[1, 3] - meta["origin"][1]) / meta["resolution"])
        if 0 <= row < pgm.shape[0] and 0 <= col < pgm.shape[1]:
            assert pgm[row, col] != 0
    assert (out / "map.ply").stat().st_size > 100_000
