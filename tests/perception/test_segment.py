"""The geometric segmenter on real RGB-D frames, scored against hand labels
(``segment_labels.yaml``): precision (segments that are mostly one real thing) and recall
(real things with a segment), plus its invariants on synthetic-free inputs."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image
from scipy.spatial.transform import Rotation

from memory_core import Memory
from perception import PinholeIntrinsics, decode_depth
from perception.segment import (
    UNKNOWN,
    Segmentation,
    SegmenterConfig,
    colour_name,
    segment_frame,
    unknown_observations,
)
from tests.conftest import DATA

FRAMES = DATA / "rgbd_frames"
LABELS = yaml.safe_load((Path(__file__).parent / "segment_labels.yaml").read_text())


@dataclass(frozen=True)
class Frame:
    depth: np.ndarray
    colour: np.ndarray
    k: PinholeIntrinsics
    pose: np.ndarray
    up: str


def _redwood(i: int) -> Frame:
    root = FRAMES / "open3d_redwood_5frames"
    cam = json.loads((root / "camera_primesense.json").read_text())
    m = cam["intrinsic_matrix"]  # column-major
    k = PinholeIntrinsics(cam["width"], cam["height"], m[0], m[4], m[6], m[7])
    lines = (root / "trajectory.log").read_text().split("\n")
    pose = np.array([[float(x) for x in lines[5 * i + r].split()] for r in range(1, 5)])
    depth = decode_depth(np.asarray(Image.open(root / f"depth/{i:05d}.png")), "16UC1", 1000.0)
    colour = np.asarray(Image.open(root / f"color/{i:05d}.jpg").convert("RGB"))
    return Frame(depth, colour, k, pose, "y")  # Redwood's world: y up


def _icl(i: int) -> Frame:
    root = FRAMES / "slambook2_iclnuim_5frames"
    cam = json.loads((root / "intrinsics.json").read_text())
    k = PinholeIntrinsics(cam["width"], cam["height"], cam["fx"], cam["fy"], cam["cx"], cam["cy"])
    t = [float(x) for x in (root / "pose.txt").read_text().split("\n")[i - 1].split()]
    pose = np.eye(4)
    pose[:3, :3] = Rotation.from_quat(t[3:]).as_matrix()
    pose[:3, 3] = t[:3]
    depth = decode_depth(np.asarray(Image.open(root / f"depth/{i}.png")), "16UC1", 5000.0)
    colour = np.asarray(Image.open(root / f"color/{i}.png").convert("RGB"))
    return Frame(depth, colour, k, pose, "y")  # the living room's world: y up


def _tum() -> Frame:
    """TUM's frame has no pose: the camera's tilt comes from the floor (a hand-marked patch
    of it, fitted as a plane), so that the world's z is up."""
    root = FRAMES / "open3d_single_frames"
    k = PinholeIntrinsics(640, 480, 525.0, 525.0, 319.5, 239.5)  # TUM's default camera
    depth = decode_depth(np.asarray(Image.open(root / "TUM_depth.png")), "16UC1", 5000.0)
    colour = np.asarray(Image.open(root / "TUM_color.png").convert("RGB"))
    x0, y0, x1, y1 = 250, 440, 360, 480  # floor between the two chairs
    v, u = np.mgrid[y0:y1, x0:x1]
    z = depth[y0:y1, x0:x1]
    ok = np.isfinite(z)
    pts = np.stack([(u - k.cx) / k.fx * z, (v - k.cy) / k.fy * z, z], axis=-1)[ok]
    centred = pts - pts.mean(axis=0)
    normal = np.linalg.svd(centred, full_matrices=False)[2][2]
    if normal[1] > 0:  # camera y points down: up is -y
        normal = -normal
    x_axis = np.cross([0.0, 0.0, 1.0], normal)
    x_axis /= np.linalg.norm(x_axis)
    pose = np.eye(4)
    pose[:3, :3] = np.stack([x_axis, np.cross(normal, x_axis), normal])
    pose[:3, 3] = (0.0, 0.0, float(-(pts.mean(axis=0) @ normal)))  # the floor at z = 0
    return Frame(depth, colour, k, pose, "z")


LOADERS = {
    "tum": _tum,
    "redwood0": lambda: _redwood(0),
    "icl1": lambda: _icl(1),
    "icl3": lambda: _icl(3),
    "icl5": lambda: _icl(5),
}


