"""Every Habitat episode file in the shared data reads as typed episodes (PointNav,
ObjectNav, Instance ImageNav, rearrange, PARTNR/MEMENTO), checked against values read
from the files by hand and against what must hold of any episode; the rearrangement
ones become Loci tasks that read back equal, the rest say why they cannot."""

from __future__ import annotations

import gzip
import json
import math
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from embodiment.tasks import Task, parse_task, task_to_json
from hsim.episodes import (
    HabitatEpisode,
    convert,
    load_episodes,
    to_task,
)
from hsim.errors import HabitatDataError

DATA = Path(__file__).resolve().parents[3] / "shared/data/habitat"
FILES = sorted(DATA.rglob("*.json.gz"))
CHALLENGE = "habitat_challenge_episodes"
LAB = "habitat_lab_test_data/episodes"

# Episode counts read from the files (len(json["episodes"])).
COUNTS = {
    f"{CHALLENGE}/data/datasets/instance_imagenav/hm3d/v3/val_mini/content/TEEsavR23oF.json.gz": 27,
    f"{CHALLENGE}/data/datasets/instance_imagenav/hm3d/v3/val_mini/content/wcojb4TFT35.json.gz": 21,
    f"{CHALLENGE}/data/datasets/instance_imagenav/hm3d/v3/val_mini/val_mini.json.gz": 0,
    f"{CHALLENGE}/data/datasets/objectnav/hm3d/v2/val_mini/content/TEEsavR23oF.json.gz": 15,
    f"{CHALLENGE}/data/datasets/objectnav/hm3d/v2/val_mini/content/wcojb4TFT35.json.gz": 15,
    f"{CHALLENGE}/data/datasets/objectnav/hm3d/v2/val_mini/val_mini.json.gz": 0,
    f"{CHALLENGE}/legacy/objectnav_mp3d.val_mini.json.gz": 30,
    f"{CHALLENGE}/legacy/pointgoal_gibson.val_mini.json.gz": 30,
    f"{CHALLENGE}/legacy/pointgoal_gibson_v2/val_mini/content/Greigsville.json.gz": 71,
    f"{CHALLENGE}/legacy/pointgoal_gibson_v2/val_mini/content/Mosquito.json.gz": 71,
    f"{CHALLENGE}/legacy/pointgoal_gibson_v2/val_mini/content/Pablo.json.gz": 30,
    f"{CHALLENGE}/legacy/pointgoal_gibson_v2/val_mini/val_mini.json.gz": 0,
    f"{LAB}/hssd_collaboration_2024_03_27_eps300_filtered.json.gz": 172,
    f"{LAB}/hssd_hitl_teleop_episodes.json.gz": 2000,
    f"{LAB}/hssd_rearrange_demo.json.gz": 2,
    f"{LAB}/replicacad_rearrange_default.json.gz": 1,
    "habitat_memento_partnr/datasets/joint_memory_utilization_stage.json.gz": 36,
}
# (converted, not converted) per rearrangement file.
CONVERTED = {
    f"{LAB}/hssd_collaboration_2024_03_27_eps300_filtered.json.gz": (154, 18),
    f"{LAB}/hssd_hitl_teleop_episodes.json.gz": (2000, 0),
    f"{LAB}/hssd_rearrange_demo.json.gz": (2, 0),
    f"{LAB}/replicacad_rearrange_default.json.gz": (0, 1),
    "habitat_memento_partnr/datasets/joint_memory_utilization_stage.json.gz": (0, 36),
}
# A navmesh path stored as float32 may come out a hair shorter than the float64 line.
GEODESIC_TOL_M = 1e-4


@cache
def _load(path: Path) -> tuple[HabitatEpisode, ...]:
    return tuple(load_episodes(path))


def _rel(path: Path) -> str:
    return path.relative_to(DATA).as_posix()


def _one(rel: str, episode_id: str) -> HabitatEpisode:
    return next(e for e in _load(DATA / rel) if e.episode_id == episode_id)


def _all() -> list[HabitatEpisode]:
    return [e for f in FILES for e in _load(f)]


# --------------------------------------------------------------------- the shared data


def test_the_data_dir_holds_the_known_files() -> None:
    assert {_rel(f) for f in FILES} >= set(COUNTS)


