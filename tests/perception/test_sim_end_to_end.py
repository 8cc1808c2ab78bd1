"""Render → perception → memory on simulator scenes, checked against ground truth."""

from __future__ import annotations

import math

import numpy as np

from memory_core import Layer
from perception import observations_from_frame
from planners.observe import new_memory
from sim import SceneRegistry, Skill, World
from sim.render import render
from tests.conftest import DATA

SCENES = (
    "FloorPlan1",
    "FloorPlan201",
    "FloorPlan301",
    "FloorPlan401",
    "procthor/houses_20/house_3",
)


def _run(registry: SceneRegistry, scene: str) -> tuple[int, int, int, int]:
    world = World(registry.load(scene), registry.affordances)
    memory = new_memory()
    seen = {}
    targets = sorted(o for o, so in world.objects.items() if so.receptacle and not so.pickupable)
    t = 0.0
    for target in targets[:6]:
        world.step(Skill("navigate", target))
        for _ in range(4):
            world.agent_yaw = (world.agent_yaw + 90) % 360
            frame = render(world, 320, 240)
            labels = {
                idx: world.objects[oid].object_type
                for idx, oid in enumerate(frame.instance_ids)
                if oid in world.objects and world.objects[oid].pickupable
            }
            # No ids: the memory must associate observations across frames by itself.
            result = observations_from_frame(
                frame.depth.copy(),
                frame.instance,
                labels,
                frame.intrinsics,
                frame.world_from_camera,
                t,
            )
            for idx in np.unique(frame.instance):
                if idx in labels and (frame.instance == idx).sum() >= 20:
                    seen[frame.instance_ids[idx]] = world.objects[frame.instance_ids[idx]]
            t += 1
            memory.observe(list(result.observations), t=t)
    nodes = memory.graph.nodes(Layer.OBJECT)
    truth = list(seen.values())
    tp_nodes = sum(
        any(g.object_type == n.label and math.dist(g.center, n.position) <= 0.3 for g in truth)
        for n in nodes
    )
    tp_truth = sum(
        any(n.label == g.object_type and math.dist(g.center, n.position) <= 0.3 for n in nodes)
        for g in truth
    )
    return tp_nodes, len(nodes), tp_truth, len(truth)


def test_fused_objects_match_ground_truth() -> None:
    registry = SceneRegistry(DATA)
    totals = np.zeros(4)
    for scene in SCENES:
        counts = np.array(_run(registry, scene))
        totals += counts
        print(f"\n{scene}: precision {counts[0]}/{counts[1]}, recall {counts[2]}/{counts[3]}")
    precision, recall = totals[0] / totals[1], totals[2] / totals[3]
    print(f"all: precision {precision:.3f} recall {recall:.3f} (within 0.3 m)")
    assert precision >= 0.9 and recall >= 0.9


def test_perception_does_not_depend_on_the_axis_convention(registry: SceneRegistry) -> None:
    """One frame perceived in AI2-THOR's axes and in ROS's (camera pose through a
    quaternion, as perception_node gets it) gives the same observations once converted:
    the ROS planner and the in-process loop then fuse the same things."""
    from scipy.spatial.transform import Rotation

    from memory_core.convention import camera_to_ros, from_ros, size_from_ros

    world = World(registry.load("FloorPlan1"), registry.affordances)
    checked = 0
    for yaw in (0, 90, 180, 270):
        world.agent_yaw = yaw
        frame = render(world, 320, 240)
        labels = {
            idx: world.objects[oid].object_type
            for idx, oid in enumerate(frame.instance_ids)
            if oid in world.objects
        }
        args = (frame.depth, frame.instance, labels, frame.intrinsics)
        thor = observations_from_frame(*args, frame.world_from_camera, 0.0).observations
        pos, q = camera_to_ros(frame.world_from_camera)
        ros_pose = np.eye(4)
        ros_pose[:3, :3] = Rotation.from_quat(q).as_matrix()
        ros_pose[:3, 3] = pos
        ros = observations_from_frame(*args, ros_pose, 0.0).observations
        assert [o.label for o in ros] == [o.label for o in thor]
        for a, b in zip(thor, ros, strict=True):
            assert from_ros(b.position, "y") == a.position
            assert a.box is not None and b.box is not None
            assert from_ros(b.box.center, "y") == a.box.center
            assert size_from_ros(b.box.size, "y") == a.box.size
            checked += 1
    assert checked > 10
