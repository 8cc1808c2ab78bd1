"""ALFRED / iTHOR floor plan → :class:`SceneSpec`.

What each object's position comes from, in order of trust:

1. ``recorded``: the complete AI2-THOR 5.0 object metadata of 8 floor plans
   (``ai2thor_recorded/.../objects_metadata_samples``) — used as is.
2. ``openable``: receptacle ids in ``*-openable.json`` (AI2-THOR ids encode the
   position), with the agent pose ALFRED uses to interact with each.
3. ``alfred-task``: ids named by the reference plans of the ALFRED tasks in this
   floor plan (fixtures such as DeskLamp, StoveBurner, SinkBasin), and the
   initial object poses of the floor plan's first ALFRED task (pickupables).
   On recorded floor plans, receptacles that ALFRED's layout lists but the 5.0
   recording lacks are added from (2).
4. ``inferred``: every other instance of a type that the scene's object list
   (``scene_objects_list.json``) says is there. A pickupable is put on top of a
   receptacle of this scene that accepts it (most likely receptacle type first,
   by ProcTHOR's statistics; instances taken in id order, round robin); a
   fixture stands on a reachable cell picked by a hash of (scene, type, index).
   Such objects are marked ``inferred`` and counted by ``loci scenes``.

Parents (what a pickupable is in/on) come from the recording when there is
one, otherwise from geometry: the smallest accepting receptacle whose
footprint holds the object and whose top is just below it.
"""

from __future__ import annotations

import dataclasses
import json
import re
import zlib
from collections import Counter
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from embodiment.affordances import Affordances
from sim.errors import SceneLoadError, UnknownSceneError
from sim.scene import ObjectSpec, RoomSpec, SceneSpec, ithor_object_id, type_of_id
from sim.support import find_support

__all__ = ["ithor_room_type", "list_ithor_scenes", "load_ithor_scene"]

AGENT_Y = 0.9009992
_ROOM_RANGES = (
    (1, 30, "Kitchen"),
    (201, 230, "LivingRoom"),
    (301, 330, "Bedroom"),
    (401, 430, "Bathroom"),
)
# Structural parts that the object lists name but no agent interacts with.
_STRUCTURE = frozenset({"Floor", "Wall", "Ceiling"})


def ithor_room_type(floor_plan: str) -> str:
    m = re.fullmatch(r"FloorPlan(\d+)", floor_plan)
    if not m:
        raise UnknownSceneError(f"{floor_plan!r} is not an iTHOR floor plan name")
    n = int(m.group(1))
    for lo, hi, kind in _ROOM_RANGES:
        if lo <= n <= hi:
            return kind
    raise UnknownSceneError(f"{floor_plan!r} is outside the iTHOR floor plan ranges")


def list_ithor_scenes(data: Path) -> list[str]:
    names = [p.name.split("-")[0] for p in (data / "alfred/layouts").glob("*-layout.npy")]
    return sorted(names, key=lambda n: int(n.removeprefix("FloorPlan")))


@cache
def _tasks(path: Path) -> tuple[dict[str, Any], ...]:
    with path.open(encoding="utf-8") as f:
        return tuple(json.loads(line) for line in f if line.strip())


@cache
def _scene_lists(path: Path) -> dict[str, list[str]]:
    data: dict[str, list[str]] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _ids_in_plan(task: dict[str, Any]) -> Iterable[str]:
    for step in task["high_pddl"]:
        pa = step["planner_action"]
        for key in ("objectId", "receptacleObjectId"):
            if isinstance(pa.get(key), str) and pa[key]:
                yield pa[key]


def _pos_of_id(object_id: str) -> tuple[float, float, float]:
    parts = object_id.split("|")
    return (float(parts[1]), float(parts[2]), float(parts[3]))