@pytest.mark.parametrize("path", FILES, ids=_rel)
def test_every_file_loads_with_its_episode_count(path: Path) -> None:
    with gzip.open(path, "rb") as fh:
        raw = json.load(fh)
    eps = _load(path)
    assert len(eps) == len(raw["episodes"])
    if _rel(path) in COUNTS:
        assert len(eps) == COUNTS[_rel(path)]
    assert [e.episode_id for e in eps] == [str(r["episode_id"]) for r in raw["episodes"]]
    assert all(e.scene_id == r["scene_id"] for e, r in zip(eps, raw["episodes"], strict=True))


def test_pointnav_spot_checks() -> None:
    e = _one(f"{CHALLENGE}/legacy/pointgoal_gibson.val_mini.json.gz", "0")
    assert e.kind == "pointnav"
    assert e.scene_id == "data/scene_datasets/gibson/Greigsville.glb"
    assert e.start_position == (-3.5681567192077637, 0.15501733124256134, -3.6761114597320557)
    assert e.goal_positions == ((-5.165468692779541, 0.15501733124256134, -1.1179859638214111),)
    assert e.geodesic_distance == pytest.approx(5.897794723510742)
    assert e.success_radius is None  # the legacy file leaves it to the task config
    assert any(u.startswith("info.difficulty") for u in e.unsupported)
    v2 = _one(f"{CHALLENGE}/legacy/pointgoal_gibson_v2/val_mini/content/Greigsville.json.gz", "0")
    assert v2.scene_id == "gibson/Greigsville.glb"
    assert v2.success_radius == 0.2
    assert v2.goal_positions[0] == (-5.976570129394531, 0.15501683950424194, 1.208316445350647)


def test_objectnav_spot_checks_inline_and_from_the_category_table() -> None:
    legacy = _one(f"{CHALLENGE}/legacy/objectnav_mp3d.val_mini.json.gz", "197")
    assert legacy.kind == "objectnav"
    assert legacy.scene_id == "mp3d/pLe4wQe7qrG/pLe4wQe7qrG.glb"
    assert legacy.object_category == "table"
    assert legacy.start_position == (3.23439, 0.07522, -2.1145)
    assert legacy.goal_positions == ((-0.88924, 0.52668, -0.0592),)
    assert len(legacy.goals[0].view_points) == 268
    assert legacy.geodesic_distance == pytest.approx(5.27672)

    hm3d = _one(
        f"{CHALLENGE}/data/datasets/objectnav/hm3d/v2/val_mini/content/TEEsavR23oF.json.gz", "7"
    )
    assert hm3d.scene_id == "hm3d_v0.2/minival/00800-TEEsavR23oF/TEEsavR23oF.basis.glb"
    assert hm3d.scene_dataset_config.endswith("hm3d_annotated_basis.scene_dataset_config.json")
    assert hm3d.object_category == "bed"
    # goals_by_category["TEEsavR23oF.basis.glb_bed"]: bed_16 and bed_516
    assert [g.object_id for g in hm3d.goals] == ["16", "516"]
    assert hm3d.goal_positions == ((-0.11123, 4.2913, -7.6972), (1.7875, 0.81575, -7.53384))
    assert hm3d.start_position == (-3.99935, 0.01338, -2.67815)


def test_instance_imagenav_spot_checks() -> None:
    e = _one(
        f"{CHALLENGE}/data/datasets/instance_imagenav/hm3d/v3/val_mini/content/TEEsavR23oF.json.gz",
        "331",
    )
    assert e.kind == "imagenav"
    assert (e.goal_object_id, e.goal_image_id, e.object_category) == ("10", 0, "tv_monitor")
    assert e.goals[0].object_name == "tv_10"
    assert e.goal_positions == ((-0.15094196796417236, 4.300083637237549, -4.852898597717285),)
    assert e.image_goal is not None
    assert e.image_goal.position == (-1.3000086545944214, 4.403198531013339, -5.817080020904541)
    assert (e.image_goal.hfov_deg, e.image_goal.width, e.image_goal.height) == (65.0, 512, 512)
    assert e.start_position == (-5.9657511711120605, 3.1633780002593994, -3.320870876312256)


