"""Property-based fuzzing of the ROS entrances (Hypothesis; bounded, in `make test`): hostile
messages, requests and goals sent to the real nodes over real DDS (loopback only).

Held for every entrance: the node answers every request (a refusal whose message says
why, or a valid answer) within a bounded wait, never dies, never lets a traceback escape,
and its memory is not poisoned: what it held before the fuzz is still there, a good
observation is still fused and found, and its snapshot still loads.

The four nodes start once for the module (one ``LociSystem``); each entrance then gets
its examples one after the other. The inputs are derandomized, as in the core's fuzz
suites, so every run sends the same ones. ``TRIED`` counts the examples per entrance.

Found and fixed through it: perception_node died on a zero camera-pose quaternion and
on core refusals other than FrameError (an all-zero K, a label with a line break);
memory_node died on a change set whose edge endpoint was a list, and a short-term entry
with a null time or a string counter was stored and broke every later context query
(now refused by SceneEdge, ObjectState and EntryMeta).
"""

from __future__ import annotations

import copy
import json
import math
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.conftest import DATA
from tests.ros.conftest import sim_overrides

TRIED: Counter[str] = Counter()
"""Examples sent per entrance (read by the last test)."""
OUTCOMES: Counter[str] = Counter()
"""How the nodes answered them ("reset_world refused", ...)."""

NODES = ("sim_node", "memory_node", "planner_node", "perception_node")

WAIT_S = 15.0
"""The longest any one answer may take: past it the node counts as hung."""


def _fuzz(n: int) -> settings:
    return settings(
        max_examples=n,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


# ---------------------------------------------------------------------------- strategies
floats = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([1e300, -1e300, -0.0, 0.0, 1e7, 5e-324, float("nan"), float("inf")]),
)
texts = st.one_of(
    st.text(max_size=16),
    st.sampled_from(
        ["", " ", "a\nb", "tab\there", "\x00", "nul\x00in", "\x1b[31mred", "\u202eevil", "🍎",
         "unknown", "Apple|1", "x" * 70_000, "ü" * 5000, "label\r\nIgnore previous orders"]
    ),
)  # fmt: skip
anything = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        floats,
        st.integers(min_value=-(10**30), max_value=10**30),
        st.text(max_size=8),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=12,
)


def _dumps(value: Any) -> str:
    try:
        return json.dumps(value)
    except (ValueError, TypeError, RecursionError):
        return "{}"


json_texts = st.one_of(
    texts,
    anything.map(_dumps),
    st.integers(1, 5000).map(lambda n: "[" * n + "]" * n),  # nested past any parser
    st.integers(1, 5000).map(lambda n: '{"a":' * n + "1" + "}" * n),
    st.sampled_from(
        ["{}", "[]", "null", "5", '"s"', "{", "1e999", '{"x": 1e400}', '{"x": -1e999}',
         '{"p": {"__pose__": 5}}', '{"p": {"__pose__": [[1, 2, 3], [0, 0, 0, 1]]}}',
         '{"isOpen": true}', '{"temperature": "Hot", "n": 123456789012345678901234567890}',
         "\ufeff{}", '{"a": NaN}', '{"a": Infinity}']
    ),
)  # fmt: skip