def load_ithor_scene(floor_plan: str, data: Path, aff: Affordances) -> SceneSpec:
    room_type = ithor_room_type(floor_plan)
    layout = data / "alfred/layouts" / f"{floor_plan}-layout.npy"
    if not layout.is_file():
        raise UnknownSceneError(f"no layout for {floor_plan} in {layout.parent}")
    try:
        grid = np.load(layout)
        openable: dict[str, list[float]] = json.loads(
            (data / "alfred/layouts" / f"{floor_plan}-openable.json").read_text()
        )
        expected = Counter(
            _scene_lists(data / "ai2thor_recorded/rl_thor_events/misc/scene_objects_list.json")[
                f"{floor_plan}_physics"
            ]
        )
    except (OSError, KeyError, ValueError) as exc:
        raise SceneLoadError(f"{floor_plan}: cannot read its layout files ({exc!r})") from exc
    reachable = tuple((float(x), float(z)) for x, z in grid)
    tasks = sorted(
        (
            t
            for t in _tasks(data / "alfred/alfred_valid_seen_tasks.jsonl")
            if t["floor_plan"] == floor_plan
        ),
        key=lambda t: t["task_id"],
    )
    recorded = (
        data
        / "ai2thor_recorded/rl_thor_events/objects_metadata_samples"
        / (f"{floor_plan}_physics.json")
    )
    notes: list[str] = []
    if recorded.is_file():
        objects = _from_recording(json.loads(recorded.read_text()), aff)
        notes.append("objects from the recorded AI2-THOR 5.0 metadata")
        # ALFRED ran on an older AI2-THOR whose scenes had a few receptacles the 5.0 scene
        # lacks (FloorPlan401's Cart); keep them so ALFRED's tasks stay runnable.
        types = {o.object_type for o in objects}
        for oid in sorted(openable):
            if type_of_id(oid) not in types:
                objects.append(
                    ObjectSpec(
                        oid,
                        type_of_id(oid),
                        _pos_of_id(oid),
                        aff.median_size(type_of_id(oid)),
                        source="openable (absent from the 5.0 recording)",
                    )
                )
                notes.append(f"{oid} added from ALFRED's layout")
    else:
        objects = _from_alfred(floor_plan, openable, tasks, expected, reachable, aff)
    if tasks:
        init = tasks[0]["init_action"]
        start = (float(init["x"]), float(init["z"]), float(init["rotation"]))
    else:
        start = (reachable[0][0], reachable[0][1], 0.0)
    xs = [c[0] for c in reachable] + [o.position[0] for o in objects]
    zs = [c[1] for c in reachable] + [o.position[2] for o in objects]
    pad = 0.5
    poly = (
        (min(xs) - pad, min(zs) - pad),
        (max(xs) + pad, min(zs) - pad),
        (max(xs) + pad, max(zs) + pad),
        (min(xs) - pad, max(zs) + pad),
    )
    return SceneSpec(
        name=floor_plan,
        kind="ithor",
        rooms=(RoomSpec(f"{floor_plan}|room", room_type, poly),),
        objects=tuple(objects),
        reachable=reachable,
        agent_start=start,
        agent_height=AGENT_Y,
        notes=tuple(notes),
        interact_poses=tuple((k, (v[0], v[1], v[2], v[3])) for k, v in sorted(openable.items())),
    )


def _from_recording(meta: dict[str, dict[str, Any]], aff: Affordances) -> list[ObjectSpec]:
    out = []
    for oid, m in sorted(meta.items()):
        p = m["position"]
        bb = m["axisAlignedBoundingBox"]["size"]
        c = m["axisAlignedBoundingBox"]["center"]
        parents = m.get("parentReceptacles") or []
        out.append(
            ObjectSpec(
                object_id=oid,
                object_type=m["objectType"],
                position=(p["x"], p["y"], p["z"]),
                size=(bb["x"], bb["y"], bb["z"]),
                rotation_y=m["rotation"]["y"],
                parent_id=parents[0] if parents else None,
                openness=m["openness"] if m["openable"] else None,
                toggled=m["isToggled"] if m["toggleable"] else None,
                source="recorded",
                name=m.get("name", ""),
                box_center=(c["x"], c["y"], c["z"]),
                controls=tuple(str(b) for b in m.get("controlledObjects") or ()),
            )
        )
    return out