def test_rearrange_spot_checks() -> None:
    hitl = _one(f"{LAB}/hssd_hitl_teleop_episodes.json.gz", "0")
    assert hitl.kind == "rearrange"
    (target,) = hitl.targets
    assert target.handle == "005_tomato_soup_can_:0000"
    assert target.goal_receptacle == "96160d32939e3ef146bb30d72d232fc6ac0d1493_:0000"
    assert target.start_receptacle == "96160d32939e3ef146bb30d72d232fc6ac0d1493_:0001"
    assert (target.goal_link, target.label) == (0, "countertop_target|0")
    assert hitl.objects[0].receptacle.startswith("96160d32939e3ef146bb30d72d232fc6ac0d1493_:0001|")

    demo = _one(f"{LAB}/hssd_rearrange_demo.json.gz", "0")
    assert [t.handle for t in demo.targets] == ["024_bowl_:0000", "005_tomato_soup_can_:0000"]
    assert demo.targets[0].position == (-4.15417, 0.26085, 5.59822)
    # Two tomato soup cans: habitat-lab numbers instances per config name.
    assert [o.handle for o in demo.objects[:3]] == [
        "024_bowl_:0000",
        "005_tomato_soup_can_:0000",
        "005_tomato_soup_can_:0001",
    ]

    replica = _one(f"{LAB}/replicacad_rearrange_default.json.gz", "0")
    assert replica.scene_dataset_config == "data/replica_cad/replicaCAD.scene_dataset_config.json"
    assert replica.targets[0].goal_receptacle == ""
    assert replica.objects[0].position == (-2.10476, 0.90411, 0.87656)


def test_partnr_and_memento_spot_checks() -> None:
    collab = _one(
        f"{LAB}/hssd_collaboration_2024_03_27_eps300_filtered.json.gz", "test|102344049|17"
    )
    assert collab.kind == "partnr"
    assert collab.scene_id == "102344049"
    assert collab.instruction.startswith("Move the apple to the table next to the toy")
    assert [p.function_name for p in collab.propositions] == ["is_on_top", "is_on_top"]
    assert collab.propositions[0].object_handles == ("Apple_29_:0000",)
    assert collab.terminal_indices is None  # this older file has none

    memento = _one(
        "habitat_memento_partnr/datasets/joint_memory_utilization_stage.json.gz", "10000"
    )
    assert memento.scene_id == "102816756"
    assert len(memento.propositions) == 6
    assert memento.order_edges == ((0, 3), (1, 3), (2, 3))
    assert memento.terminal_indices == (0, 1, 2, 3, 4, 5)
    by_handle = {o.handle: o for o in memento.objects}
    assert by_handle["B075HXHKTZ_:0000"].category == "candle_holder"
    # Config names without ".object_config.json" still name the same model.
    assert by_handle["Towel_Statue_3_:0000"].model == "Towel_Statue_3"


def test_every_rotation_is_a_unit_quaternion_or_rotation_matrix() -> None:
    for e in _all():
        assert math.hypot(*e.start_rotation) == pytest.approx(1.0, abs=1e-3), e.task_id
        if e.image_goal is not None:
            assert math.hypot(*e.image_goal.rotation) == pytest.approx(1.0, abs=1e-3)
        for m in [o.transform for o in e.objects] + [t.transform for t in e.targets]:
            r = np.asarray(m)[:3, :3]
            assert np.allclose(r @ r.T, np.eye(3), atol=1e-3), e.task_id


def test_a_geodesic_is_never_shorter_than_the_straight_line_to_a_success_position() -> None:
    checked = 0
    for e in _all():
        if e.geodesic_distance is None:
            assert e.kind in ("rearrange", "partnr")
            continue
        assert math.isfinite(e.geodesic_distance) or e.geodesic_distance == math.inf
        assert e.euclidean_distance is not None
        assert e.geodesic_distance >= e.euclidean_distance - GEODESIC_TOL_M, e.task_id
        checked += 1
    assert checked == 30 + 71 + 71 + 30 + 30 + 15 + 15 + 27 + 21


def test_object_goals_measure_the_geodesic_to_view_points_not_the_object() -> None:
    # Habitat's ObjectNav/ImageNav distance ends at a view point near the object; the
    # object's centre may be farther (across a table, up a wall) than the path's length.
    shorter = [
        e
        for e in _all()
        if e.kind in ("objectnav", "imagenav")
        and e.geodesic_distance is not None
        and e.geodesic_distance < min(math.dist(e.start_position, g) for g in e.goal_positions)
    ]
    assert len(shorter) == 60
    assert all(g.view_points for e in shorter for g in e.goals)


# ----------------------------------------------------------------------------- tasks


