"""Camera rendering for the perception path: depth, instance segmentation and plain RGB.

Objects are their axis-aligned boxes, less the columns over cells the agent can stand
on (:func:`solid_parts`); the floor is the plane y = 0 and walls are
the rooms' floor-polygon edges raised to ``wall_height_m``. Each primitive is
ray-cast only inside its projected screen rectangle and z-buffered, which keeps
a 320x240 frame to a few milliseconds of numpy. Depth is planar (distance along
the optical axis, metres, as AI2-THOR's ``depth_frame``); pixels that hit
nothing within ``max_depth_m`` get 0 (invalid), as depth sensors report.

Camera frame: OpenCV (x right, y down, z forward). World: AI2-THOR (y up,
yaw 0 looks along +z, yaw 90 along +x; positive horizon looks down).
"""

from __future__ import annotations

import functools
import itertools
import zlib
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from embodiment.camera import HORIZON_DEG, ai2thor_camera_pose, ai2thor_camera_rotation
from memory_core.types import PinholeIntrinsics
from sim.world import SimObject, World

__all__ = [
    "CameraFrame",
    "render",
    "segmentation",
]


@dataclass(frozen=True, slots=True)
class CameraFrame:
    rgb: NDArray[np.uint8]
    depth: NDArray[np.float32]
    instance: NDArray[np.int32]
    """Index into ``instance_ids`` per pixel; -1 where nothing was hit."""
    instance_ids: tuple[str, ...]
    intrinsics: PinholeIntrinsics
    world_from_camera: NDArray[np.float64]
    """4x4 pose of the camera (OpenCV axes) in the world."""


def rep118_depth(depth: NDArray[np.float32]) -> NDArray[np.float32]:
    """Depth as a ROS 32FC1 image carries it (REP 118): metres, NaN where there is no
    valid depth (the renderer marks those 0, and 0 would read as a distance)."""
    valid = np.isfinite(depth) & (depth > 0)
    return np.where(valid, depth, np.nan).astype(np.float32)


def camera_pose(world: World, horizon_deg: float = HORIZON_DEG) -> NDArray[np.float64]:
    cam_y = world.spec.agent_height + world.config.camera_height_m
    return ai2thor_camera_pose(
        (world.agent_xz[0], cam_y, world.agent_xz[1]), world.agent_yaw, horizon_deg
    )


@functools.lru_cache(maxsize=32)
def _rays(
    width: int, height: int, hfov: float, yaw: float, horizon: float
) -> tuple[NDArray[np.float32], tuple[NDArray[np.float32], ...]]:
    """World-frame ray directions (unit optical-axis component) and their inverses.

    They depend only on the image size and the camera's orientation, which takes few
    values (90° yaw steps), so they are computed once per orientation."""
    intr = PinholeIntrinsics.from_fov(width, height, hfov)
    u, v = np.meshgrid(np.arange(width), np.arange(height))
    cam = np.stack([(u - intr.cx) / intr.fx, (v - intr.cy) / intr.fy, np.ones_like(u, float)], -1)
    dirs = cam @ ai2thor_camera_rotation(yaw, horizon).T
    # Exact zeros would make 0 * inf = NaN in the slab test; nudge them off zero.
    dirs[np.abs(dirs) < 1e-9] = 1e-9
    dirs32 = dirs.astype(np.float32)
    inv = tuple(np.ascontiguousarray(1.0 / dirs32[..., k]) for k in range(3))
    for a in (dirs32, *inv):
        a.setflags(write=False)
    return dirs32, inv


def _color(key: str) -> NDArray[np.float64]:
    h = zlib.crc32(key.encode())
    return np.array([(h >> 16) & 255, (h >> 8) & 255, h & 255], dtype=np.float64) * 0.6 + 60


