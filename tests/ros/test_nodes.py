"""The four nodes as separate processes over real DDS (loopback only)."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from loci.episodes import run_in_world
from loci.main_job import default_first_task, second_task
from planners.observe import new_memory
from sim import SceneRegistry
from sim.episode import make_world
from sim.tasks import task_to_json
from tests.conftest import DATA
from tests.ros.conftest import sim_overrides

SCENE = "procthor/houses_20/house_12"


def _udp_addresses(pid: int) -> set[str]:
    """Local addresses of the UDP sockets process ``pid`` holds (from /proc)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = str(fd.readlink())
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    out = set()
    for table in ("/proc/net/udp", "/proc/net/udp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[9] in inodes:
                out.add(fields[1].split(":")[0])
    return out


def _logger(log: list[str]) -> Any:
    """An on_step that logs each skill as the planner node's feedback names it."""

    def on_step(skill: Any, step: Any) -> None:
        name = f"{skill.name} {skill.target or ''}".strip()
        log.append(f"{name} {'ok' if step.success else 'failed'}")

    return on_step


def _execute_as_logged(
    client: Any, system: Any, task: Any, log: list[str], steps_before: int = 0
) -> tuple[Any, int]:
    """Run ``task`` through the planner node; its skills must be ``log``'s. Returns the
    outcome and the primitive steps the simulator counted for it."""
    out = client.execute(json.dumps(task_to_json(task)))
    assert out.skill_log == tuple(log), (out, system.log("planner_node")[-3000:])
    steps = json.loads(client.world_state().world_state_json)["steps_taken"]
    return out, steps - steps_before


def _latched_graph(client: Any, timeout_s: float = 10.0, min_revision: int = 0) -> Any:
    """Subscribe now (late) to the latched scene graph and return the first message of at
    least ``min_revision`` (the graph goes out at most every graph_period_s)."""
    import rclpy
    from loci_msgs.msg import SceneGraph
    from loci_ros.qos import LATCHED

    got: list[Any] = []
    sub = client.node.create_subscription(SceneGraph, "scene_graph", got.append, LATCHED)
    deadline = time.monotonic() + timeout_s
    while not (got and got[-1].revision >= min_revision) and time.monotonic() < deadline:
        rclpy.spin_once(client.node, timeout_sec=0.1)
    client.node.destroy_subscription(sub)
    assert got, "no latched scene graph for a late subscriber"
    assert got[-1].revision >= min_revision, "the latched graph stayed behind the memory"
    return got[-1]


@pytest.mark.slow
def test_instruction_through_the_nodes_matches_in_process(
    tmp_path: Path, rclpy_context: None
) -> None:
    from loci_ros.system import LociClient, LociSystem

    registry = SceneRegistry(DATA)
    first = default_first_task(registry, SCENE, 0)
    world, memory = make_world(first, registry), new_memory()
    log1: list[str] = []
    log2: list[str] = []
    r1 = run_in_world(world, memory, first, registry, _logger(log1))
    steps1 = world.steps_taken
    second = second_task(world, memory, first, registry)
    assert second is not None
    r2 = run_in_world(world, memory, second, registry, _logger(log2))
    assert r1.steps == steps1 and r2.steps == world.steps_taken - steps1

    # All four nodes run; the camera is off so that perception (tested below) cannot race
    # the planner's commits and the outcome is deterministic.
    overrides = sim_overrides(tmp_path, sim_node={"camera_rate_hz": 0.0})
    with LociSystem(tmp_path, overrides) as system:
        system.start_all()
        client = LociClient("test_client")
        try:
            client.wait_ready(60, system)
            # Skill for skill, through nav2's NavigateToPose and ExecuteSkill actions; the
            # simulator counts the primitive steps (nav2 reports none).
            o1, sim_steps1 = _execute_as_logged(client, system, first, log1)
            assert (o1.success, sim_steps1, o1.skills, o1.memory_hits) == (
                r1.success,
                r1.steps,
                r1.skills,
                r1.memory_hits,
            )
            assert o1.feedback == o1.skills  # feedback after every skill
            for node, proc in system.procs.items():
                addresses = _udp_addresses(proc.pid)
                assert addresses and addresses <= {"0100007F"}, f"{node} binds {addresses}"

            # SIGKILL the memory node and start it again: it resumes from its store.
            before = client.memory_snapshot().snapshot_json
            assert system.kill("memory_node") == -signal.SIGKILL
            system.start("memory_node")
            deadline = time.monotonic() + 30
            while system.log("memory_node").count("memory from") < 2:  # the new process
                assert time.monotonic() < deadline, system.log("memory_node")
                time.sleep(0.2)
            after = client.memory_snapshot().snapshot_json
            assert json.loads(after)["nodes"] == json.loads(before)["nodes"]
            # ...and the next task uses it: the same steps as in process, not a search.
            o2, sim_steps2 = _execute_as_logged(client, system, second, log2, sim_steps1)
            assert (o2.success, sim_steps2, o2.memory_hits) == (
                r2.success,
                r2.steps,
                r2.memory_hits,
            )
            assert o2.memory_hits > 0

            # A subscriber that joins now still gets the scene graph; the query service answers.
            revision = client.query("label", "Pillow").revision
            graph = _latched_graph(client, min_revision=revision)
            ids = {n.id for n in graph.nodes}
            assert {n.id for n in memory.graph.iter_nodes()} <= ids
            pillow = client.query("label", "Pillow")
            assert pillow.success and pillow.nodes
            bad = client.query("teleport", "x")
            assert not bad.success and "unknown query kind" in bad.message
            context = client.query("context", second.instruction)
            assert context.success and "Pillow" in context.context
            system.check_alive()
        finally:
            client.close()


@pytest.mark.slow
def test_rgbd_instruction_through_the_nodes_matches_in_process(
    tmp_path: Path, rclpy_context: None
) -> None:
    """Camera sensing through ROS: sim_node publishes each skill's rendered frames,
    perception_node is the only thing that turns them into observations, the planner fuses
    each frame's report: the same skills, outcomes and steps as the in-process rgbd loop."""
    from loci_ros.system import LociClient, LociSystem

    registry = SceneRegistry(DATA)
    task = default_first_task(registry, "FloorPlan1", 0)
    world, memory = make_world(task, registry), new_memory()
    log: list[str] = []
    direct = run_in_world(world, memory, task, registry, _logger(log), sensing="rgbd")
    assert direct.skills > 3

    overrides = sim_overrides(tmp_path, "rgbd")
    with LociSystem(tmp_path, overrides) as system:
        system.start_all(("sim_node", "perception_node", "memory_node", "planner_node"))
        client = LociClient("test_rgbd")
        try:
            client.wait_ready(60, system)
            out, steps = _execute_as_logged(client, system, task, log)
            assert (out.success, steps, out.skills) == (direct.success, direct.steps, direct.skills)
            # The committed memory holds what perception saw: types, no simulator ids.
            nodes = json.loads(client.memory_snapshot().snapshot_json)["nodes"]
            # id, label of the things (objects and receptacles: a drawer is one)
            objects = [(n[0], n[2]) for n in nodes if n[1] in ("object", "receptacle")]
            assert {label for _id, label in objects} & set(task.object_types())
            assert all(node_id.startswith(f"{label}#") for node_id, label in objects)
            system.check_alive()
        finally:
            client.close()


@pytest.mark.slow
def test_camera_to_perception_to_memory(tmp_path: Path, rclpy_context: None) -> None:
    """sim_node renders, perception_node turns depth + masks + pose into observations,
    memory_node fuses them: the scene graph matches the simulator within 0.3 m."""
    from loci_ros.system import LociClient, LociSystem

    from memory_core.convention import to_ros

    registry = SceneRegistry(DATA)
    task = default_first_task(registry, "FloorPlan1", 0)
    overrides = sim_overrides(tmp_path, sim_node={"camera_rate_hz": 5.0})
    with LociSystem(tmp_path, overrides) as system:
        system.start_all(("sim_node", "perception_node", "memory_node"))
        client = LociClient("test_perception")
        try:
            client.wait_ready_services(("reset_world", "query_memory"), 60, system)
            reset = client.world_state(json.dumps(task_to_json(task)), keep_state=False)
            assert reset.success
            deadline = time.monotonic() + 30
            graph = None
            while time.monotonic() < deadline:
                graph = _latched_graph(client)
                if sum(n.layer == "object" or n.layer == "receptacle" for n in graph.nodes) >= 5:
                    break
                time.sleep(0.5)
            assert graph is not None
            truth = {o["object_id"]: o for o in json.loads(reset.world_state_json)["objects"]}
            checked = 0
            for n in graph.nodes:
                o = truth[n.id]  # perception's ids are the segmenter's (the simulator's)
                if max(o["size"]) >= 0.5:
                    continue  # furniture: its visible surface is far from its centre
                centre = np.add(o["position"], o["offset"])
                gt = np.array(to_ros(tuple(centre), "y"))
                assert np.linalg.norm(gt - (n.position.x, n.position.y, n.position.z)) < 0.3
                checked += 1
            assert checked >= 3
            system.check_alive()
        finally:
            client.close()


def test_bad_goals_are_refused_with_a_reason(tmp_path: Path, rclpy_context: None) -> None:
    from loci_ros.system import LociClient, LociSystem

    with LociSystem(tmp_path, sim_overrides(tmp_path)) as system:
        system.start_all(("sim_node", "memory_node", "planner_node"))
        client = LociClient("test_bad")
        try:
            client.wait_ready(60, system)
            out = client.execute("{not json")
            assert not out.success and "bad task" in out.summary
            task = {"id": "x", "scene": "NoSuchScene", "goal": [{"object": ["Apple"]}]}
            out = client.execute(json.dumps(task))
            assert not out.success and "NoSuchScene" in out.summary
            out = client.execute("")
            assert not out.success and "task_json" in out.summary
            system.check_alive()
        finally:
            client.close()


def test_memory_node_refuses_a_foreign_store(tmp_path: Path, rclpy_context: None) -> None:
    import sqlite3

    from loci_ros.system import LociSystem

    foreign = tmp_path / "foreign.db"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE notes (x TEXT)")
        conn.execute("INSERT INTO notes VALUES ('keep me')")
    with LociSystem(tmp_path, {"memory_node": {"store_path": str(foreign)}}) as system:
        proc = system.start("memory_node")
        assert proc.wait(timeout=30) == 1  # a clear exit, not a traceback
        log = system.log("memory_node")
        assert "cannot open the memory store" in log and "Traceback" not in log
    with sqlite3.connect(foreign) as conn:
        assert conn.execute("SELECT x FROM notes").fetchall() == [("keep me",)]


def test_perception_node_skips_bad_frames_and_goes_on(tmp_path: Path, rclpy_context: None) -> None:
    """A frame whose camera_info disagrees with its size is skipped (logged with counts);
    the node keeps running and the next good frame becomes observations."""
    import rclpy
    from geometry_msgs.msg import PoseStamped
    from loci_msgs.msg import InstanceMasks, ObjectObservationArray
    from loci_ros import conversions as conv
    from loci_ros.qos import RELIABLE, SENSOR
    from loci_ros.system import LociClient, LociSystem
    from sensor_msgs.msg import CameraInfo, Image

    from memory_core.convention import camera_to_ros
    from sim import World
    from sim.render import render, segmentation

    registry = SceneRegistry(DATA)
    world = World(registry.load("FloorPlan1"), registry.affordances)
    frame = render(world, 160, 120)
    mask, labels, ids = segmentation(frame, world)
    k = frame.intrinsics

    def image(t: float, arr: Any, enc: str) -> Image:
        return Image(
            header=conv.header(t, "camera_color_optical_frame"),
            height=arr.shape[0],
            width=arr.shape[1],
            encoding=enc,
            step=arr.strides[0],
            data=arr.tobytes(),
        )

    def info(t: float, width: int) -> CameraInfo:
        return CameraInfo(
            header=conv.header(t, "camera_color_optical_frame"),
            width=width,
            height=k.height,
            k=[k.fx, 0.0, k.cx, 0.0, k.fy, k.cy, 0.0, 0.0, 1.0],
        )

    pos, q = camera_to_ros(frame.world_from_camera)
    depth = np.where(np.isfinite(frame.depth), frame.depth, 0.0).astype("<f4")
    with LociSystem(tmp_path, {}) as system:
        system.start("perception_node")
        client = LociClient("test_perception_bad")
        node = client.node
        try:
            pubs = {
                "info": node.create_publisher(CameraInfo, "camera/camera_info", SENSOR),
                "depth": node.create_publisher(Image, "camera/depth/image_raw", SENSOR),
                "masks": node.create_publisher(InstanceMasks, "camera/instances", SENSOR),
                "pose": node.create_publisher(PoseStamped, "camera/pose", SENSOR),
            }
            got: list[ObjectObservationArray] = []
            node.create_subscription(ObjectObservationArray, "observations", got.append, RELIABLE)
            deadline = time.monotonic() + 30
            while any(p.get_subscription_count() == 0 for p in pubs.values()):
                rclpy.spin_once(node, timeout_sec=0.1)
                assert time.monotonic() < deadline, system.log("perception_node")

            def send(t: float, width: int) -> None:
                pubs["info"].publish(info(t, width))
                time.sleep(0.05)  # camera_info first, as drivers do
                pubs["depth"].publish(image(t, depth, "32FC1"))
                pubs["masks"].publish(
                    InstanceMasks(
                        header=conv.header(t, "camera_color_optical_frame"),
                        mask=image(t, mask.astype("<u2"), "mono16"),
                        labels=labels,
                        object_ids=ids,
                    )
                )
                pubs["pose"].publish(conv.pose_stamped(pos, q, t, "map"))

            # camera_info says 320 wide, the image is 160 (sent until it is seen: sensor
            # topics are best effort).
            deadline = time.monotonic() + 20
            t = 1.0
            while "size mismatch" not in system.log("perception_node"):
                send(t, k.width * 2)
                t += 1.0
                end = time.monotonic() + 0.3
                while time.monotonic() < end:
                    rclpy.spin_once(node, timeout_sec=0.1)
                assert time.monotonic() < deadline, system.log("perception_node")
            # A skipped frame is reported as an empty array with its stamp (a consumer that
            # waits for a frame's report is never left waiting).
            end = time.monotonic() + 1
            while not got and time.monotonic() < end:
                rclpy.spin_once(node, timeout_sec=0.1)
            assert got and all(not a.observations for a in got)
            bad_stamps = {a.header.stamp.sec for a in got}
            assert bad_stamps <= set(range(1, int(t)))
            got.clear()
            deadline = time.monotonic() + 20
            while not any(a.observations for a in got):
                send(t, k.width)
                t += 1.0
                end = time.monotonic() + 1
                while not any(a.observations for a in got) and time.monotonic() < end:
                    rclpy.spin_once(node, timeout_sec=0.1)
                assert time.monotonic() < deadline, system.log("perception_node")
            good = next(a for a in got if a.observations)
            labels_seen = {o.label for o in good.observations}
            assert labels_seen and labels_seen <= set(labels)
            system.check_alive()
        finally:
            client.close()


def test_llm_planner_behind_the_action(tmp_path: Path, rclpy_context: None) -> None:
    """planner: llm — the planner node asks a real chat-completions server (scripted, on
    127.0.0.1 in this process) and the goal succeeds through the sim node."""
    from loci_ros.system import LociClient, LociSystem

    from tests.planners.chat_server import ChatServer
    from tests.planners.test_llm import TASK, good_policy

    with ChatServer([("status", 500)], good_policy) as server:
        overrides = sim_overrides(
            tmp_path,
            planner_node={"planner": "llm", "llm_base_url": server.base_url, "llm_model": "s"},
        )
        with LociSystem(tmp_path, overrides) as system:
            system.start_all(("sim_node", "memory_node", "planner_node"))
            client = LociClient("test_llm")
            try:
                client.wait_ready(60, system)
                out = client.execute(json.dumps(task_to_json(TASK)), TASK.instruction)
                assert out.success, out.summary
                assert out.skills >= 2 and out.feedback == out.skills
                # One scripted HTTP 500 was survived; every skill came from the server.
                assert len(server.requests) >= out.skills + 1
                prompt = server.requests[-1]["messages"][-1]["content"]
                assert "Pick up the apple" in prompt
            finally:
                client.close()
    bad = sim_overrides(tmp_path, planner_node={"planner": "oracle"})
    with LociSystem(tmp_path, bad) as system:
        proc = system.start("planner_node")
        assert proc.wait(timeout=30) == 1
        assert "planner must be one of ('symbolic', 'llm')" in system.log("planner_node")


def _goal_under_way(client: Any, task: Any, skills: int = 3) -> Any:
    """Send ``task`` as a goal and wait until it is accepted and ``skills`` skills ran;
    its goal handle."""
    import uuid

    import rclpy
    from loci_msgs.action import ExecuteInstruction
    from rclpy.action.client import ClientGoalHandle
    from unique_identifier_msgs.msg import UUID

    feedback: list[Any] = []
    goal = ExecuteInstruction.Goal(task_json=json.dumps(task_to_json(task)))
    # A request sent while DDS is still matching the server's reader is lost (it failed a
    # full run twice, waiting 60 s for an answer): sent again under the same goal id, as
    # loci_ros.goals.run_goal sends its goals.
    goal_id = UUID(uuid=list(uuid.uuid4().bytes))
    handle = None
    for attempt in range(4):
        sent = client.action.send_goal_async(
            goal, feedback_callback=feedback.append, goal_uuid=goal_id
        )
        rclpy.spin_until_future_complete(client.node, sent, timeout_sec=15)
        if not sent.done():
            continue
        handle = sent.result()
        if handle is not None and not handle.accepted and attempt > 0:
            # Refused as a duplicate of an earlier send whose answer was lost.
            accepted = ExecuteInstruction.Impl.SendGoalService.Response(accepted=True)
            handle = ClientGoalHandle(client.action, goal_id, accepted)
        break
    assert handle is not None and handle.accepted
    while len(feedback) < skills:
        rclpy.spin_once(client.node, timeout_sec=0.1)
    return handle


def test_a_canceled_goal_stops_after_the_current_skill(tmp_path: Path, rclpy_context: None) -> None:
    import rclpy
    from action_msgs.msg import GoalStatus
    from loci_msgs.action import ExecuteInstruction
    from loci_ros.system import LociClient, LociSystem

    registry = SceneRegistry(DATA)
    task = default_first_task(registry, SCENE, 0)  # 51 skills when it runs to the end
    # At 50x real time the task takes ~13 s of wall time: the cancel lands mid-task even on
    # a loaded machine (as fast as it computes, all 51 skills once finished first).
    overrides = sim_overrides(tmp_path, sim_node={"real_time_factor": 50.0})
    with LociSystem(tmp_path, overrides) as system:
        system.start_all(("sim_node", "memory_node", "planner_node"))
        client = LociClient("test_cancel")
        try:
            client.wait_ready(60, system)
            handle = _goal_under_way(client, task)
            # A second goal while busy is rejected at once, not accepted and aborted.
            second = client.action.send_goal_async(
                ExecuteInstruction.Goal(task_json=json.dumps(task_to_json(task)))
            )
            rclpy.spin_until_future_complete(client.node, second, timeout_sec=30)
            assert second.result() is not None and not second.result().accepted
            assert "goal rejected: already executing" in system.log("planner_node")
            cancel = handle.cancel_goal_async()
            rclpy.spin_until_future_complete(client.node, cancel, timeout_sec=30)
            done = handle.get_result_async()
            rclpy.spin_until_future_complete(client.node, done, timeout_sec=60)
            response = done.result()
            assert response.status == GoalStatus.STATUS_CANCELED
            assert "canceled after" in response.result.summary
            assert 3 <= response.result.skills < 51
            # What was seen before the cancel was committed.
            assert json.loads(client.memory_snapshot().snapshot_json)["nodes"]
            system.check_alive()
        finally:
            client.close()


def test_memory_node_survives_poison(tmp_path: Path, rclpy_context: None) -> None:
    """A store holding a node at 1e300 loads with it quarantined; observations at 1e300 or
    beyond the plausible extent are refused one by one; a query with an infinite radius is
    refused; the node stays up and fuses the good observation of the same message."""
    import sqlite3

    import rclpy
    from loci_msgs.msg import ObjectObservationArray
    from loci_ros import conversions as conv
    from loci_ros.qos import RELIABLE
    from loci_ros.system import LociClient, LociSystem

    from memory_core import Memory, ObjectObservation, SQLiteStore

    store = tmp_path / "poisoned.db"
    mem = Memory()
    mem.observe(
        [
            ObjectObservation("Apple", (1.0, 0.9, 2.0), object_id="Apple|1"),
            ObjectObservation("Mug", (1.5, 0.9, 2.0), object_id="Mug|1"),
        ]
    )
    with SQLiteStore(store) as s:
        mem.commit(s)  # nodes as rows, as memory_node's commits write them
    with sqlite3.connect(store) as conn:
        conn.execute("UPDATE nodes SET x = 1e300 WHERE id = 'Mug|1'")
    with LociSystem(tmp_path, {"memory_node": {"store_path": str(store)}}) as system:
        system.start("memory_node")
        client = LociClient("test_poison")
        try:
            client.wait_ready_services(("query_memory",), 60, system)
            assert "'Mug|1' quarantined" in system.log("memory_node")
            assert [n.id for n in client.query("label", "Apple").nodes] == ["Apple|1"]
            from loci_msgs.srv import QueryMemory

            inf = client.call(
                client.query_cli, QueryMemory.Request(kind="near", radius=float("inf"), k=3)
            )
            assert not inf.success and "radius" in inf.message
            pub = client.node.create_publisher(ObjectObservationArray, "observations", RELIABLE)
            good = ObjectObservation(
                "Bread", (2.0, 0.9, 2.0), source_frame="map", object_id="Bread|1"
            )
            far = ObjectObservation("Cup", (2.0e5, 0.9, 2.0), source_frame="map", object_id="Cup|1")
            odom = ObjectObservation(
                "Fork", (1.0, 0.9, 2.0), source_frame="odom", object_id="Fork|1"
            )
            msg = conv.observations_to_msg([good, far, odom], 1.0, "map", "z")
            huge = conv.observation_to_msg(
                ObjectObservation("Egg", (1.0, 1.0, 1.0), source_frame="map", object_id="Egg|1"),
                "z",
            )
            huge.position.x = 1e300
            msg.observations.append(huge)
            deadline = time.monotonic() + 20
            while not client.query("label", "Bread").nodes:
                pub.publish(msg)
                rclpy.spin_once(client.node, timeout_sec=0.5)
                assert time.monotonic() < deadline, system.log("memory_node")
            log = system.log("memory_node")
            assert "rejected observation 3 ('Egg')" in log and "plausible extent" in log
            assert "in frame 'odom', not the memory's frame 'map'" in log
            for label in ("Cup", "Egg", "Fork"):
                assert not client.query("label", label).nodes
            near = client.query("near", "", 5)
            assert near.success
            system.check_alive()
            assert "Traceback" not in system.log("memory_node")
        finally:
            client.close()


def test_a_goal_cut_short_by_a_dead_memory_node_says_how_far_it_got(
    tmp_path: Path, rclpy_context: None
) -> None:
    """The memory node SIGKILLed mid-task: the planner's next commit finds no service, the
    goal is aborted with the reason, and its result counts the skills and steps that ran
    (it said 0 and 0 after 22 skills)."""
    import rclpy
    from action_msgs.msg import GoalStatus
    from loci_ros.system import LociClient, LociSystem

    registry = SceneRegistry(DATA)
    task = default_first_task(registry, SCENE, 0)  # 51 skills when it runs to the end
    overrides = sim_overrides(
        tmp_path,
        sim_node={"real_time_factor": 50.0},
        planner_node={"service_timeout_s": 3.0},
    )
    with LociSystem(tmp_path, overrides) as system:
        system.start_all(("sim_node", "memory_node", "planner_node"))
        client = LociClient("test_dead_memory")
        try:
            client.wait_ready(60, system)
            handle = _goal_under_way(client, task)
            assert system.kill("memory_node") == -signal.SIGKILL
            done = handle.get_result_async()
            rclpy.spin_until_future_complete(client.node, done, timeout_sec=90)
            response = done.result()
            assert response.status == GoalStatus.STATUS_ABORTED
            assert response.result.summary.startswith("error: ")
            assert "commit_memory" in response.result.summary
            assert 3 <= response.result.skills < 51
            assert response.result.steps > 0
        finally:
            client.close()