def test_every_convertible_episode_round_trips_and_the_rest_say_why() -> None:
    ids: set[str] = set()
    for f in FILES:
        done = Counter[bool]()
        for e in _load(f):
            c = convert(e)
            if e.kind in ("pointnav", "objectnav", "imagenav"):
                _check_navigation(e, c.task)
                continue
            done[c.task is not None] += 1
            if c.task is None:
                assert c.reason and to_task(e) is None
                continue
            t = c.task
            assert parse_task(task_to_json(t)) == t
            assert parse_task(json.loads(json.dumps(task_to_json(t)))) == t
            assert t.scene == e.scene_id
            assert t.task_id == f"habitat/{e.kind}/{Path(e.scene_id).name}/{e.episode_id}"
            assert t.task_id not in ids
            ids.add(t.task_id)
            assert t.init["habitat_unsupported"] == list(e.unsupported)
            for p in t.predicates:
                assert p.names and all("_" in r or "|" in r or r == "Floor" for r in p.in_types)
        if _rel(f) in CONVERTED:
            assert (done[True], done[False]) == CONVERTED[_rel(f)]


def test_the_reasons_for_the_episodes_left_out() -> None:
    reasons = Counter(
        part
        for f in FILES
        for e in _load(f)
        if e.kind in ("rearrange", "partnr")
        for part in convert(e).reason.split("; ")
        if part
    )
    assert reasons["is_in_room: rooms are not receptacles in the task format"] == 18
    assert reasons["is_next_to: the task format has no relation between two objects"] == 25
    assert sum(n for r, n in reasons.items() if r.startswith("TemporalConstraint orders")) == 34


def test_a_partnr_order_without_terminal_satisfaction_is_a_sequence_of_subgoals() -> None:
    # "Put the plant saucer and toy airplane on the table. Then, put the phone stand and
    # kettle on the table": dag_edges [[0, 2], [0, 3], [1, 2], [1, 3]].
    e = _one(f"{LAB}/hssd_collaboration_2024_03_27_eps300_filtered.json.gz", "test|102817140|27")
    t = to_task(e)
    assert t is not None and t.ordered
    assert [[p.names for p in sg] for sg in t.subgoals] == [
        [("Ecoforms_Plant_Saucer_S14MOCHA_:0000",), ("TURBOPROP_AIRPLANE_WITH_PILOT_:0000",)],
        [("B01IJ5A2UA_:0000",), ("6e35f1ab01230ea2687cade5e71e4a3abf07262e_:0000",)],
    ]


def test_a_rearrange_target_is_its_object_in_its_goal_receptacle() -> None:
    t = to_task(_one(f"{LAB}/hssd_hitl_teleop_episodes.json.gz", "0"))
    assert t is not None and not t.ordered
    (p,) = t.predicates
    assert p.object_types == ("005_tomato_soup_can",)
    assert p.in_types == ("96160d32939e3ef146bb30d72d232fc6ac0d1493_:0000",)
    assert p.names == ("005_tomato_soup_can_:0000",)
    assert t.task_id == "habitat/rearrange/104348133_171513054_8.scene_instance.json/0"


# ---------------------------------------------------------------- hand-made episodes


def _write(tmp_path: Path, data: Any, name: str = "e.json.gz") -> Path:
    p = tmp_path / name
    text = data if isinstance(data, str) else json.dumps(data)
    p.write_bytes(gzip.compress(text.encode()))
    return p


def _pointnav(**over: Any) -> dict[str, Any]:
    ep: dict[str, Any] = {
        "episode_id": "1",
        "scene_id": "gibson/Room.glb",
        "start_position": [0.0, 0.0, 0.0],
        "start_rotation": [0.0, 0.0, 0.0, 1.0],
        "goals": [{"position": [3.0, 0.0, 4.0], "radius": 0.2}],
        "info": {"geodesic_distance": 5.0},
    }
    ep.update(over)
    return ep


def _partnr(props: list[dict[str, Any]], constraints: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "episode_id": "p1",
        "scene_id": "102344049",
        "start_position": [0, 0, 0],
        "start_rotation": [0, 0, 0, 1],
        "instruction": "tidy up",
        "rigid_objs": [["Cup_1.object_config.json", np.eye(4).tolist()]],
        "targets": {},
        "evaluation_propositions": props,
        "evaluation_constraints": constraints,
    }