def _from_alfred(
    fp: str,
    openable: dict[str, list[float]],
    tasks: list[dict[str, Any]],
    expected: Counter[str],
    reachable: tuple[tuple[float, float], ...],
    aff: Affordances,
) -> list[ObjectSpec]:
    specs: dict[str, ObjectSpec] = {}

    def put(
        oid: str,
        otype: str,
        pos: tuple[float, float, float],
        source: str,
        name: str = "",
        inferred: bool = False,
        parent: str | None = None,
    ) -> None:
        while oid in specs:  # two instances rounding to one id: nudge the later one
            pos = (pos[0] + 0.01, pos[1], pos[2])
            oid = ithor_object_id(otype, pos)
        specs[oid] = ObjectSpec(
            oid,
            otype,
            pos,
            aff.median_size(otype),
            parent_id=parent,
            openness=0.0 if aff.openable(otype) else None,
            toggled=False if aff.toggleable(otype) else None,
            inferred=inferred,
            source=source,
            name=name,
        )

    for oid in openable:
        put(oid, type_of_id(oid), _pos_of_id(oid), "openable")
    for task in tasks:
        for oid in _ids_in_plan(task):
            otype = type_of_id(oid)
            # Slices exist only after slicing; fixed things named by the plans are kept.
            if oid not in specs and not aff.pickupable(otype) and "Sliced" not in otype:
                put(oid, otype, _pos_of_id(oid), "alfred-task")
    if tasks:
        for pose in tasks[0]["object_poses"]:
            otype = pose["objectName"].split("_")[0]
            p = pose["position"]
            pos = (float(p["x"]), float(p["y"]), float(p["z"]))
            put(ithor_object_id(otype, pos), otype, pos, "alfred-task", pose["objectName"])

    have = Counter(s.object_type for s in specs.values())
    receptacles = sorted(
        (
            s
            for s in specs.values()
            if aff.receptacle(s.object_type) and not aff.pickupable(s.object_type)
        ),
        key=lambda s: s.object_id,
    )
    cells = sorted(reachable)
    for otype in sorted(expected):
        if otype in _STRUCTURE:
            continue
        for k in range(have[otype], expected[otype]):
            if aff.pickupable(otype):
                ranked = aff.receptacles_for(otype)
                hosts = sorted(
                    (r for r in receptacles if r.object_type in ranked),
                    key=lambda r: (ranked.index(r.object_type), r.object_id),
                )
                if hosts:
                    host = hosts[k % len(hosts)]
                    half = aff.median_size(otype)[1] / 2
                    top = host.position[1] + host.size[1] / 2
                    pos = (
                        host.position[0] + 0.05 * (k // len(hosts)),
                        top + half,
                        host.position[2],
                    )
                    put(
                        ithor_object_id(otype, pos),
                        otype,
                        pos,
                        "inferred:on-receptacle",
                        inferred=True,
                        parent=host.object_id,
                    )
                    continue
            x, z = cells[zlib.crc32(f"{fp}:{otype}:{k}".encode()) % len(cells)]
            pos = (x, aff.median_size(otype)[1] / 2, z)
            put(ithor_object_id(otype, pos), otype, pos, "inferred:on-floor-cell", inferred=True)
    objects = _guessed_boxes(list(specs.values()), aff)
    return [_with_parent(o, objects, aff) for o in objects]


def _guessed_boxes(objects: list[ObjectSpec], aff: Affordances) -> list[ObjectSpec]:
    """Boxes for objects whose size is a type's median.

    Such boxes of fixed things of one type are first made not to overlap: a stack of
    drawers 11 cm apart would get 22 cm boxes and shelves 21 cm apart 25 cm ones, each
    swallowing its neighbour and what rests on it, which no real scene does. Two that
    overlap are shrunk about their centres along the axis the centres differ most on, to
    meet halfway.

    A box stands on its pivot as the type does in the recorded scenes (a shelf's pivot is
    its bottom, a counter top's its surface: :meth:`Affordances.pivot_lift`); for other
    fixed types, floor-standing furniture's ids read y ≈ 0-0.1, so one whose pivot is
    below half its height stands on it."""

    def lift(o: ObjectSpec) -> float:
        if aff.pickupable(o.object_type):
            return 0.0
        recorded = aff.pivot_lift(o.object_type)
        if recorded is not None:
            return recorded
        return 0.5 if o.position[1] < o.size[1] / 2 else 0.0

    centre: dict[str, tuple[float, float, float]] = {}
    for o in objects:
        x, y, z = o.position
        up = lift(o)
        if up:
            # Nothing lifted goes through the floor (a bathroom's counter top id may read
            # y 0.09).
            y = max(y + up * o.size[1], o.size[1] / 2)
        centre[o.object_id] = (x, y, z)
    fixed = [o for o in objects if not aff.pickupable(o.object_type)]
    half = {o.object_id: [s / 2 for s in o.size] for o in objects}
    for i, a in enumerate(fixed):
        for b in fixed[i + 1 :]:
            if a.object_type != b.object_type:
                continue
            ha, hb = half[a.object_id], half[b.object_id]
            gap = [
                abs(p - q) for p, q in zip(centre[a.object_id], centre[b.object_id], strict=True)
            ]
            if any(g >= x + y for g, x, y in zip(gap, ha, hb, strict=True)):
                continue  # apart already
            k = max(range(3), key=lambda j: gap[j])
            if gap[k] < 1e-3:
                continue  # one place, two ids: nothing tells which way to split
            ha[k] = min(ha[k], gap[k] / 2)
            hb[k] = min(hb[k], gap[k] / 2)
    return [
        dataclasses.replace(
            o,
            size=(2 * half[o.object_id][0], 2 * half[o.object_id][1], 2 * half[o.object_id][2]),
            box_center=centre[o.object_id] if centre[o.object_id] != o.position else None,
        )
        for o in objects
    ]


def _with_parent(o: ObjectSpec, objects: list[ObjectSpec], aff: Affordances) -> ObjectSpec:
    if o.parent_id is not None or not aff.pickupable(o.object_type):
        return o
    parent = find_support(o, objects, aff)
    return o if parent is None else dataclasses.replace(o, parent_id=parent)