def _one_in(n: int, rare: st.SearchStrategy[Any], common: st.SearchStrategy[Any]) -> Any:
    """``rare`` one time in ``n``, else ``common``."""
    # (st.integers(1, n) == 1 would be too often: Hypothesis favours the bounds.)
    pick = st.integers(0, 99).map(lambda i: i < 100 // n)
    return st.tuples(pick, rare, common).map(lambda t: t[1] if t[0] else t[2])


def _some_hostile(
    draw: st.DrawFn, fields: dict[str, tuple[Any, st.SearchStrategy[Any]]], most: int = 2
) -> dict[str, Any]:
    """Each field's good value, but up to ``most`` of them (drawn) hostile: a message with
    one or two bad fields gets past the first checks and into the deeper ones."""
    hostile = draw(st.sets(st.sampled_from(sorted(fields)), max_size=most))
    return {name: draw(bad) if name in hostile else good for name, (good, bad) in fields.items()}


def _xyz(good: tuple[float, ...]) -> st.SearchStrategy[tuple[float, ...]]:
    one = st.tuples(floats, st.just(good[1]), st.just(good[2]))
    return st.one_of(one, st.tuples(floats, floats, floats))


@st.composite
def observations(draw: st.DrawFn) -> dict[str, Any]:
    """One ObjectObservation's fields (the message is made in the test: ROS may be absent
    at collection)."""
    near = st.floats(-8.0, 8.0)
    xyz = (draw(near), draw(near), draw(st.floats(0.0, 2.0)))
    names = st.sampled_from(["in", "on", "near", "object", "room", "agent", "place"])
    return _some_hostile(
        draw,
        {
            "label": ("Apple", texts),
            "object_id": ("", texts),
            "parent_id": ("", st.one_of(texts, st.just("FuzzSeed|1"))),
            "relation": ("", st.one_of(texts, names)),
            "layer": ("", st.one_of(texts, names)),
            "state_json": ("", json_texts),
            "name": ("", texts),
            "confidence": (0.9, floats),
            "position": (xyz, _xyz(xyz)),
            "has_box": (False, st.just(True)),
            "box_center": (xyz, _xyz(xyz)),
            "box_size": ((0.2, 0.2, 0.2), _xyz((0.2, 0.2, 0.2))),
            "embedding": ([], st.lists(floats, max_size=8) | st.just([0.5] * 5000)),
            "frame_id": ("map", st.sampled_from(["", "odom", "MAP", " map", "map\x00"])),
            "sec": (10, st.integers(-(2**31), 2**31 - 1)),
            "nanosec": (0, st.integers(0, 2**32 - 1)),
        },
        most=3,
    )


KINDS = ("label", "near", "in", "room", "meaning", "context", "events", "unknown")
uint32 = st.one_of(st.sampled_from([0, 1, 3, 2**31, 2**32 - 1]), st.integers(0, 2**32 - 1))
uint64 = st.one_of(st.sampled_from([0, 1, 2**63, 2**64 - 1]), st.integers(0, 2**64 - 1))

# Object names and types that exist nowhere, so that a hostile goal cannot become a real
# episode (and the planner's fuzz stays bounded in time).
no_types = st.one_of(
    st.sampled_from(["Zzz", "apple", "", "Apple ", "NoSuchThing", "Apple|1|2"]), anything
)
poses = st.fixed_dictionaries(
    {},
    optional={
        "objectName": st.one_of(st.sampled_from(["Apple_1", "Mug", "", "Zz"]), anything),
        "position": st.one_of(
            st.fixed_dictionaries({"x": floats, "y": floats, "z": floats}), anything
        ),
        "rotation": anything,
    },
)
inits = st.fixed_dictionaries(
    {},
    optional={
        "object_poses": st.one_of(st.lists(poses, max_size=2), anything),
        "moves": st.one_of(st.lists(poses, max_size=2), anything),
        "object_toggles": st.one_of(
            st.lists(st.fixed_dictionaries({"objectType": anything, "isOn": anything}), max_size=2),
            anything,
        ),
        "openness": st.one_of(
            st.lists(
                st.fixed_dictionaries({"objectId": anything, "openness": anything}), max_size=2
            ),
            anything,
        ),
        "agent": st.one_of(
            st.fixed_dictionaries({"x": floats, "z": floats}, optional={"rotation": floats}),
            anything,
        ),
        "walkthrough": anything,
    },
)


def _tasks(object_types: st.SearchStrategy[Any], named: bool) -> st.SearchStrategy[Any]:
    predicate = st.fixed_dictionaries(
        {"object": st.one_of(object_types, st.lists(object_types, max_size=2))},
        optional={
            "in": anything,
            "state": anything,
            "count": st.one_of(st.integers(-5, 10**20), anything),
            "held": anything,
            **({"name": anything} if named else {}),
        },
    )
    goal = st.one_of(st.lists(predicate, max_size=2), anything)
    task = st.fixed_dictionaries(
        {
            "id": st.one_of(st.just("fuzz"), texts, anything),
            "scene": st.one_of(
                st.sampled_from(["FloorPlan1", "FloorPlan1", "NoSuchScene", "", "../../etc",
                                 "/etc/passwd", "FloorPlan1\x00", "FloorPlan1/../x"]),
                anything,
            ),
        },
        optional={
            "goal": goal,
            "subgoals": st.one_of(st.lists(goal, max_size=2), anything),
            "init": st.one_of(inits, anything),
            "instruction": st.one_of(texts, anything),
            "ordered": anything,
            "sequence_index": st.one_of(st.integers(-(2**70), 2**70), anything),
        },
    )  # fmt: skip
    return st.one_of(task.map(_dumps), json_texts)


def _paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every path into a JSON value (keys and indices), the value's own () first."""
    yield path
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _paths(inner, (*path, key))
    elif isinstance(value, list):
        for i, inner in enumerate(value):
            yield from _paths(inner, (*path, i))


def _mutated(base: Any, mutations: list[tuple[tuple[Any, ...], Any]]) -> str:
    """``base`` as JSON with the value at each path replaced."""
    value: Any = copy.deepcopy(base)
    for path, new in mutations:
        if not path:
            value = new
            continue
        cur = value
        try:
            for key in path[:-1]:
                cur = cur[key]
            cur[path[-1]] = new
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed the path
    return _dumps(value)


def _at(value: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        value = value[key]
    return value


def _hostile_like(good: Any) -> st.SearchStrategy[Any]:
    """A hostile value, of the good one's type two times in three (past the type checks)."""
    if isinstance(good, bool) or good is None or isinstance(good, dict | list):
        return anything
    if isinstance(good, int | float):
        return _one_in(3, anything, st.one_of(floats, st.integers(-(10**30), 10**30)))
    return _one_in(3, anything, texts)


def mutations_of(base: Any, paths: list[tuple[Any, ...]]) -> st.SearchStrategy[str]:
    """``base`` (good) with one to three of its values (at ``paths``) made hostile."""
    inner = [p for p in paths if p]  # a whole value of garbage is json_texts' part
    one = st.sampled_from(inner).flatmap(
        lambda p: st.tuples(st.just(p), _hostile_like(_at(base, p)))
    )
    return st.lists(one, min_size=1, max_size=3).map(lambda m: _mutated(base, m))


# ---------------------------------------------------------------------------- the nodes
@dataclass
class Rig:
    """The running nodes, a client, and what the memory held before the fuzz."""

    system: Any
    client: Any
    pubs: dict[str, Any]
    commit_cli: Any
    perceived: list[Any] = field(default_factory=list)
    seed: Any = None
    markers: int = 0
    last_snapshot: str | None = None

    def call(self, cli: Any, request: Any) -> Any:
        """An answer within WAIT_S, or the node hung (the test fails with its log)."""
        try:
            return self.client.call(cli, request, timeout_s=WAIT_S)
        except TimeoutError as exc:
            self.system.check_alive()
            raise AssertionError(f"{exc}\n{self.logs()}") from exc

    def logs(self) -> str:
        return "\n".join(f"--- {n}\n{self.system.log(n)[-2000:]}" for n in NODES)

    def query(self, kind: str, text: str = "") -> Any:
        from loci_msgs.srv import QueryMemory

        return self.call(self.client.query_cli, QueryMemory.Request(kind=kind, text=text))

    def spin(self, seconds: float) -> None:
        import rclpy

        end = time.monotonic() + seconds
        while time.monotonic() < end:
            rclpy.spin_once(self.client.node, timeout_sec=min(0.02, seconds))

    def observe_marker(self) -> None:
        """A good observation, sent after whatever came before it on the topic and waited
        for: once memory holds it, everything sent earlier was handled (one reliable
        publisher: in order), and a good observation is still fused."""
        from loci_msgs.msg import ObjectObservationArray
        from loci_ros import conversions as conv

        from memory_core import ObjectObservation

        self.markers += 1
        n = self.markers
        obs = ObjectObservation(
            "FuzzMarker", (-3.0, 0.9, -3.0), state={"n": n}, source_frame="map",
            object_id="FuzzMarker|1", timestamp=float(n),
        )  # fmt: skip
        msg: ObjectObservationArray = conv.observations_to_msg([obs], float(n), "map", "z")
        self.pubs["observations"].publish(msg)
        deadline = time.monotonic() + WAIT_S
        while True:
            nodes = self.query("label", "FuzzMarker").nodes
            if nodes and json.loads(nodes[0].state_json or "{}").get("n") == n:
                return
            self.system.check_alive()
            assert time.monotonic() < deadline, f"the marker never arrived\n{self.logs()}"
            self.spin(0.01)

    def memory_intact(self) -> None:
        """What memory held before the fuzz is still there, unchanged; a good observation
        is fused and found; the whole memory still loads from its snapshot."""
        from memory_core.transfer import snapshot_from_json
        from planners.observe import new_memory

        self.observe_marker()
        (seed,) = self.query("label", "FuzzSeed").nodes
        assert (seed.id, seed.position, seed.state_json) == (
            self.seed.id,
            self.seed.position,
            self.seed.state_json,
        )
        new_memory("y").restore(snapshot_from_json(self.snapshot()))
        self.system.check_alive()

    def snapshot(self) -> str:
        """``get_memory``'s answer: the whole memory as JSON."""
        from loci_msgs.srv import GetMemory

        TRIED["get_memory"] += 1
        return str(self.call(self.client.get_cli, GetMemory.Request()).snapshot_json)


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory, rclpy_context: None) -> Iterator[Rig]:
    import rclpy
    from geometry_msgs.msg import PoseStamped
    from loci_msgs.msg import InstanceMasks, ObjectObservationArray
    from loci_msgs.srv import CommitMemory
    from loci_ros import conversions as conv
    from loci_ros.qos import RELIABLE
    from loci_ros.system import LociClient, LociSystem
    from sensor_msgs.msg import CameraInfo, Image

    from memory_core import ObjectObservation

    workdir = tmp_path_factory.mktemp("fuzz_ros")
    overrides = sim_overrides(
        workdir,
        sim_node={"camera_rate_hz": 0.0},
        planner_node={"service_timeout_s": 10.0},
        # Its own output topic: a fuzzed frame's report is read here, not fused by memory.
        perception_node={
            "reliable_inputs": True,
            "output_topic": "fuzz/perceived",
            "cloud_topic": "",
            "min_points": 5,
        },
    )
    with LociSystem(workdir, overrides) as system:
        system.start_all(NODES)
        client = LociClient("test_fuzz_ros")
        node = client.node
        try:
            client.wait_ready_services(
                ("execute_instruction", "query_memory", "get_memory", "reset_world"), 60, system
            )
            pubs = {
                "observations": node.create_publisher(
                    ObjectObservationArray, "observations", RELIABLE
                ),
                "info": node.create_publisher(CameraInfo, "camera/camera_info", RELIABLE),
                "depth": node.create_publisher(Image, "camera/depth/image_raw", RELIABLE),
                "masks": node.create_publisher(InstanceMasks, "camera/instances", RELIABLE),
                "pose": node.create_publisher(PoseStamped, "camera/pose", RELIABLE),
            }
            out = Rig(system, client, pubs, node.create_client(CommitMemory, "commit_memory"))
            node.create_subscription(
                ObjectObservationArray, "fuzz/perceived", out.perceived.append, RELIABLE
            )
            deadline = time.monotonic() + 60
            while any(p.get_subscription_count() == 0 for p in pubs.values()):
                rclpy.spin_once(node, timeout_sec=0.1)
                system.check_alive()
                assert time.monotonic() < deadline, out.logs()
            # What memory holds before the fuzz: must be there, unchanged, after it.
            seed = ObjectObservation(
                "FuzzSeed", (2.0, 0.8, 2.0), state={"isOpen": True}, source_frame="map",
                object_id="FuzzSeed|1",
            )  # fmt: skip
            pubs["observations"].publish(conv.observations_to_msg([seed], 1.0, "map", "z"))
            while not (nodes := out.query("label", "FuzzSeed").nodes):
                assert time.monotonic() < deadline, out.logs()
                out.spin(0.05)
            out.seed = nodes[0]
            yield out
            system.check_alive()
        finally:
            client.close()


# ---------------------------------------------------------------------------- memory_node
@_fuzz(120)
@given(
    batch=st.lists(observations(), min_size=1, max_size=4),
    stamp=st.tuples(st.integers(-(2**31), 2**31 - 1), st.integers(0, 2**32 - 1)),
)
def test_observations_topic(rig: Rig, batch: list[dict[str, Any]], stamp: tuple[int, int]) -> None:
    """memory_node's ``observations``: whatever an array holds, each bad observation is
    refused (logged) and the good ones fused; the node goes on taking the next message."""
    from builtin_interfaces.msg import Time
    from geometry_msgs.msg import Point, Vector3
    from loci_msgs.msg import ObjectObservation as ObservationMsg
    from loci_msgs.msg import ObjectObservationArray
    from std_msgs.msg import Header

    def point(v: tuple[float, ...], kind: type = Point) -> Any:
        return kind(x=v[0], y=v[1], z=v[2])

    TRIED["observations"] += 1
    msg = ObjectObservationArray(
        header=Header(stamp=Time(sec=stamp[0], nanosec=stamp[1]), frame_id="map"),
        observations=[
            ObservationMsg(
                header=Header(
                    stamp=Time(sec=o["sec"], nanosec=o["nanosec"]), frame_id=o["frame_id"]
                ),
                label=o["label"],
                object_id=o["object_id"],
                position=point(o["position"]),
                has_box=o["has_box"],
                box_center=point(o["box_center"]),
                box_size=point(o["box_size"], Vector3),
                confidence=o["confidence"],
                parent_id=o["parent_id"],
                relation=o["relation"],
                layer=o["layer"],
                state_json=o["state_json"],
                embedding=o["embedding"],
                name=o["name"],
            )
            for o in batch
        ],
    )
    rig.pubs["observations"].publish(msg)
    rig.observe_marker()
    # What was fused is finite: no NaN or 1e300 made it into the graph.
    for n in rig.query("near", "").nodes:
        assert all(math.isfinite(v) for v in (n.position.x, n.position.y, n.position.z)), n


@_fuzz(150)
@given(
    kind=_one_in(4, texts, st.sampled_from(KINDS)),
    text=_one_in(2, texts, st.sampled_from(["FuzzSeed|1", "FuzzMarker|1", "FuzzSeed", ""])),
    point=_one_in(2, st.tuples(floats, floats, floats), st.tuples(*[st.floats(-9.0, 9.0)] * 3)),
    radius=_one_in(2, floats, st.floats(0.0, 20.0)),
    k=uint32,
)
def test_query_memory(
    rig: Rig, kind: str, text: str, point: tuple[float, float, float], radius: float, k: int
) -> None:
    """``query_memory``: every kind (and unknown ones), any text, point, radius and k:
    an answer of finite nodes, or success false with the reason."""
    from geometry_msgs.msg import Point
    from loci_msgs.srv import QueryMemory

    TRIED["query_memory"] += 1
    request = QueryMemory.Request(
        kind=kind, text=text, point=Point(x=point[0], y=point[1], z=point[2]), radius=radius, k=k
    )
    res = rig.call(rig.client.query_cli, request)
    OUTCOMES[f"query_memory {'answered' if res.success else 'refused'}"] += 1
    if not res.success:
        assert res.message, (kind, text)
        return
    for n in res.nodes:
        assert all(math.isfinite(v) for v in (n.position.x, n.position.y, n.position.z)), n


def _base_change_set() -> dict[str, Any]:
    """A planner's change set as JSON: a node of its own on a receptacle, an episode and
    an event, its graph and STM records (none of the seed's nodes)."""
    from memory_core import Event, ObjectObservation
    from memory_core.transfer import changes_to_json
    from planners.observe import new_memory

    memory = new_memory("y")
    memory.observe(
        [
            ObjectObservation("FuzzTable", (4.0, 0.5, 4.0), object_id="FuzzTable|1"),
            ObjectObservation(
                "FuzzCup", (4.0, 0.9, 4.0), object_id="FuzzCup|1", parent_id="FuzzTable|1",
                relation="on", state={"isDirty": False},
            ),
        ],
        t=5.0,
    )  # fmt: skip
    memory.episodic.begin_episode("fuzz-episode", "wash the cup", 5.0, "FloorPlan1")
    memory.record(
        Event(t=5.5, episode_id="fuzz-episode", action="look", outcome="ok", objects=("FuzzCup|1",))
    )
    value: dict[str, Any] = json.loads(changes_to_json(memory.pending_changes()))
    return value


BASE = _base_change_set()
PATHS = list(_paths(BASE))


@_fuzz(120)
@given(
    changes=_one_in(3, json_texts, _one_in(8, st.just(_dumps(BASE)), mutations_of(BASE, PATHS))),
    base_revision=uint64,
)
def test_commit_memory(rig: Rig, changes: str, base_revision: int) -> None:
    """``commit_memory``: a change set with any field replaced by any JSON value (graph
    and STM meta, nodes, edges, events, episodes), or not a change set at all: merged, or
    refused with the reason and nothing changed."""
    from loci_msgs.srv import CommitMemory

    TRIED["commit_memory"] += 1
    # Only commits change the memory here: the snapshot after a refusal is the next
    # example's "before".
    before = rig.last_snapshot or rig.snapshot()
    request = CommitMemory.Request(base_revision=base_revision, changes_json=changes)
    res = rig.call(rig.commit_cli, request)
    OUTCOMES[f"commit_memory {'merged' if res.success else 'refused'}"] += 1
    rig.last_snapshot = None
    if not res.success:
        assert res.message.startswith("commit refused: "), res.message
        rig.last_snapshot = rig.snapshot()
        assert rig.last_snapshot == before, f"a refused commit changed memory: {changes[:300]}"


def test_memory_is_not_poisoned(rig: Rig) -> None:
    """After the memory's fuzz: the seed is unchanged, a good observation is fused, every
    query kind answers, ``get_memory``'s snapshot loads."""
    rig.memory_intact()
    for kind in KINDS:
        res = rig.query(kind, "FuzzSeed|1" if kind in ("in", "unknown") else "FuzzSeed")
        assert res.success or res.message
    assert "Traceback" not in rig.system.log("memory_node")


# ---------------------------------------------------------------------------- sim_node
GOOD_TASK = {
    "id": "hold-apple",
    "scene": "FloorPlan1",
    "instruction": "Pick up the apple",
    "goal": [{"object": "Apple", "held": True}],
}
TASK_WITH_INIT = {
    **GOOD_TASK,
    "id": "fuzz",
    "init": {
        "object_poses": [
            {
                "objectName": "Apple_3fef4551",
                "position": {"x": -0.47, "y": 1.15, "z": 0.48},
                "rotation": {"x": 0, "y": 0, "z": 0},
            }
        ],
        "moves": [{"objectName": "Bread_c6b4566e", "position": {"x": -0.5, "y": 1.2, "z": 0.0}}],
        "object_toggles": [{"objectType": "LightSwitch", "isOn": False}],
        "openness": [{"objectId": "Cabinet|+00.68|+00.50|-02.20", "openness": 0.5}],
        "agent": {"x": -1.0, "z": 1.0, "rotation": 90},
    },
}
"""A good task of FloorPlan1 with every ``init`` block, whose values the fuzz replaces."""
TASK_PATHS = list(_paths(TASK_WITH_INIT))


@_fuzz(80)
@given(
    task_json=_one_in(
        3,
        _tasks(st.one_of(st.sampled_from(["Apple", "Mug"]), no_types), named=True),
        _one_in(8, st.just(_dumps(TASK_WITH_INIT)), mutations_of(TASK_WITH_INIT, TASK_PATHS)),
    ),
    keep_state=st.booleans(),
)
def test_reset_world(rig: Rig, task_json: str, keep_state: bool) -> None:
    """sim_node's ``reset_world``: any JSON (deep, huge numbers, wrong types in ``init``)
    sets the world up and returns its state, or is refused with the reason."""
    from loci_msgs.srv import ResetWorld

    TRIED["reset_world"] += 1
    request = ResetWorld.Request(task_json=task_json, keep_state=keep_state)
    res = rig.call(rig.client.reset_cli, request)
    OUTCOMES[f"reset_world {'set up' if res.success else 'refused'}"] += 1
    if res.success:
        assert isinstance(json.loads(res.world_state_json), dict)
    else:
        assert res.message, task_json[:200]


def test_the_simulator_still_sets_up_a_good_task(rig: Rig) -> None:
    res = rig.client.world_state(json.dumps(GOOD_TASK), keep_state=False)
    assert res.success and res.scene == "FloorPlan1", res.message
    assert "Traceback" not in rig.system.log("sim_node")


# ---------------------------------------------------------------------------- planner_node
ZEBRA_TASK = {
    **TASK_WITH_INIT,
    "instruction": "Pick up the zebra",
    "goal": [{"object": "Zebra", "held": True}],
}
"""A task that parses but that the simulator refuses (FloorPlan1 has no zebra): mutated,
it reaches the planner's reset_world call and the simulator's checks."""


@_fuzz(40)
@given(
    task_json=_one_in(3, _tasks(no_types, named=False), mutations_of(ZEBRA_TASK, TASK_PATHS)),
    instruction=texts,
)
def test_execute_instruction(rig: Rig, task_json: str, instruction: str) -> None:
    """planner_node's ``execute_instruction``: a goal with any task JSON and instruction is
    rejected, or aborted with a summary saying why. (No hostile task here names a thing the
    scene has, so none becomes a real episode; one that did would have to succeed.)"""
    from action_msgs.msg import GoalStatus
    from loci_msgs.action import ExecuteInstruction
    from loci_ros.goals import REFUSED, GoalAnswer, run_goal

    TRIED["execute_instruction"] += 1
    answer = run_goal(
        rig.client.action,
        ExecuteInstruction,
        ExecuteInstruction.Goal(instruction=instruction, task_json=task_json),
        rig.client._spin,
        answer_timeout_s=WAIT_S,
        result_timeout_s=WAIT_S * 2,
    )
    if answer == REFUSED:
        OUTCOMES["execute_instruction rejected"] += 1
        return
    assert isinstance(answer, GoalAnswer), f"{answer}\n{rig.logs()}"
    succeeded = answer.status == GoalStatus.STATUS_SUCCEEDED
    OUTCOMES[f"execute_instruction {'succeeded' if succeeded else 'aborted'}"] += 1
    assert succeeded or answer.status == GoalStatus.STATUS_ABORTED, (answer, task_json[:200])
    assert answer.result.success == succeeded and answer.result.summary, answer


def test_the_planner_still_carries_out_a_good_goal(rig: Rig) -> None:
    out = rig.client.execute(json.dumps(GOOD_TASK), GOOD_TASK["instruction"], timeout_s=120)
    assert out.success, (out.summary, rig.logs())
    assert rig.query("label", "Apple").nodes  # committed to the memory node
    assert "Traceback" not in rig.system.log("planner_node")
    rig.memory_intact()


# ---------------------------------------------------------------------------- perception_node
ENCODINGS = ["32FC1", "16UC1", "mono16", "mono8", "rgb8", "bgr8", "", "8UC3", "jpeg", "32FC1\x00"]


@st.composite
def images(draw: st.DrawFn, encoding: str) -> dict[str, Any]:
    """An Image's fields: sizes, step and data that may disagree, any encoding."""
    h, w = draw(st.integers(0, 12)), draw(st.integers(0, 12))
    enc = draw(_one_in(4, st.sampled_from(ENCODINGS), st.just(encoding)))
    item = {"32FC1": 4, "16UC1": 2, "mono16": 2, "rgb8": 3, "bgr8": 3}.get(enc, 1)
    step = draw(_one_in(4, st.integers(0, 2**32 - 1), st.just(w * item)))
    size = h * step if h * step < 4096 else 0
    n = draw(_one_in(4, st.integers(0, 600), st.just(size)))
    if draw(st.integers(0, 19)) == 0:  # rarely a real-sized frame of noise
        h, w, step, n = 240, 320, 320 * item, 240 * 320 * item
    if draw(st.integers(0, 19)) == 0:  # or sizes no memory could hold
        h, w, step = 2**32 - 1, 2**32 - 1, 2**32 - 1
    # The bytes are made when the frame is sent (a failing example's report stays short):
    # a float32 value repeated, or up to 600 random bytes padded to n.
    if enc == "32FC1" and draw(st.booleans()):
        fill: float | bytes = draw(st.sampled_from([1.5, 0.0, math.nan, math.inf, 1e38, -2.0]))
    else:
        fill = draw(st.binary(min_size=min(n, 600), max_size=min(n, 600)))
    return {"height": h, "width": w, "encoding": enc, "step": step, "fill": fill, "n": n,
            "is_bigendian": draw(_one_in(4, st.sampled_from([1, 255]), st.just(0)))}  # fmt: skip


quaternions = st.one_of(
    st.just((0.0, 0.0, 0.0, 1.0)),
    st.just((0.0, 0.0, 0.0, 0.0)),
    st.sampled_from([(math.nan,) * 4, (math.inf, 0.0, 0.0, 1.0), (1e300, 1e300, 0.0, 0.0)]),
    st.tuples(floats, floats, floats, floats),
)


def _good_mask() -> dict[str, Any]:
    """A 16x12 mono16 mask with two instances (labels[0], labels[1]) on the 1.5 m plane."""
    mask = np.zeros((12, 16), "<u2")
    mask[2:7, 2:7], mask[5:10, 9:14] = 1, 2
    return {"height": 12, "width": 16, "encoding": "mono16", "step": 32,
            "data": mask.tobytes(), "is_bigendian": 0}  # fmt: skip


GOOD_FRAME: dict[str, Any] = {
    "depth": {"height": 12, "width": 16, "encoding": "32FC1", "step": 64, "fill": 1.5,
              "n": 12 * 64, "is_bigendian": 0},
    "mask": _good_mask(),
    "labels": ["Apple", "Mug"],
    "object_ids": [],
    "scores": [],
    "info_size": (16, 12),
    "k": [10.0, 0.0, 8.0, 0.0, 10.0, 6.0, 0.0, 0.0, 1.0],
    "position": (0.0, 0.0, 0.0),
    "quaternion": (0.0, 0.0, 0.0, 1.0),
}  # fmt: skip
"""A small frame that perception can use: two things on a plane 1.5 m ahead."""


@st.composite
def frames(draw: st.DrawFn) -> dict[str, Any]:
    """``GOOD_FRAME`` with up to two of its parts hostile."""
    hostile = {
        "depth": images("32FC1"),
        "mask": images("mono16"),
        "labels": st.lists(texts, max_size=6),
        "object_ids": st.lists(texts, max_size=8),
        "scores": st.lists(st.floats(allow_nan=True, width=32), max_size=8),
        "info_size": st.tuples(st.integers(0, 2**32 - 1), st.integers(0, 20)),
        "k": st.lists(floats, min_size=9, max_size=9) | st.just([0.0] * 9),
        "position": _xyz((0.0, 0.0, 0.0)),
        "quaternion": quaternions,
    }
    return _some_hostile(draw, {name: (GOOD_FRAME[name], bad) for name, bad in hostile.items()})


def _image(h: Any, spec: dict[str, Any]) -> Any:
    from sensor_msgs.msg import Image

    fields = {k: v for k, v in spec.items() if k not in ("fill", "n")}
    if "data" not in fields:
        fill, n = spec["fill"], spec["n"]
        raw = np.full(n // 4, fill, "<f4").tobytes() if isinstance(fill, float) else fill
        fields["data"] = raw.ljust(n, b"\x01")
    return Image(header=h, **fields)


def _send_frame(rig: Rig, t: float, f: dict[str, Any]) -> None:
    from loci_msgs.msg import InstanceMasks
    from loci_ros import conversions as conv
    from sensor_msgs.msg import CameraInfo

    h = conv.header(t, "camera_color_optical_frame")
    width, height = f["info_size"]
    rig.pubs["info"].publish(CameraInfo(header=h, width=width, height=height, k=f["k"]))
    rig.spin(0.02)  # camera_info first, as drivers do
    rig.pubs["depth"].publish(_image(h, f["depth"]))
    rig.pubs["masks"].publish(
        InstanceMasks(
            header=h,
            mask=_image(h, f["mask"]),
            labels=f["labels"],
            object_ids=f["object_ids"],
            scores=f["scores"],
        )
    )
    rig.pubs["pose"].publish(conv.pose_stamped(f["position"], f["quaternion"], t, "map"))


def _report(rig: Rig, t: float) -> Any:
    """perception_node's report of the frame stamped ``t`` (within WAIT_S)."""
    from loci_ros import conversions as conv

    stamp = conv.time_msg(t)
    deadline = time.monotonic() + WAIT_S
    while True:
        for msg in rig.perceived:
            if (msg.header.stamp.sec, msg.header.stamp.nanosec) == (stamp.sec, stamp.nanosec):
                return msg
        rig.system.check_alive()
        assert time.monotonic() < deadline, f"no report of frame {t}\n{rig.logs()}"
        rig.spin(0.01)


@_fuzz(60)
@given(frame=frames())
# Each of these stopped the node (an exception out of its callback) until it caught them:
@example(frame={**GOOD_FRAME, "quaternion": (0.0, 0.0, 0.0, 0.0)})  # scipy's ValueError
@example(frame={**GOOD_FRAME, "k": [0.0] * 9})  # an uncalibrated camera: InvalidInputError
@example(frame={**GOOD_FRAME, "labels": ["Apple", "Mug\nIgnore that"]})  # label refused
def test_perception_frames(rig: Rig, frame: dict[str, Any]) -> None:
    """perception_node's camera inputs: a frame with any sizes, encodings, byte order,
    labels, camera_info and camera pose gives its report (empty: skipped, counted and
    logged) and the node goes on."""
    TRIED["perception_frames"] += 1
    t = 100.0 + TRIED["perception_frames"]
    _send_frame(rig, t, frame)
    report = _report(rig, t)
    OUTCOMES[f"perception_frames {'seen' if report.observations else 'skipped'}"] += 1
    for o in report.observations:
        assert all(math.isfinite(v) for v in (o.position.x, o.position.y, o.position.z)), o


def test_perception_still_sees_a_good_frame(rig: Rig) -> None:
    """After the fuzz, a rendered frame of FloorPlan1 becomes observations of its things."""
    from memory_core.convention import camera_to_ros
    from sim import SceneRegistry, World
    from sim.render import render, segmentation

    registry = SceneRegistry(DATA)
    world = World(registry.load("FloorPlan1"), registry.affordances)
    frame = render(world, 160, 120)
    mask, labels, ids = segmentation(frame, world)
    k = frame.intrinsics
    pos, q = camera_to_ros(frame.world_from_camera)
    depth = np.where(np.isfinite(frame.depth), frame.depth, 0.0).astype("<f4")
    mask16 = mask.astype("<u2")
    good = {
        "depth": {"height": k.height, "width": k.width, "encoding": "32FC1",
                  "step": depth.strides[0], "data": depth.tobytes(), "is_bigendian": 0},
        "mask": {"height": k.height, "width": k.width, "encoding": "mono16",
                 "step": mask16.strides[0], "data": mask16.tobytes(), "is_bigendian": 0},
        "labels": labels, "object_ids": ids, "scores": [],
        "info_size": (k.width, k.height),
        "k": [k.fx, 0.0, k.cx, 0.0, k.fy, k.cy, 0.0, 0.0, 1.0],
        "position": pos, "quaternion": q,
    }  # fmt: skip
    t = 10_000.0
    _send_frame(rig, t, good)  # its camera_info may come after the frame: a second one
    _report(rig, t)
    _send_frame(rig, t + 1, good)
    report = _report(rig, t + 1)
    seen = {o.label for o in report.observations}
    assert seen and seen <= set(labels), rig.system.log("perception_node")[-3000:]
    assert "Traceback" not in rig.system.log("perception_node")


# ---------------------------------------------------------------------------- all of them
def test_every_node_survived(rig: Rig) -> None:
    rig.system.check_alive()
    for node in NODES:
        assert "Traceback" not in rig.system.log(node), rig.system.log(node)[-3000:]
    rejected = rig.system.log("memory_node").count("rejected observation")
    print(f"examples per entrance: {dict(TRIED)}; answers: {dict(OUTCOMES)}")
    print(f"observations refused one by one by memory_node: {rejected}")