def score(
    seg: Segmentation, boxes: dict[str, list[int]], depth: np.ndarray, max_depth_m: float
) -> tuple[int, int, int, int]:
    """(segments that are mostly one labelled thing, segments, labelled things with such a
    segment, labelled things in sensing range). A segment belongs to the smallest box
    holding at least half of its cells (a bottle's box inside the desk's)."""
    s, off = seg.stride, seg.offset
    rows, cols = np.nonzero(seg.labels)
    ys, xs = off + s * rows, off + s * cols
    ids = seg.labels[rows, cols]
    area = {name: (b[2] - b[0]) * (b[3] - b[1]) for name, b in boxes.items()}
    found: set[str] = set()
    good = 0
    for i in range(1, seg.objects + 1):
        x, y = xs[ids == i], ys[ids == i]
        holders = [
            name
            for name, (x0, y0, x1, y1) in boxes.items()
            if np.mean((x >= x0) & (x < x1) & (y >= y0) & (y < y1)) >= 0.5
        ]
        if holders:
            good += 1
            found.add(min(holders, key=lambda n: area[n]))
    in_range = {
        name
        for name, (x0, y0, x1, y1) in boxes.items()
        if np.isfinite(depth[y0:y1, x0:x1]).any()
        and np.nanmedian(depth[y0:y1, x0:x1]) <= max_depth_m
    }
    return good, seg.objects, len(found & in_range), len(in_range)


@pytest.fixture(scope="module")
def scored() -> dict[str, tuple[int, int, int, int]]:
    out = {}
    for name, load in LOADERS.items():
        f = load()
        cfg = SegmenterConfig(up_axis=f.up)
        seg = segment_frame(f.depth, f.k, f.pose, cfg)
        out[name] = score(seg, LABELS[name], f.depth, cfg.max_depth_m)
    return out


def test_precision_and_recall_hold(scored) -> None:  # type: ignore[no-untyped-def]
    """Measured on 2026-12-03: 47 of 58 segments are mostly one labelled thing (81%), 20
    of 40 labelled things have a segment (50%). What is missed: thin things (a magazine,
    scissors, a plate: under the plane tolerance), things merged with what they lean on
    (cushions with the sofa's back), things on a support too small to be found (the globe
    on the cabinet). What is wrong: curtain folds standing on the floor."""
    good = sum(v[0] for v in scored.values())
    segments = sum(v[1] for v in scored.values())
    found = sum(v[2] for v in scored.values())
    things = sum(v[3] for v in scored.values())
    assert good / segments >= 0.75, scored
    assert found / things >= 0.45, scored


def test_segments_become_unknown_observations_with_size_and_colour() -> None:
    f = LOADERS["tum"]()
    cfg = SegmenterConfig(up_axis=f.up)
    seg = segment_frame(f.depth, f.k, f.pose, cfg)
    obs = unknown_observations(f.depth, f.k, f.pose, seg, f.colour, 5.0, "camera", cfg)
    assert 10 <= len(obs) <= seg.objects
    assert all(o.label == UNKNOWN and o.box is not None and o.timestamp == 5.0 for o in obs)
    assert all(0 < o.confidence <= cfg.confidence for o in obs)
    # The yellow dice on the desk: a yellow thing about 12 cm across, on the desk's plane.
    dice = LABELS["tum"]["dice"]
    ys, xs = np.nonzero(seg.labels)
    at = seg.labels[ys, xs][
        (seg.offset + seg.stride * xs >= dice[0])
        & (seg.offset + seg.stride * xs < dice[2])
        & (seg.offset + seg.stride * ys >= dice[1])
        & (seg.offset + seg.stride * ys < dice[3])
    ]
    dice_id = int(np.bincount(at).argmax())
    grid = np.asarray(f.depth[seg.offset :: seg.stride, seg.offset :: seg.stride])
    cells = (seg.labels == dice_id) & np.isfinite(grid)
    centre = seg.cloud[cells].mean(axis=0)
    (o,) = [o for o in obs if np.linalg.norm(np.subtract(o.position, centre)) < 0.05]
    assert o.state["colour"] == "yellow" and str(o.state["rgb"]).startswith("#")
    assert o.box is not None and 0.06 <= max(o.box.size) <= 0.2
    desk = min(seg.supports, key=lambda h: abs(h - o.box.min_corner[2]))
    assert abs(o.box.min_corner[2] - desk) < 0.04


