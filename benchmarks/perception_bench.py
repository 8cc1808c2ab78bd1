"""Perception benchmark: one 640x480 frame with 30 instance masks → observations.

The depth is a real Redwood frame (16-bit millimetres); the 30 instance masks tile
it as a 6x5 grid (synthetic: real segmentation masks for these frames are not in
the data). ``baseline_frame_ms_p50``: the previous numpy path
(``benchmarks/perception_baseline.py``), interleaved in the same run. Median over
repeats, single process; the last line is JSON.
``tsdf_integrate_ms_p50``: one Redwood depth frame fused into a TSDF of 1 cm voxels
(open3d's VoxelBlockGrid, the ``open3d`` extra). ``segment_ms_p50``: the geometric
segmenter (frames without masks) on the five hand-labelled real frames of
``tests/perception/segment_labels.yaml`` (their loaders and scoring are the test's),
segments to ``unknown`` observations; ``o3d_planes_dbscan_ms_p50``: the textbook open3d
pipeline on the same frames for comparison (2 cm voxel downsampling, three RANSAC planes
removed, DBSCAN at 5 cm); ``segment_precision``/``segment_recall`` against the hand
labels. ``cloud_ms_p50``: the frame's filtered cloud as perception_node publishes it
(every 4th pixel, within 4 m) vs ``o3d_cloud_ms_p50``, open3d's usual way to a light
cloud (back-projection, 2 cm voxels, statistical outlier removal), both on Redwood frame
0. ``replay_msgs_per_s``: every message of the real Nav2 TurtleBot 4 MCAP (odometry, TF,
AMCL poses) read, deserialised and turned into a TF buffer and a pose stream.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.perception_baseline import (  # noqa: E402
    observations_from_frame as baseline_observations,
)
from perception import (  # noqa: E402
    DepthMap,
    DepthMapConfig,
    PinholeIntrinsics,
    decode_depth,
    observations_from_frame,
)
from perception.bag import read_poses, read_tf, topics  # noqa: E402

DATA = REPO.parent / "shared" / "data" / "rgbd_frames" / "open3d_redwood_5frames"


def main() -> None:
    raw = np.asarray(Image.open(DATA / "depth" / "00000.png"))
    k = PinholeIntrinsics(640, 480, 525.0, 525.0, 319.5, 239.5)
    rows, cols = np.indices((480, 640))
    instance = (rows // 96) * 6 + cols // 107  # 5 x 6 = 30 regions
    labels = {i: f"Thing{i}" for i in range(30)}
    pose = np.eye(4)
    times: list[float] = []
    base_times: list[float] = []
    # Interleaved, so both paths see the same machine load.
    for _ in range(60):
        for path, into in ((observations_from_frame, times), (baseline_observations, base_times)):
            t0 = time.perf_counter()
            depth = decode_depth(raw, "16UC1", 1000.0)
            result = path(depth, instance, labels, k, pose)
            into.append(time.perf_counter() - t0)
        assert len(result.observations) >= 25
    tsdf_ms = _tsdf_ms()
    segment = _segment_figures()
    clouds = _cloud_figures(raw, k)
    bag = REPO.parent / "shared" / "data" / "ros_bags" / "evo_testdata" / "nav2_turtlebot.mcap"
    n_msgs = sum(n for _kind, n in topics(bag).values())
    rates = []
    for _ in range(3):
        t0 = time.perf_counter()
        read_tf(bag)
        read_poses(bag, "/amcl_pose")
        read_poses(bag, "/odom")
        rates.append(n_msgs / (time.perf_counter() - t0))
    out = {
        "frame_ms_p50": round(statistics.median(times) * 1e3, 2),
        "baseline_frame_ms_p50": round(statistics.median(base_times) * 1e3, 2),
        "speedup": round(statistics.median(base_times) / statistics.median(times), 2),
        "instances": len(result.observations),
        "width": 640,
        "height": 480,
        "tsdf_integrate_ms_p50": tsdf_ms,
        "tsdf_voxel_m": 0.01,
        **segment,
        **clouds,
        "replay_msgs_per_s": round(statistics.median(rates)),
        "replay_msgs": n_msgs,
    }
    print(json.dumps(out))


def _tsdf_ms() -> float:
    """Median time to fuse one of Redwood's five 640x480 depth frames (with its pose) into
    a TSDF of 1 cm voxels, over three passes of the five."""
    lines = (DATA / "trajectory.log").read_text().split("\n")
    poses = [
        np.array([[float(x) for x in lines[i + r].split()] for r in range(1, 5)])
        for i in range(0, len(lines) - 4, 5)
    ]
    cam = json.loads((DATA / "camera_primesense.json").read_text())
    m = cam["intrinsic_matrix"]  # column-major
    k = PinholeIntrinsics(cam["width"], cam["height"], m[0], m[4], m[6], m[7])
    depths = [
        decode_depth(np.asarray(Image.open(p)), "16UC1", 1000.0)
        for p in sorted((DATA / "depth").glob("*.png"))
    ]
    times = []
    for _ in range(3):
        depth_map = DepthMap(DepthMapConfig(voxel_m=0.01))
        for depth, pose in zip(depths, poses, strict=True):
            t0 = time.perf_counter()
            depth_map.integrate(depth, k, pose)
            times.append(time.perf_counter() - t0)
    return round(statistics.median(times) * 1e3, 2)


def _segment_figures() -> dict[str, float]:
    import open3d as o3d

    from perception.segment import SegmenterConfig, segment_frame, unknown_observations
    from tests.perception.test_segment import LABELS, LOADERS, score

    frames = {name: load() for name, load in LOADERS.items()}
    ours: list[float] = []
    theirs: list[float] = []
    totals = np.zeros(4)
    for rep in range(10):
        for name, f in frames.items():
            cfg = SegmenterConfig(up_axis=f.up)
            t0 = time.perf_counter()
            seg = segment_frame(f.depth, f.k, f.pose, cfg)
            unknown_observations(f.depth, f.k, f.pose, seg, f.colour, config=cfg)
            ours.append(time.perf_counter() - t0)
            if rep == 0:
                totals += score(seg, LABELS[name], f.depth, cfg.max_depth_m)
            t0 = time.perf_counter()
            _o3d_pipeline(o3d, f.depth, f.k)
            theirs.append(time.perf_counter() - t0)
    return {
        "segment_ms_p50": round(statistics.median(ours) * 1e3, 2),
        "o3d_planes_dbscan_ms_p50": round(statistics.median(theirs) * 1e3, 2),
        "segment_precision": round(totals[0] / totals[1], 3),
        "segment_recall": round(totals[2] / totals[3], 3),
        "segments": int(totals[1]),
        "labelled_things": int(totals[3]),
    }


def _cloud_figures(raw: np.ndarray, k: PinholeIntrinsics) -> dict[str, float]:
    import open3d as o3d

    from perception import backproject
    from perception.segment import filtered_cloud

    depth = decode_depth(raw, "16UC1", 1000.0)
    ours: list[float] = []
    theirs: list[float] = []
    for _ in range(20):
        t0 = time.perf_counter()
        mine = filtered_cloud(depth, k, np.eye(4))
        ours.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        cloud = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(backproject(depth, k)))
        cloud = cloud.voxel_down_sample(0.02)
        cloud, _kept = cloud.remove_statistical_outlier(20, 2.0)
        theirs.append(time.perf_counter() - t0)
    return {
        "cloud_ms_p50": round(statistics.median(ours) * 1e3, 2),
        "cloud_points": len(mine),
        "o3d_cloud_ms_p50": round(statistics.median(theirs) * 1e3, 2),
        "o3d_cloud_points": len(cloud.points),
    }


def _o3d_pipeline(o3d: object, depth: np.ndarray, k: PinholeIntrinsics) -> None:
    """open3d's tabletop recipe: depth → cloud, 2 cm voxels, three planes, DBSCAN 5 cm."""
    from perception import backproject

    geo = o3d.geometry  # type: ignore[attr-defined]
    cloud = geo.PointCloud(o3d.utility.Vector3dVector(backproject(depth, k)))  # type: ignore[attr-defined]
    cloud = cloud.voxel_down_sample(0.02)
    for _ in range(3):
        if len(cloud.points) < 100:
            break
        _plane, inliers = cloud.segment_plane(0.02, 3, 200)
        cloud = cloud.select_by_index(inliers, invert=True)
    cloud.cluster_dbscan(eps=0.05, min_points=10)


if __name__ == "__main__":
    main()