def _prop(fn: str, **args: Any) -> dict[str, Any]:
    return {"function_name": fn, "args": {"object_handles": ["Cup_1_:0000"], "number": 1, **args}}


def test_an_index_file_without_episodes_yields_nothing(tmp_path: Path) -> None:
    assert load_episodes(_write(tmp_path, {"episodes": []})) == []


def test_infinity_is_kept_for_an_unreachable_goal(tmp_path: Path) -> None:
    ep = json.dumps({"episodes": [_pointnav(info={"geodesic_distance": 0})]})
    p = _write(tmp_path, ep.replace('"geodesic_distance": 0', '"geodesic_distance": Infinity'))
    (e,) = load_episodes(p)
    assert e.geodesic_distance == math.inf


def _eps(*episodes: dict[str, Any], **top: Any) -> dict[str, Any]:
    return {"episodes": list(episodes), **top}


def _dag(*edges: list[int]) -> dict[str, Any]:
    return {"type": "TemporalConstraint", "args": {"dag_edges": list(edges)}}


_NAN_START = json.dumps(_eps(_pointnav(start_position=[0, 0, 0]))).replace(
    "[0, 0, 0]", "[0, NaN, 0]"
)
_NO_START = {k: v for k, v in _pointnav().items() if k != "start_position"}
_FLOOR = _prop("is_on_floor")


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ({"episodes": {}}, "episodes: must be a list"),
        ([1, 2], "top level: must be an object"),
        ({}, "missing key 'episodes'"),
        (_eps(_pointnav(start_rotation=[0, 0, 0, 0])), "start_rotation: rotation has zero norm"),
        (
            _eps(_pointnav(start_rotation=[0, 0, 1])),
            r"start_rotation \(\[x, y, z, w\]\): must be 4",
        ),
        (_NAN_START, "start_position: must be 3 finite numbers"),
        (_eps(_NO_START), "missing key 'start_position'"),
        (_eps(_pointnav(goals=[{"position": [1, 2]}])), r"goals\[0\].position: must be 3"),
        (_eps(_pointnav(goals=[])), "cannot tell its kind"),
        (_eps(_pointnav(info={"geodesic_distance": -1})), "geodesic_distance: must be >= 0"),
        (_eps(_pointnav(), _pointnav()), "duplicate episode"),
        (
            _eps(_pointnav(goals=[], object_category="bed"), goals_by_category={}),
            "goals_by_category has no 'Room.glb_bed'",
        ),
        (
            _eps(_pointnav(goals=[], goal_object_id="7", goal_image_id=0), goals={}),
            "goals table has no 'Room_7'",
        ),
        (
            _eps(_partnr([_prop("is_on_top", receptacle_handles=["t_:0000"], number=2)], [])),
            "number: 2 of only 1 object_handles",
        ),
        (_eps(_partnr([_prop("is_on_top")], [])), "missing key 'receptacle_handles'"),
        (_eps(_partnr([_FLOOR, _FLOOR], [_dag([0, 1], [1, 0])])), "have a cycle"),
        (_eps(_partnr([_FLOOR], [_dag([0, 1])])), "out of range for 1 propositions"),
        (
            _eps({**_partnr([], []), "rigid_objs": [["Cup_1", [[1, 0, 0, 0]] * 4]]}),
            r"rigid_objs\[0\]\[1\]: last row must be \[0, 0, 0, 1\]",
        ),
    ],
)
def test_a_malformed_file_is_refused_naming_the_file_and_the_problem(
    tmp_path: Path, content: Any, problem: str
) -> None:
    p = _write(tmp_path, content)
    with pytest.raises(HabitatDataError, match=problem) as err:
        load_episodes(p)
    assert str(p) in str(err.value)


def test_a_file_that_is_not_gzip_or_not_json_is_refused(tmp_path: Path) -> None:
    plain = tmp_path / "plain.json.gz"
    plain.write_text('{"episodes": []}')
    with pytest.raises(HabitatDataError, match="not a gzip file"):
        load_episodes(plain)
    cut = tmp_path / "cut.json.gz"
    cut.write_bytes(gzip.compress(b'{"episodes": []}' * 50)[:20])
    with pytest.raises(HabitatDataError, match="not a complete gzip file"):
        load_episodes(cut)
    with pytest.raises(HabitatDataError, match="not JSON"):
        load_episodes(_write(tmp_path, '{"episodes": [', "bad.json.gz"))
    with pytest.raises(HabitatDataError, match="cannot read"):
        load_episodes(tmp_path / "missing.json.gz")


