"""`loci run --ros`: the default episode through the ROS 2 nodes (sim, memory, planner,
perception as separate processes over loopback DDS) instead of in process.

Needs the workspace built and sourced (`make run ROS=1` does both). The tasks are the
in-process run's: task 1 from the seed, task 2 chosen from what the memory node holds
after task 1, so both modes can be compared step for step.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from loci.main_job import default_first_task, second_task
from memory_core import LociError
from memory_core.transfer import snapshot_from_json
from planners.observe import new_memory
from sim import SceneRegistry, World
from sim.tasks import task_to_json

__all__ = ["RosRunResult", "run_through_ros"]


@dataclass(frozen=True, slots=True)
class RosRunResult:
    first_success: bool
    first_steps: int
    second_success: bool
    second_steps: int
    second_memory_hits: int
    store: Path


def run_through_ros(
    registry: SceneRegistry,
    scene: str,
    out: Path,
    seed: int,
    say: Callable[[str], None],
    sensing: str = "gt",
) -> RosRunResult:
    """The main job's two tasks through the nodes. ``gt``: the planner's sensed
    observations are memory's only source; ``rgbd``: perception_node is the only thing that
    turns frames into observations (the planner fuses its per-frame reports)."""
    try:
        from loci_ros.system import LociClient, LociSystem, sim_overrides
    except ImportError as exc:
        raise LociError(
            f"--ros needs the ROS 2 workspace ({exc}): run `make run ROS=1`, or build it "
            "with ros_ws/build.sh and `source ros_ws/env.sh`"
        ) from exc
    if not os.environ.get("FASTRTPS_DEFAULT_PROFILES_FILE"):
        raise LociError("--ros needs the loopback DDS profile: `source ros_ws/env.sh` first")
    work = out.resolve() / "ros"  # the nodes run in it: every path they get is absolute
    work.mkdir(parents=True, exist_ok=False)  # in a run folder claimed for this run
    store = work / "memory.db"
    overrides = sim_overrides(store, registry.data, sensing)
    first = default_first_task(registry, scene, seed)
    nodes: tuple[str, ...] = ("sim_node", "memory_node", "planner_node")
    if sensing == "rgbd":
        nodes = ("sim_node", "perception_node", "memory_node", "planner_node")
    with LociSystem(work, overrides) as system:
        system.start_all(nodes)
        client = LociClient("loci_run")
        try:
            client.wait_ready(60, system)
            say(f"nodes up (ROS_DOMAIN_ID {os.environ.get('ROS_DOMAIN_ID')}); logs in {work}")
            say(f"task 1 in {scene}: {first.instruction}")
            o1 = client.execute(json.dumps(task_to_json(first)), first.instruction)
            # The simulator counts primitive steps (nav2 navigation reports none).
            state = json.loads(client.world_state().world_state_json)
            steps1 = int(state["steps_taken"])
            say(f"task 1: {'success' if o1.success else 'FAILED'}, {steps1} steps ({o1.summary})")
            world = World(registry.load(scene), registry.affordances)
            world.set_state(state)
            memory = new_memory()
            memory.restore(snapshot_from_json(client.memory_snapshot().snapshot_json))
            second = second_task(world, memory, first, registry)
            if second is None:
                raise LociError("the memory node holds no object that a second task could use")
            say(f"task 2: {second.instruction} (needs things seen in task 1)")
            o2 = client.execute(json.dumps(task_to_json(second)), second.instruction)
            state = json.loads(client.world_state().world_state_json)
            steps2 = int(state["steps_taken"]) - steps1
            say(
                f"task 2: {'success' if o2.success else 'FAILED'}, {steps2} steps; found "
                f"{o2.memory_hits} thing(s) in memory"
            )
            system.check_alive()
        finally:
            client.close()
    return RosRunResult(o1.success, steps1, o2.success, steps2, o2.memory_hits, store)
