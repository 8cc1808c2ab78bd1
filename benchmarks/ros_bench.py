"""ROS 2 layer benchmark (real nodes, Fast DDS on loopback). Run after
`source ros_ws/env.sh` (`make bench` does). The last line is JSON.

``obs_array_latency_ms_p50``: a loci_msgs/ObjectObservationArray of 30 objects (real
object types and sizes from a ProcTHOR house, moved a little each time so every message
changes the memory) published to the memory node, until its SceneGraphUpdate for that
change arrives: conversion, fusion, the SQLite commit and both DDS hops. Median of 60.

``step_overhead_ratio``: the default task 1 (51 skills), run through the nodes (planner →
nav2's navigate_to_pose or execute_skill on the sim node, a ``sense`` after each
navigation, memory committed to the memory node after every skill) vs the in-process
executive, in the same process run: wall time per skill through ROS / wall time per skill
in process.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import rclpy  # noqa: E402
from loci_msgs.msg import ObjectObservationArray, SceneGraphUpdate  # noqa: E402
from loci_ros import conversions as conv  # noqa: E402
from loci_ros.qos import RELIABLE  # noqa: E402
from loci_ros.system import LociClient, LociSystem, sim_overrides  # noqa: E402

from loci.episodes import run_in_world  # noqa: E402
from loci.main_job import default_first_task  # noqa: E402
from memory_core import Box3D, ObjectObservation  # noqa: E402
from planners.observe import new_memory  # noqa: E402
from sim import SceneRegistry  # noqa: E402
from sim.episode import make_world  # noqa: E402
from sim.tasks import task_to_json  # noqa: E402

DATA = REPO.parent / "shared" / "data"
SCENE = "procthor/houses_20/house_12"


def observation_latency(client: LociClient, registry: SceneRegistry) -> float:
    objects = [o for o in registry.load(SCENE).objects if max(o.size) < 0.6][:30]
    node = client.node
    pub = node.create_publisher(ObjectObservationArray, "observations", RELIABLE)
    got: list[tuple[float, int]] = []
    sub = node.create_subscription(
        SceneGraphUpdate,
        "scene_graph/updates",
        lambda m: got.append((time.perf_counter(), len(m.nodes))),
        RELIABLE,
    )
    deadline = time.monotonic() + 30
    while pub.get_subscription_count() == 0 or sub.get_publisher_count() == 0:
        rclpy.spin_once(node, timeout_sec=0.05)
        if time.monotonic() > deadline:
            raise TimeoutError("the memory node's topics did not match")
    latencies = []
    for i in range(70):
        shift = 0.01 * (i % 2)
        batch = [
            ObjectObservation(
                o.object_type,
                (o.center[1] + shift, -o.center[0], o.center[2]),  # any ROS-frame pose
                Box3D((o.center[1] + shift, -o.center[0], o.center[2]), o.size),
                timestamp=float(i),
                source_frame="map",
                object_id=o.object_id,
            )
            for o in objects
        ]
        msg = conv.observations_to_msg(batch, float(i), "map", "z")
        got.clear()
        t0 = time.perf_counter()
        pub.publish(msg)
        while not got:
            rclpy.spin_once(node, timeout_sec=0.05)
            if time.perf_counter() - t0 > 10:
                raise TimeoutError(f"no scene-graph update for observation message {i}")
        if i >= 10:  # the first messages create the nodes and warm the caches
            latencies.append((got[0][0] - t0) * 1000)
    return statistics.median(latencies)


def main() -> None:
    registry = SceneRegistry(DATA)
    first = default_first_task(registry, SCENE, 0)
    world, memory = make_world(first, registry), new_memory()
    t0 = time.perf_counter()
    direct = run_in_world(world, memory, first, registry)
    direct_s = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        with LociSystem(work, {"memory_node": {"store_path": str(work / "obs.db")}}) as system:
            system.start("memory_node")
            client = LociClient("ros_bench")
            client.wait_ready_services(("query_memory",), 60, system)
            latency = observation_latency(client, registry)
        with LociSystem(work, sim_overrides(work / "m.db", DATA)) as system:
            system.start_all(("sim_node", "memory_node", "planner_node"))
            client.wait_ready(60, system)
            t0 = time.perf_counter()
            via = client.execute(json.dumps(task_to_json(first)))
            ros_s = time.perf_counter() - t0
            assert via.success and via.skills == direct.skills, (via, direct)
        client.close()
    per_skill_ros = ros_s / via.skills
    per_skill_direct = direct_s / direct.skills
    print(f"task 1 in process: {direct_s:.3f} s for {direct.skills} skills")
    print(f"task 1 through ROS: {ros_s:.3f} s for {via.skills} skills")
    print(
        json.dumps(
            {
                "obs_array_latency_ms_p50": round(latency, 2),
                "objects_per_message": 30,
                "step_overhead_ratio": round(per_skill_ros / per_skill_direct, 2),
                "ms_per_skill_ros": round(per_skill_ros * 1000, 2),
                "ms_per_skill_in_process": round(per_skill_direct * 1000, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