def test_partnr_functions_and_constraints_map_or_say_why(tmp_path: Path) -> None:
    terminal = {
        "type": "TerminalSatisfactionConstraint",
        "args": {"proposition_indices": [0, 1, 2]},
    }
    props = [_prop("is_on_floor"), _prop("is_clean"), _prop("is_powered_on")]
    (e,) = load_episodes(_write(tmp_path, {"episodes": [_partnr(props, [terminal])]}))
    t = to_task(e)
    assert t is not None and not t.ordered  # all must hold at the end
    assert [(p.in_types, dict(p.state)) for p in t.predicates] == [
        (("Floor",), {}),
        ((), {"isDirty": False}),
        ((), {"isToggled": True}),
    ]
    assert all(p.object_types == ("Cup_1",) for p in t.predicates)
    assert parse_task(task_to_json(t)) == t

    same = _prop(
        "is_inside",
        object_handles=["Cup_1_:0000", "Cup_1_:0001"],
        receptacle_handles=["a_:0000", "b_:0000"],
        is_same_receptacle=True,
        number=2,
    )
    some_at_end = {"type": "TerminalSatisfactionConstraint", "args": {"proposition_indices": [0]}}
    cases: list[tuple[list[dict[str, Any]], list[dict[str, Any]], str]] = [
        ([same], [], "several objects on one and the same receptacle"),
        ([_prop("is_in_room", room_ids=["kitchen"])], [], "rooms are not receptacles"),
        ([_prop("is_floating")], [], "is_floating: not a relation"),
        (props, [terminal, _dag([0, 1])], "orders goals that must also hold at the end"),
        # Nothing orders 2, yet the sequence [[0, 2], [1]] would put it before 1.
        (props, [_dag([0, 1])], "partial order"),
        (props, [some_at_end], "covers some propositions only"),
        (props, [{"type": "DifferentArgConstraint", "args": {}}], "DifferentArgConstraint"),
    ]
    for i, (ps, cs, why) in enumerate(cases):
        (e,) = load_episodes(_write(tmp_path, {"episodes": [_partnr(ps, cs)]}, f"c{i}.json.gz"))
        c = convert(e)
        assert c.task is None and why in c.reason, (why, c.reason)

    chain = _eps(_partnr(props, [_dag([0, 1], [1, 2])]))
    (e,) = load_episodes(_write(tmp_path, chain, "chain.json.gz"))
    t = to_task(e)
    assert t is not None and t.ordered and [len(sg) for sg in t.subgoals] == [1, 1, 1]
    assert parse_task(task_to_json(t)) == t


def _check_navigation(e: HabitatEpisode, t: Task | None) -> None:
    assert t is not None and not t.ordered and len(t.subgoals[0]) == 1
    assert parse_task(json.loads(json.dumps(task_to_json(t)))) == t
    assert t.scene == e.scene_id
    assert t.init["habitat_start"] == {
        "position": list(e.start_position),
        "rotation": list(e.start_rotation),
    }
    (pred,) = t.subgoals[0]
    if e.kind == "pointnav":
        assert pred.at == e.goals[0].position and pred.object_types == ()
        assert pred.near == (e.success_radius or 0.2)
        return
    assert pred.object_types == (e.object_category,) and pred.at is None
    assert pred.near is not None
    # Standing on any view point meets the predicate (Habitat's success implies ours).
    for g in e.goals:
        for v in g.view_points:
            assert math.hypot(v[0] - g.position[0], v[2] - g.position[2]) <= pred.near
    if e.kind == "imagenav":
        assert pred.names == (f"{e.object_category}_{e.goal_object_id}",)


def test_navigation_tasks_say_what_habitat_says() -> None:
    by_kind = Counter[str]()
    for f in FILES:
        for e in _load(f):
            if e.kind in ("pointnav", "objectnav", "imagenav"):
                by_kind[e.kind] += 1
    assert by_kind == {"pointnav": 202, "objectnav": 60, "imagenav": 48}
    legacy = _load(next(f for f in FILES if f.name == "objectnav_mp3d.val_mini.json.gz"))
    t = to_task(legacy[0])
    assert t is not None and t.instruction == "find a table" and t.task_id.endswith("/197")
