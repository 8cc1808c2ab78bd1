"""Core types ↔ ROS messages: exact round trips in both conventions, and the .msg files
cannot drift from the core dataclasses."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from memory_core import (
    Box3D,
    Event,
    Layer,
    Memory,
    ObjectObservation,
    Pose,
    Relation,
    SceneEdge,
    SceneNode,
)

MSG_DIR = Path(__file__).resolve().parents[2] / "ros_ws" / "src" / "loci_msgs" / "msg"

OBS = ObjectObservation(
    label="Mug",
    position=(1.25, 0.5, -2.0),
    box=Box3D((1.25, 0.55, -2.0), (0.1, 0.12, 0.08)),
    state={"isOpen": False, "temperature": "Hot", "fill": 0.5},
    confidence=0.8125,
    timestamp=12.5,
    source_frame="map",
    object_id="Mug|1|2|3",
    parent_id="CounterTop|1",
    relation=Relation.ON,
    layer=Layer.OBJECT,
    embedding=(0.25, -0.5, 0.125),
    name="Mug_291e6e8a",
)
NODE = SceneNode(
    id="Mug|1|2|3",
    layer=Layer.OBJECT,
    label="Mug",
    position=(1.25, 0.5, -2.0),
    box=Box3D((1.25, 0.55, -2.0), (0.1, 0.12, 0.08)),
    state={"isDirty": True},
    first_seen=1.0,
    last_seen=7.5,
    last_changed=3.25,
    n_obs=4,
    confidence=0.75,
    misses=1,
    present=False,
    embedding=(0.5, 0.25),
    attrs={"door": "door|1|2", "tags": ["a", "b"]},
)
EDGE = SceneEdge("Mug|1|2|3", "CounterTop|1", Relation.ON, {"since": 3.0})
EVENT = Event(
    t=7.5,
    episode_id="ep1",
    action="pickup",
    outcome="success",
    objects=("Mug|1|2|3",),
    room="room|2",
    pose=Pose((1.0, 0.9, 2.0), (0.0, 0.38268343236508984, 0.0, 0.9238795325112867)),
    text="picked it up",
    seq=3,
)


@pytest.mark.parametrize("up_axis", ["y", "z"])
def test_every_core_type_round_trips(up_axis: str) -> None:
    from loci_ros import conversions as conv

    assert conv.observation_from_msg(conv.observation_to_msg(OBS, up_axis), up_axis) == OBS
    bare = ObjectObservation("Apple", (0.0, 1.0, 2.0))
    assert conv.observation_from_msg(conv.observation_to_msg(bare, up_axis), up_axis) == bare
    assert conv.node_from_msg(conv.node_to_msg(NODE, up_axis), up_axis) == NODE
    assert conv.edge_from_msg(conv.edge_to_msg(EDGE)) == EDGE
    back = conv.event_from_msg(conv.event_to_msg(EVENT, up_axis), up_axis)
    assert back.pose is not None and EVENT.pose is not None
    assert back.pose.orientation == pytest.approx(EVENT.pose.orientation, abs=1e-12)
    assert dataclasses.replace(back, pose=EVENT.pose) == EVENT
    no_pose = dataclasses.replace(EVENT, pose=None)
    assert conv.event_from_msg(conv.event_to_msg(no_pose, up_axis), up_axis) == no_pose


def test_messages_are_in_ros_convention() -> None:
    from loci_ros import conversions as conv

    # AI2-THOR: y up, x right, z forward (left-handed) → ROS: x = z, y = -x, z = y.
    msg = conv.node_to_msg(NODE, "y")
    assert (msg.position.x, msg.position.y, msg.position.z) == (-2.0, -1.25, 0.5)
    assert (msg.box_size.x, msg.box_size.y, msg.box_size.z) == (0.08, 0.1, 0.12)
    ev = conv.event_to_msg(EVENT, "y")
    # A yaw of 45° about AI2-THOR's up axis is a yaw of -45° about ROS's.
    q = ev.pose.orientation
    assert (q.x, q.y) == pytest.approx((0.0, 0.0), abs=1e-12)
    assert q.z == pytest.approx(-0.38268343236508984) and q.w == pytest.approx(0.9238795325112867)


def test_bad_messages_are_rejected_one_by_one() -> None:
    from loci_ros import conversions as conv

    good = conv.observation_to_msg(OBS, "z")
    nan = conv.observation_to_msg(OBS, "z")
    nan.position.x = float("nan")
    unknown = conv.observation_to_msg(OBS, "z")
    unknown.relation = "under"
    broken = conv.observation_to_msg(OBS, "z")
    broken.state_json = "[1, 2]"
    arr = conv.observations_to_msg([], 0.0, "map", "z")
    arr.observations = [good, nan, unknown, broken]
    batch, bad = conv.observations_from_msg(arr, "z")
    assert batch == [OBS]
    assert len(bad) == 3 and "observation 1" in bad[0] and "under" in bad[1]


def _msg_fields(path: Path) -> set[str]:
    names = set()
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and "=" not in line:  # constants carry '='
            names.add(line.split()[1])
    return names


def test_msg_files_and_dataclasses_cannot_drift() -> None:
    from loci_ros.conversions import FIELDS

    msg_files = {
        ObjectObservation: "ObjectObservation.msg",
        SceneNode: "SceneNode.msg",
        SceneEdge: "SceneEdge.msg",
        Event: "Event.msg",
    }
    assert set(FIELDS) == set(msg_files)
    for cls, (msg_type, mapping) in FIELDS.items():
        core = {f.name for f in dataclasses.fields(cls)}
        assert set(mapping) == core, f"{cls.__name__}: fields without a message mapping"
        carried = {m for fields in mapping.values() for m in fields}
        generated = set(msg_type.get_fields_and_field_types())
        assert carried == generated, f"{msg_type.__name__}: unmapped message fields"
        # The source .msg file is what was built (no stale install).
        assert _msg_fields(MSG_DIR / msg_files[cls]) == generated


def test_graph_and_markers_from_a_memory() -> None:
    from loci_ros import conversions as conv

    memory = Memory()  # AI2-THOR convention
    mug = dataclasses.replace(OBS, parent_id=None, relation=None)
    memory.observe([mug, ObjectObservation("Apple", (3.0, 1.0, 0.0))], t=1.0)
    msg = conv.graph_to_msg(memory.graph, 5, 1.0, "map")
    assert msg.revision == 5 and msg.up_axis == "z"
    assert sorted(n.label for n in msg.nodes) == ["Apple", "Mug"]
    assert {e.relation for e in msg.edges} <= {r.value for r in Relation}
    markers = conv.markers_msg(memory.graph, 1.0, "map").markers
    assert markers[0].action == markers[0].DELETEALL
    texts = {m.text for m in markers if m.type == m.TEXT_VIEW_FACING}
    assert {"Mug", "Apple"} <= texts
