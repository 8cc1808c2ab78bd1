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
