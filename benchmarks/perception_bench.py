"""Perception benchmark: one 640x480 frame with 30 instance masks → observations.

The depth is a real Redwood frame (16-bit millimetres); the 30 instance masks tile
it as a 6x5 grid (synthetic: real segmentation masks for these frames are not in
the data). Median over repeats, single process; the last line is JSON.
``replay_msgs_per_s``: every message of the real Nav2 TurtleBot 4 MCAP (odometry, TF,
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

from perception import PinholeIntrinsics, decode_depth, observations_from_frame  # noqa: E402
from perception.bag import read_poses, read_tf, topics  # noqa: E402

DATA = REPO.parent / "shared" / "data" / "rgbd_frames" / "open3d_redwood_5frames"


def main() -> None:
    raw = np.asarray(Image.open(DATA / "depth" / "00000.png"))
    k = PinholeIntrinsics(640, 480, 525.0, 525.0, 319.5, 239.5)
    rows, cols = np.indices((480, 640))
    instance = (rows // 96) * 6 + cols // 107  # 5 x 6 = 30 regions
    labels = {i: f"Thing{i}" for i in range(30)}
    pose = np.eye(4)
    times = []
    for _ in range(60):
        t0 = time.perf_counter()
        depth = decode_depth(raw, "16UC1", 1000.0)
        result = observations_from_frame(depth, instance, labels, k, pose)
        times.append(time.perf_counter() - t0)
    assert len(result.observations) >= 25
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
        "instances": len(result.observations),
        "width": 640,
        "height": 480,
        "replay_msgs_per_s": round(statistics.median(rates)),
        "replay_msgs": n_msgs,
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