def render(
    world: World,
    width: int = 320,
    height: int = 240,
    horizon_deg: float = HORIZON_DEG,
    max_depth_m: float = 10.0,
    wall_height_m: float = 2.5,
) -> CameraFrame:
    intr = PinholeIntrinsics.from_fov(width, height, world.config.field_of_view_deg)
    pose = camera_pose(world, horizon_deg)
    rot, origin = pose[:3, :3], pose[:3, 3]
    dirs, inv = _rays(width, height, world.config.field_of_view_deg, world.agent_yaw, horizon_deg)
    depth = np.full((height, width), np.inf, dtype=np.float32)
    inst = np.full((height, width), -1, dtype=np.int32)
    normal_y = np.zeros((height, width), dtype=np.float32)
    ids: list[str] = []

    def project_rect(corners: NDArray[np.float64]) -> tuple[int, int, int, int] | None:
        pc = (corners - origin) @ rot  # camera frame
        if np.all(pc[:, 2] <= 0.05):
            return None
        if np.any(pc[:, 2] <= 0.05):
            return (0, width, 0, height)
        px = intr.fx * pc[:, 0] / pc[:, 2] + intr.cx
        py = intr.fy * pc[:, 1] / pc[:, 2] + intr.cy
        x0, x1 = max(int(np.floor(px.min())), 0), min(int(np.ceil(px.max())) + 1, width)
        y0, y1 = max(int(np.floor(py.min())), 0), min(int(np.ceil(py.max())) + 1, height)
        if x0 >= x1 or y0 >= y1:
            return None
        return (x0, x1, y0, y1)

    def splat(
        rect: tuple[int, int, int, int],
        t: NDArray[np.float64],
        idx: int,
        ny: NDArray[np.float64] | float,
        see_through: tuple[int, ...] = (),
    ) -> None:
        x0, x1, y0, y1 = rect
        sub = depth[y0:y1, x0:x1]
        closer = t < sub
        if see_through:
            closer |= np.isin(inst[y0:y1, x0:x1], see_through) & np.isfinite(t)
        sub[closer] = t[closer]
        inst[y0:y1, x0:x1][closer] = idx
        normal_y[y0:y1, x0:x1][closer] = ny[closer] if isinstance(ny, np.ndarray) else ny

    # Floor (y = 0), one id for the whole floor.
    ids.append("Floor")
    with np.errstate(divide="ignore", invalid="ignore"):
        t_floor = np.where(dirs[..., 1] < -1e-6, -origin[1] / dirs[..., 1], np.inf)
    splat((0, width, 0, height), t_floor, 0, 1.0)

    # Walls: the room polygons' edges.
    for room in world.spec.rooms:
        pts = room.polygon
        for (ax, az), (bx, bz) in zip(pts, pts[1:] + pts[:1], strict=True):
            corners = np.array(
                [[ax, 0, az], [bx, 0, bz], [ax, wall_height_m, az], [bx, wall_height_m, bz]],
                dtype=float,
            )
            rect = project_rect(corners)
            if rect is None:
                continue
            x0, x1, y0, y1 = rect
            d = dirs[y0:y1, x0:x1]
            ex, ez = bx - ax, bz - az
            nx, nz = -ez, ex  # wall normal in the floor plane
            denom = d[..., 0] * nx + d[..., 2] * nz
            with np.errstate(divide="ignore", invalid="ignore"):
                t = ((ax - origin[0]) * nx + (az - origin[2]) * nz) / denom
                hx = origin[0] + t * d[..., 0]
                hz = origin[2] + t * d[..., 2]
                hy = origin[1] + t * d[..., 1]
                s = ((hx - ax) * ex + (hz - az) * ez) / (ex * ex + ez * ez)
            ok = (t > 0) & (s >= 0) & (s <= 1) & (hy >= 0) & (hy <= wall_height_m)
            idx = len(ids)
            ids.append(f"Wall|{room.room_id}|{ax:.2f}|{az:.2f}")
            splat(rect, np.where(ok, t, np.inf), idx, 0.0)

    # Objects: slab test against their boxes, only inside their screen rectangles. Open
    # containers are drawn before their contents, which show through them (a solid box
    # would otherwise hide what an opened fridge holds).
    def part_of(o: SimObject) -> str | None:
        # AI2-THOR names a part by its whole's id: "Sink|...|SinkBasin" lies in "Sink|...".
        whole = o.object_id.rpartition("|")[0]
        return whole if whole in world.objects else None

    objs = list(world.objects.values())
    centres = np.array([o.center for o in objs]).reshape(-1, 3)
    halves = np.array([o.size for o in objs]).reshape(-1, 3) / 2
    # enclosers[i]: the larger boxes holding object i's centre (a basin set into a counter,
    # a sink's basin inside the sink), for things nothing else is said to hold. All of
    # them, not the smallest: a box of guessed size (curtains, a shelf) may hold the
    # centre too and would leave the counter hiding the basin.
    inside = np.all(np.abs(centres[:, None, :] - centres[None, :, :]) <= halves[None, :, :], axis=2)
    np.fill_diagonal(inside, False)
    volume = np.prod(2 * halves, axis=1)
    inside &= volume[None, :] > volume[:, None]
    enclosers: dict[str, list[str]] = {
        objs[i].object_id: [objs[int(j)].object_id for j in np.flatnonzero(row)]
        for i, row in enumerate(inside)
        if row.any()
    }

    # Objects the scene data lists without a place (``inferred``: a window, a sink put on
    # some free floor cell by a documented rule) are drawn first among things as deep in
    # the support tree (holders still before what they hold: an inferred cup on a table
    # drawn before the table would vanish under it), and what the data does place shows
    # through them: a guessed 1.3 m window in mid-room must not hide the soap bar behind it.
    order = sorted(
        objs,
        key=lambda o: (
            len(world.ancestors(o.object_id)),
            not o.inferred,
            part_of(o) is not None or o.object_id in enclosers,
        ),
    )
    index_of: dict[str, int] = {}
    guessed: list[int] = []
    cells = np.asarray(world.spec.reachable, dtype=np.float64).reshape(-1, 2)
    for o in order:
        if world.enclosed(o.object_id) and o.object_id != world.held:
            continue  # hidden inside a closed container (its box is drawn instead)
        c, s = np.array(o.center), np.array(o.size) / 2
        if np.linalg.norm(c - origin) - np.linalg.norm(s) > max_depth_m:
            continue
        lo, hi = c - s, c + s
        corners = np.array(
            [[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])]
        )
        rect = project_rect(corners)
        if rect is None:
            continue
        x0, x1, y0, y1 = rect
        t_hit = np.full((y1 - y0, x1 - x0), np.inf)
        top = np.zeros((y1 - y0, x1 - x0), dtype=bool)
        parts = [(lo, hi)] if o.pickupable else solid_parts(lo, hi, cells, world.spec.grid_size)
        for plo, phi in parts:
            slabs = []
            for k in range(3):
                iv = inv[k][y0:y1, x0:x1]
                a, b = (plo[k] - origin[k]) * iv, (phi[k] - origin[k]) * iv
                slabs.append((np.minimum(a, b), np.maximum(a, b)))
            tmin = np.maximum(np.maximum(slabs[0][0], slabs[1][0]), slabs[2][0])
            tmax = np.minimum(np.minimum(slabs[0][1], slabs[1][1]), slabs[2][1])
            nearer = (tmax >= tmin) & (tmin > 0) & (tmin < t_hit)
            t_hit[nearer] = tmin[nearer]
            # Top faces catch the light: the y slab set tmin there.
            top[nearer] = (tmin == slabs[1][0])[nearer] & (dirs[y0:y1, x0:x1, 1] < 0)[nearer]
        hit = np.isfinite(t_hit)
        tmin = t_hit
        idx = len(ids)
        ids.append(o.object_id)
        index_of[o.object_id] = idx
        if o.inferred:
            guessed.append(idx)
        # What holds it, the whole it is part of, or the box it sits in is drawn first and
        # seen through where it covers it: a basin in its sink or counter, a cup in a bowl,
        # the contents of an open fridge (a closed one hides them: ``enclosed`` above).
        holder = o.parent_id or part_of(o)
        holders = [holder] if holder is not None else enclosers.get(o.object_id, [])
        windows: list[int] = []
        for h_id in holders:
            h = world.objects[h_id]
            if not h.openable or h.is_open or h_id != o.parent_id:
                windows.append(index_of.get(h_id, -2))
        if part_of(o) is not None:
            # A part is set into what is around it (a basin into its sink and the counter
            # over the sink): seen through every drawn box its own box (raised 10 cm)
            # touches.
            for other, k in index_of.items():
                if other != o.object_id and _touch(o, world.objects[other], 0.1):
                    windows.append(k)
        if not o.inferred:
            windows += guessed
        splat(rect, np.where(hit, tmin, np.inf), idx, top.astype(float), tuple(windows))

    valid = np.isfinite(depth) & (depth <= max_depth_m)
    inst[~valid] = -1
    palette = np.stack([_color(i) for i in ids]).astype(np.float32)
    shade = 0.65 + 0.35 * normal_y
    fog = np.clip(1.0 - depth / np.float32(max_depth_m * 1.5), 0.3, 1.0)
    rgb = palette[np.maximum(inst, 0)] * (shade * np.where(valid, fog, 0.0))[..., None]
    return CameraFrame(
        rgb=np.clip(rgb, 0, 255).astype(np.uint8),
        depth=np.where(valid, depth, 0.0).astype(np.float32),
        instance=inst,
        instance_ids=tuple(ids),
        intrinsics=intr,
        world_from_camera=pose,
    )