def test_colour_names() -> None:
    assert colour_name((0.9, 0.1, 0.1)) == "red"
    assert colour_name((0.95, 0.85, 0.1)) == "yellow"
    assert colour_name((0.1, 0.2, 0.8)) == "blue"
    assert colour_name((0.2, 0.6, 0.2)) == "green"
    assert colour_name((0.5, 0.5, 0.5)) == "grey"
    assert colour_name((0.05, 0.05, 0.05)) == "black"
    assert colour_name((0.97, 0.97, 0.95)) == "white"
    assert colour_name((0.35, 0.2, 0.1)) == "brown"


def test_a_frame_of_nothing_but_a_floor_has_no_objects() -> None:
    """A camera 1.5 m over a flat floor, looking down at it (z up): one support, no walls,
    no objects; NaN everywhere gives nothing either."""
    k = PinholeIntrinsics(160, 120, 100.0, 100.0, 79.5, 59.5)
    pose = np.eye(4)
    pose[:3, :3] = np.diag([1.0, -1.0, -1.0])  # optical z down
    pose[2, 3] = 1.5
    depth = np.full((120, 160), 1.5, np.float32)
    seg = segment_frame(depth, k, pose, SegmenterConfig(up_axis="z", stride=2))
    assert seg.objects == 0 and len(seg.supports) == 1 and abs(seg.supports[0]) < 1e-6
    none = segment_frame(np.full((120, 160), np.nan, np.float32), k, pose)
    assert none.objects == 0 and none.supports == ()
    with pytest.raises(ValueError, match="up_axis"):
        SegmenterConfig(up_axis="w")


def test_a_box_on_a_floor_is_one_object_of_its_size() -> None:
    """Ray-cast depth of a 20 cm cube on the floor seen from above and aside: one object
    whose box is the cube's visible part (its top and near faces, less the strip at the
    floor that lies within the plane tolerance)."""
    k = PinholeIntrinsics(320, 240, 250.0, 250.0, 159.5, 119.5)
    eye = np.array([0.0, -1.5, 1.2])
    forward = -eye / np.linalg.norm(eye)  # at the origin
    right = np.cross(forward, [0.0, 0.0, 1.0])
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    pose = np.eye(4)
    pose[:3, :3] = np.stack([right, down, forward], axis=1)
    pose[:3, 3] = eye
    v, u = np.mgrid[0:240, 0:320]
    rays = np.stack([(u - k.cx) / k.fx, (v - k.cy) / k.fy, np.ones_like(u, float)], -1)
    dirs = rays @ pose[:3, :3].T
    t_floor = np.where(dirs[..., 2] < 0, -eye[2] / np.minimum(dirs[..., 2], -1e-9), np.inf)
    lo, hi = np.array([-0.1, -0.1, 0.0]), np.array([0.1, 0.1, 0.2])
    with np.errstate(divide="ignore", invalid="ignore"):
        t1, t2 = (lo - eye) / dirs, (hi - eye) / dirs
    t_near = np.nanmax(np.minimum(t1, t2), axis=-1)
    t_far = np.nanmin(np.maximum(t1, t2), axis=-1)
    t_box = np.where((t_near <= t_far) & (t_near > 0), t_near, np.inf)
    t = np.minimum(t_floor, t_box)
    depth = np.where(np.isfinite(t), t, np.nan).astype(np.float32)  # z of a unit-z ray = t
    cfg = SegmenterConfig(up_axis="z")
    seg = segment_frame(depth, k, pose, cfg)
    assert seg.objects == 1, seg.dropped
    (o,) = unknown_observations(depth, k, pose, seg, config=cfg)
    assert o.box is not None
    assert np.all(np.asarray(o.box.min_corner) >= lo - 0.01)
    assert np.all(np.asarray(o.box.max_corner) <= hi + 0.01)
    assert abs(o.box.max_corner[2] - 0.2) < 0.01 and o.box.size[0] > 0.15
    assert o.box.min_corner[2] < 0.08 and o.box.contains(o.position)


