"""Core types ↔ ROS messages. Messages are in ROS's convention (REP-103); a memory in
AI2-THOR's convention (``up_axis == "y"``) is converted on the way (exactly, see
``memory_core.convention``). Times are seconds ↔ ``builtin_interfaces/Time`` (nanosecond
resolution).

``FIELDS`` maps every field of each core dataclass to the message fields that carry it;
a test compares it with both the dataclasses and the generated message types, so the
``.msg`` files and the core cannot drift apart unnoticed.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from builtin_interfaces.msg import Time
from geometry_msgs.msg import Point, Pose, PoseStamped, Quaternion, Vector3
from loci_msgs.msg import Event as EventMsg
from loci_msgs.msg import ObjectObservation as ObservationMsg
from loci_msgs.msg import ObjectObservationArray, SceneGraphUpdate
from loci_msgs.msg import SceneEdge as EdgeMsg
from loci_msgs.msg import SceneGraph as GraphMsg
from loci_msgs.msg import SceneNode as NodeMsg
from numpy.typing import NDArray
from sensor_msgs.msg import PointCloud2, PointField
from std_msgs.msg import ColorRGBA, Header
from visualization_msgs.msg import Marker, MarkerArray

from memory_core import (
    Box3D,
    ChangeSet,
    Event,
    Layer,
    LociError,
    ObjectObservation,
    Relation,
    SceneEdge,
    SceneGraph,
    SceneNode,
)
from memory_core import Pose as CorePose
from memory_core.convention import (
    from_ros,
    quat_from_ros,
    quat_to_ros,
    size_from_ros,
    size_to_ros,
    to_ros,
)
from memory_core.store import codec

__all__ = [
    "FIELDS",
    "cloud_from_msg",
    "cloud_to_msg",
    "edge_from_msg",
    "edge_to_msg",
    "event_from_msg",
    "event_to_msg",
    "graph_to_msg",
    "header",
    "markers_msg",
    "mesh_marker",
    "node_from_msg",
    "node_to_msg",
    "observation_from_msg",
    "observation_to_msg",
    "observations_from_msg",
    "observations_to_msg",
    "seconds",
    "time_msg",
    "update_to_msg",
]

FIELDS: dict[type, tuple[type, dict[str, tuple[str, ...]]]] = {
    ObjectObservation: (
        ObservationMsg,
        {
            "label": ("label",),
            "position": ("position",),
            "box": ("has_box", "box_center", "box_size"),
            "state": ("state_json",),
            "confidence": ("confidence",),
            "timestamp": ("header",),
            "source_frame": ("header",),
            "object_id": ("object_id",),
            "parent_id": ("parent_id",),
            "relation": ("relation",),
            "layer": ("layer",),
            "embedding": ("embedding",),
            "name": ("name",),
        },
    ),
    SceneNode: (
        NodeMsg,
        {
            "id": ("id",),
            "layer": ("layer",),
            "label": ("label",),
            "position": ("position",),
            "box": ("has_box", "box_center", "box_size"),
            "state": ("state_json",),
            "first_seen": ("first_seen",),
            "last_seen": ("last_seen",),
            "last_changed": ("last_changed",),
            "n_obs": ("n_obs",),
            "confidence": ("confidence",),
            "misses": ("misses",),
            "present": ("present",),
            "embedding": ("embedding",),
            "attrs": ("attrs_json",),
        },
    ),
    SceneEdge: (
        EdgeMsg,
        {"src": ("src",), "dst": ("dst",), "relation": ("relation",), "attrs": ("attrs_json",)},
    ),
    Event: (
        EventMsg,
        {
            "t": ("t",),
            "episode_id": ("episode_id",),
            "action": ("action",),
            "outcome": ("outcome",),
            "objects": ("objects",),
            "room": ("room",),
            "pose": ("has_pose", "pose"),
            "text": ("text",),
            "seq": ("seq",),
        },
    ),
}


# ---------------------------------------------------------------------------- basics
def time_msg(t: float) -> Time:
    sec = math.floor(t)
    return Time(sec=int(sec), nanosec=min(999_999_999, round((t - sec) * 1e9)))


def seconds(stamp: Time) -> float:
    return float(stamp.sec) + float(stamp.nanosec) * 1e-9


def header(t: float, frame_id: str) -> Header:
    return Header(stamp=time_msg(t), frame_id=frame_id)


def _point(p: Sequence[float], up_axis: str) -> Point:
    x, y, z = to_ros((p[0], p[1], p[2]), up_axis)
    return Point(x=x, y=y, z=z)


def _vec3(p: Point | Vector3, up_axis: str) -> tuple[float, float, float]:
    return from_ros((p.x, p.y, p.z), up_axis)


def _size(s: Sequence[float], up_axis: str) -> Vector3:
    x, y, z = size_to_ros((s[0], s[1], s[2]), up_axis)
    return Vector3(x=x, y=y, z=z)


def _box_fields(box: Box3D | None, up_axis: str) -> dict[str, Any]:
    if box is None:
        return {"has_box": False, "box_center": Point(), "box_size": Vector3()}
    return {
        "has_box": True,
        "box_center": _point(box.center, up_axis),
        "box_size": _size(box.size, up_axis),
    }


def _box(msg: Any, up_axis: str) -> Box3D | None:
    if not msg.has_box:
        return None
    s = msg.box_size
    return Box3D(_vec3(msg.box_center, up_axis), size_from_ros((s.x, s.y, s.z), up_axis))


def _json_object(text: str, what: str) -> dict[str, Any]:
    if not text:
        return {}
    value = codec.loads_revived(text)
    if not isinstance(value, dict):
        raise ValueError(f"{what} must be a JSON object, got {text[:40]!r}")
    return value


# ---------------------------------------------------------------------------- observations
def observation_to_msg(o: ObjectObservation, up_axis: str) -> ObservationMsg:
    return ObservationMsg(
        header=header(o.timestamp, o.source_frame),
        label=o.label,
        object_id=o.object_id or "",
        position=_point(o.position, up_axis),
        **_box_fields(o.box, up_axis),
        confidence=float(o.confidence),
        parent_id=o.parent_id or "",
        relation=o.relation.value if o.relation else "",
        layer=o.layer.value if o.layer else "",
        state_json=json.dumps(dict(o.state)) if o.state else "",
        embedding=list(o.embedding or ()),
        name=o.name or "",
    )


def observation_from_msg(msg: ObservationMsg, up_axis: str) -> ObjectObservation:
    """Raises ``LociError``/``ValueError`` on a message the core rejects."""
    return ObjectObservation(
        label=msg.label,
        position=_vec3(msg.position, up_axis),
        box=_box(msg, up_axis),
        state=_json_object(msg.state_json, "state_json"),
        confidence=float(msg.confidence),
        timestamp=seconds(msg.header.stamp),
        source_frame=msg.header.frame_id,
        object_id=msg.object_id or None,
        parent_id=msg.parent_id or None,
        relation=Relation(msg.relation) if msg.relation else None,
        layer=Layer(msg.layer) if msg.layer else None,
        embedding=tuple(float(v) for v in msg.embedding) or None,
        name=msg.name or None,
    )


def observations_to_msg(
    batch: Iterable[ObjectObservation], t: float, frame_id: str, up_axis: str
) -> ObjectObservationArray:
    return ObjectObservationArray(
        header=header(t, frame_id),
        observations=[observation_to_msg(o, up_axis) for o in batch],
    )


def observations_from_msg(
    msg: ObjectObservationArray, up_axis: str
) -> tuple[list[ObjectObservation], list[str]]:
    """The valid observations, and one line per observation that was rejected."""
    good, bad = [], []
    for i, o in enumerate(msg.observations):
        try:
            good.append(observation_from_msg(o, up_axis))
        except (LociError, ValueError, TypeError, RecursionError) as exc:
            bad.append(f"observation {i} ({o.label!r}): {exc}")
    return good, bad


# ---------------------------------------------------------------------------- scene graph
def node_to_msg(n: SceneNode, up_axis: str) -> NodeMsg:
    return NodeMsg(
        id=n.id,
        layer=n.layer.value,
        label=n.label,
        position=_point(n.position, up_axis),
        **_box_fields(n.box, up_axis),
        state_json=json.dumps(dict(n.state)) if n.state else "",
        first_seen=float(n.first_seen),
        last_seen=float(n.last_seen),
        last_changed=float(n.last_changed),
        n_obs=int(n.n_obs),
        confidence=float(n.confidence),
        misses=int(n.misses),
        present=bool(n.present),
        embedding=list(n.embedding or ()),
        attrs_json=codec.dumps(dict(n.attrs)) if n.attrs else "",
    )


def node_from_msg(msg: NodeMsg, up_axis: str) -> SceneNode:
    return SceneNode(
        id=msg.id,
        layer=Layer(msg.layer),
        label=msg.label,
        position=_vec3(msg.position, up_axis),
        box=_box(msg, up_axis),
        state=_json_object(msg.state_json, "state_json"),
        first_seen=msg.first_seen,
        last_seen=msg.last_seen,
        last_changed=msg.last_changed,
        n_obs=msg.n_obs,
        confidence=msg.confidence,
        misses=msg.misses,
        present=msg.present,
        embedding=tuple(float(v) for v in msg.embedding) or None,
        attrs=_json_object(msg.attrs_json, "attrs_json"),
    )


def edge_to_msg(e: SceneEdge) -> EdgeMsg:
    return EdgeMsg(
        src=e.src,
        dst=e.dst,
        relation=e.relation.value,
        attrs_json=codec.dumps(dict(e.attrs)) if e.attrs else "",
    )


def edge_from_msg(msg: EdgeMsg) -> SceneEdge:
    return SceneEdge(
        msg.src, msg.dst, Relation(msg.relation), _json_object(msg.attrs_json, "attrs_json")
    )


def graph_to_msg(graph: SceneGraph, revision: int, t: float, frame_id: str) -> GraphMsg:
    nodes, edges, _meta = graph.to_records()
    return GraphMsg(
        header=header(t, frame_id),
        revision=revision,
        up_axis="z",  # messages are always in ROS's convention
        nodes=[node_to_msg(n, graph.up_axis) for n in sorted(nodes, key=lambda n: n.id)],
        edges=[edge_to_msg(e) for e in edges],
    )


def update_to_msg(
    changes: ChangeSet, up_axis: str, revision: int, t: float, frame_id: str
) -> SceneGraphUpdate:
    return SceneGraphUpdate(
        header=header(t, frame_id),
        revision=revision,
        nodes=[node_to_msg(n, up_axis) for n in changes.nodes],
        edges=[edge_to_msg(e) for e in changes.edges],
        removed_nodes=list(changes.removed_nodes),
    )


# ---------------------------------------------------------------------------- events
def event_to_msg(e: Event, up_axis: str) -> EventMsg:
    pose = Pose()
    if e.pose is not None:
        x, y, z, w = quat_to_ros(e.pose.orientation, up_axis)
        pose = Pose(
            position=_point(e.pose.position, up_axis),
            orientation=Quaternion(x=x, y=y, z=z, w=w),
        )
    return EventMsg(
        t=float(e.t),
        episode_id=e.episode_id,
        action=e.action,
        outcome=e.outcome,
        objects=list(e.objects),
        room=e.room or "",
        has_pose=e.pose is not None,
        pose=pose,
        text=e.text,
        seq=int(e.seq),
    )


def event_from_msg(msg: EventMsg, up_axis: str) -> Event:
    pose = None
    if msg.has_pose:
        q = msg.pose.orientation
        pose = CorePose(
            _vec3(msg.pose.position, up_axis), quat_from_ros((q.x, q.y, q.z, q.w), up_axis)
        )
    return Event(
        t=msg.t,
        episode_id=msg.episode_id,
        action=msg.action,
        outcome=msg.outcome,
        objects=tuple(msg.objects),
        room=msg.room or None,
        pose=pose,
        text=msg.text,
        seq=msg.seq,
    )


# ---------------------------------------------------------------------------- RViz / Foxglove
_COLORS = {
    Layer.OBJECT: ColorRGBA(r=0.2, g=0.5, b=0.9, a=0.6),
    Layer.RECEPTACLE: ColorRGBA(r=0.6, g=0.45, b=0.35, a=0.4),
}


def markers_msg(graph: SceneGraph, t: float, frame_id: str) -> MarkerArray:
    """A cube and a text label per object and receptacle; DELETEALL first, so a viewer
    shows exactly what the memory holds now."""
    out = [Marker(header=header(t, frame_id), action=Marker.DELETEALL)]
    nodes = graph.nodes(Layer.OBJECT) + graph.nodes(Layer.RECEPTACLE)
    for i, n in enumerate(sorted(nodes, key=lambda n: n.id)):
        size = _size(n.box.size if n.box is not None else (0.1, 0.1, 0.1), graph.up_axis)
        centre = n.box.center if n.box is not None else n.position
        pose = Pose(position=_point(centre, graph.up_axis), orientation=Quaternion(w=1.0))
        out.append(
            Marker(
                header=header(t, frame_id),
                ns="loci/scene_graph",
                id=2 * i,
                type=Marker.CUBE,
                action=Marker.ADD,
                pose=pose,
                scale=size,
                color=_COLORS[n.layer],
            )
        )
        out.append(
            Marker(
                header=header(t, frame_id),
                ns="loci/scene_graph",
                id=2 * i + 1,
                type=Marker.TEXT_VIEW_FACING,
                action=Marker.ADD,
                pose=pose,
                scale=Vector3(z=0.08),
                color=ColorRGBA(r=1.0, g=1.0, b=1.0, a=1.0),
                text=n.label,
            )
        )
    return MarkerArray(markers=out)


def cloud_to_msg(points: NDArray[np.floating], t: float, frame_id: str) -> PointCloud2:
    """(N, 3) points, already in ``frame_id``'s axes, as an x/y/z float32 PointCloud2
    (what ``sensor_msgs_py.point_cloud2.create_cloud_xyz32`` makes; that package has no
    wheel on PyPI)."""
    xyz = np.ascontiguousarray(np.asarray(points, dtype="<f4").reshape(-1, 3))
    return PointCloud2(
        header=header(t, frame_id),
        height=1,
        width=len(xyz),
        fields=[
            PointField(name=name, offset=4 * i, datatype=PointField.FLOAT32, count=1)
            for i, name in enumerate("xyz")
        ],
        is_bigendian=False,
        point_step=12,
        row_step=12 * len(xyz),
        data=xyz.tobytes(),
        is_dense=True,
    )


def cloud_from_msg(msg: PointCloud2) -> NDArray[np.float32]:
    """The x/y/z of a float32 PointCloud2 as (N, 3); other layouts are refused."""
    offsets = {f.name: (f.offset, f.datatype) for f in msg.fields}
    want = {name: (4 * i, PointField.FLOAT32) for i, name in enumerate("xyz")}
    if any(offsets.get(k) != v for k, v in want.items()) or msg.is_bigendian:
        raise LociError("only little-endian float32 x/y/z clouds at offsets 0/4/8 are read")
    raw = np.frombuffer(bytes(msg.data), dtype=np.uint8).reshape(-1, msg.point_step)
    return np.ascontiguousarray(raw[:, :12]).view("<f4").reshape(-1, 3).astype(np.float32)


def mesh_marker(
    vertices: NDArray[np.floating],
    triangles: NDArray[np.integer],
    t: float,
    frame_id: str,
    ns: str = "loci/map",
) -> Marker:
    """A triangle mesh (vertices in ``frame_id``'s axes) as a TRIANGLE_LIST marker, which
    RViz and Foxglove draw."""
    corners = np.asarray(vertices, dtype=np.float64)[np.asarray(triangles).reshape(-1)]
    return Marker(
        header=header(t, frame_id),
        ns=ns,
        id=0,
        type=Marker.TRIANGLE_LIST,
        action=Marker.ADD,
        pose=Pose(orientation=Quaternion(w=1.0)),
        scale=Vector3(x=1.0, y=1.0, z=1.0),
        color=ColorRGBA(r=0.7, g=0.7, b=0.75, a=1.0),
        points=[Point(x=float(x), y=float(y), z=float(z)) for x, y, z in corners],
    )


def pose_stamped(
    position: Sequence[float],
    quat_xyzw: Sequence[float],
    t: float,
    frame_id: str,
) -> PoseStamped:
    """A pose already in ROS's convention."""
    return PoseStamped(
        header=header(t, frame_id),
        pose=Pose(
            position=Point(x=float(position[0]), y=float(position[1]), z=float(position[2])),
            orientation=Quaternion(
                x=float(quat_xyzw[0]),
                y=float(quat_xyzw[1]),
                z=float(quat_xyzw[2]),
                w=float(quat_xyzw[3]),
            ),
        ),
    )