def segmentation(
    frame: CameraFrame, world: World
) -> tuple[NDArray[np.uint16], list[str], list[str]]:
    """The frame's instance segmentation as a perfect segmenter would give it: a mono16
    mask (0 = none, i = the i-th object), the objects' types as labels, and their ids.
    Walls, floor and anything the world does not list as an object stay 0."""
    present = sorted(set(np.unique(frame.instance).tolist()) - {-1})
    kept = [i for i in present if frame.instance_ids[i] in world.objects]
    lut = np.zeros(len(frame.instance_ids) + 1, dtype=np.uint16)
    for n, idx in enumerate(kept, start=1):
        lut[idx + 1] = n
    ids = [frame.instance_ids[i] for i in kept]
    return lut[frame.instance + 1], [world.objects[o].object_type for o in ids], ids


FLAT_M = 0.15
"""Things no higher than this (rugs, mats) are walked on: drawn whole."""
KEEP_FRACTION = 0.5
"""A box that would keep less of its footprint than this is drawn whole."""


def solid_parts(
    lo: NDArray[np.float64], hi: NDArray[np.float64], cells: NDArray[np.float64], step: float
) -> list[tuple[NDArray[np.float64], NDArray[np.float64]]]:
    """A fixed object's box less the columns over cells the agent can stand on (squares of
    side ``step`` around ``cells``' (x, z) points), as boxes.

    A box is the only shape the scene data gives, and it overstates non-convex things: the
    box of an L-shaped counter (or a type's median box where the size was not recorded)
    covers floor the agent walks on, and drawn whole it would hide everything behind it.
    Where the agent can stand there is nothing solid, so those columns are cut out, unless
    that would leave less than half of the footprint."""
    h = step / 2
    if hi[1] <= FLAT_M or len(cells) == 0:
        return [(lo, hi)]
    inside = (
        (cells[:, 0] + h > lo[0])
        & (cells[:, 0] - h < hi[0])
        & (cells[:, 1] + h > lo[2])
        & (cells[:, 1] - h < hi[2])
    )
    holes = cells[inside]
    if len(holes) == 0:
        return [(lo, hi)]
    xs = sorted(
        {
            lo[0],
            hi[0],
            *(float(v) for v in np.clip(holes[:, 0] - h, lo[0], hi[0])),
            *(float(v) for v in np.clip(holes[:, 0] + h, lo[0], hi[0])),
        }
    )
    strips: list[tuple[float, float, list[tuple[float, float]]]] = []
    for xa, xb in itertools.pairwise(xs):
        if xb - xa < 1e-6:
            continue
        mid = (xa + xb) / 2
        cut = sorted(
            (max(z - h, lo[2]), min(z + h, hi[2])) for x, z in holes if x - h < mid < x + h
        )
        free, z0 = [], float(lo[2])
        for za, zb in cut:
            if za > z0 + 1e-6:
                free.append((z0, za))
            z0 = max(z0, zb)
        if hi[2] > z0 + 1e-6:
            free.append((z0, float(hi[2])))
        if strips and strips[-1][2] == free and abs(strips[-1][1] - xa) < 1e-6:
            strips[-1] = (strips[-1][0], xb, free)  # same cut as its neighbour: one box
        else:
            strips.append((xa, xb, free))
    kept = sum((xb - xa) * (zb - za) for xa, xb, free in strips for za, zb in free)
    if kept < KEEP_FRACTION * (hi[0] - lo[0]) * (hi[2] - lo[2]):
        # Mostly over free cells: a small thing whose box is a guess (a TV on a wall over
        # the floor, a chair); it is there, so it is drawn whole.
        return [(lo, hi)]
    return [
        (np.array([xa, lo[1], za]), np.array([xb, hi[1], zb]))
        for xa, xb, free in strips
        for za, zb in free
    ]


def _touch(a: SimObject, b: SimObject, raise_m: float) -> bool:
    """Whether ``a``'s box, its top raised by ``raise_m``, meets ``b``'s box."""
    for k in range(3):
        lo_a, hi_a = a.center[k] - a.size[k] / 2, a.center[k] + a.size[k] / 2
        if k == 1:
            hi_a += raise_m
        lo_b, hi_b = b.center[k] - b.size[k] / 2, b.center[k] + b.size[k] / 2
        if hi_a < lo_b or hi_b < lo_a:
            return False
    return True