def test_loci_replay_of_real_frames_without_masks_yields_unknown_things(tmp_path: Path) -> None:
    """ICL-NUIM's five frames and TUM's desk written as ROS 2 bags with their colour (in
    ROS's z-up world; only the container is synthetic): replay segments them into
    ``unknown`` things with colours, and what one frame shows agrees with the bag's."""
    from perception.bag_images import write_rgbd_bag
    from perception.replay import ReplayConfig, replay_bag

    y_up_to_z_up = np.array([[1, 0, 0, 0], [0, 0, -1, 0], [0, 1, 0, 0], [0, 0, 0, 1.0]])
    root = FRAMES / "slambook2_iclnuim_5frames"
    frames = [_icl(i) for i in range(1, 6)]
    raw = [np.asarray(Image.open(root / f"depth/{i}.png")) for i in range(1, 6)]
    bag = tmp_path / "icl"
    # ICL-NUIM's negative fy is not a ROS camera: the rows are flipped instead, which
    # gives every pixel the same camera-frame point with a positive fy.
    k = frames[0].k
    ros_k = PinholeIntrinsics(k.width, k.height, k.fx, -k.fy, k.cx, k.height - 1 - k.cy)
    write_rgbd_bag(
        bag,
        [r[::-1] for r in raw],
        [y_up_to_z_up @ f.pose for f in frames],
        ros_k,
        [10.0 + i for i in range(5)],
        colour_frames=[f.colour[::-1] for f in frames],
    )
    memory = Memory()
    summary = replay_bag(bag, memory, ReplayConfig(depth_scale=5000.0))
    assert summary.frames.segmented == 5 and summary.frames.skipped == ()
    things = memory.graph.find_by_label(UNKNOWN)
    assert 3 <= len(things) <= summary.frames.observations
    assert all("colour" in n.state for n in things)
    # TUM's desk in a bag of its own: replay puts the things where the direct call does.
    tum = _tum()
    raw_tum = np.asarray(Image.open(FRAMES / "open3d_single_frames/TUM_depth.png"))
    write_rgbd_bag(
        tmp_path / "tum", [raw_tum], [tum.pose], tum.k, [20.0], colour_frames=[tum.colour]
    )
    desk = Memory()
    replay_bag(tmp_path / "tum", desk, ReplayConfig(depth_scale=5000.0))
    cfg = SegmenterConfig(up_axis="z")
    seg = segment_frame(tum.depth, tum.k, tum.pose, cfg)
    direct = unknown_observations(tum.depth, tum.k, tum.pose, seg, tum.colour, config=cfg)
    remembered = desk.graph.find_by_label(UNKNOWN)
    assert len(remembered) == len(direct) >= 10
    centres = np.array([n.position for n in remembered])
    for o in direct:
        assert np.min(np.linalg.norm(centres - np.asarray(o.position), axis=1)) < 0.01


def test_loci_replay_says_what_the_segmenter_found(tmp_path: Path) -> None:
    """`loci replay` on TUM's desk as a bag: the things are in the memory file and the
    summary; `--no-segment` leaves frames without masks unperceived, as before."""
    import contextlib
    import io

    from loci.cli import main
    from memory_core import SQLiteStore
    from perception.bag_images import write_rgbd_bag

    tum = _tum()
    raw = np.asarray(Image.open(FRAMES / "open3d_single_frames/TUM_depth.png"))
    bag = tmp_path / "tum"
    write_rgbd_bag(bag, [raw], [tum.pose], tum.k, [20.0], colour_frames=[tum.colour])
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = main(
            [
                "replay",
                str(bag),
                "--depth-scale",
                "5000",
                "--memory",
                str(tmp_path / "m.db"),
                "--report",
                str(tmp_path / "r"),
            ]
        )
    assert code == 0, printed.getvalue()
    assert "1 frames segmented by geometry (colour from /camera/color/image_raw)" in (
        printed.getvalue()
    )
    summary = json.loads((tmp_path / "r/summary.json").read_text())
    assert summary["frames"]["segmented"] == 1
    memory = Memory()
    store = SQLiteStore(tmp_path / "m.db")
    memory.load(store)
    store.close()
    assert len(memory.graph.find_by_label(UNKNOWN)) >= 10
    with contextlib.redirect_stdout(io.StringIO()):
        assert (
            main(
                [
                    "replay",
                    str(bag),
                    "--depth-scale",
                    "5000",
                    "--no-segment",
                    "--report",
                    str(tmp_path / "r2"),
                ]
            )
            == 0
        )
    off = json.loads((tmp_path / "r2/summary.json").read_text())
    assert off["frames"]["segmented"] == 0 and off["frames"]["perceived"] == 0
