"""AI2-THOR bridge benchmark: skills per second through ai2thor's own Controller on
``loci thor-backend`` against the same skills on the built-in body in process (ratio in
one run), and frame delivery through the Controller at 300x300 with depth and instance
segmentation against rendering the same frame in process.

Skill workload: a seeded mix on real scenes, recorded on the built-in body and replayed
on the ai2thor body (navigations to random reachable points, interactions with random
visible things, about half of them invalid, as a planner's would be). Medians over
repeats; the last printed line is the JSON result. Needs the ``ai2thor`` extra.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from embodiment.skills import Skill  # noqa: E402
from sim import SceneRegistry, World  # noqa: E402
from sim.body import BuiltinBody  # noqa: E402
from sim.render import render  # noqa: E402
from thor.body import Ai2ThorBody  # noqa: E402
from thor.setup import backend_command, start_controller  # noqa: E402

DATA = REPO.parent / "shared" / "data"
SCENES = ("FloorPlan1", "FloorPlan201", "FloorPlan301")
ACTIONS = ("pickup", "open", "close", "toggle_on", "toggle_off", "put")
SKILLS = 150
REPEATS = 3
FRAMES = 40


def workload(world: World, rng: random.Random, n: int) -> tuple[list[Skill], float]:
    """Skills chosen on the built-in body as they go, and its rate (skills/s)."""
    body = BuiltinBody(world)
    cells = sorted(world.spec.reachable)
    skills: list[Skill] = []
    t0 = time.perf_counter()
    for _ in range(n):
        if rng.random() < 0.3:
            x, z = rng.choice(cells)
            skill = Skill("navigate", f"point:{x:.2f},{z:.2f}")
        else:
            seen = world.visible_objects() or sorted(world.objects)
            skill = Skill(rng.choice(ACTIONS), rng.choice(seen))
        body.execute(skill)
        skills.append(skill)
    return skills, n / (time.perf_counter() - t0)


def thor_rate(controller: object, skills: list[Skill]) -> float:
    body = Ai2ThorBody(controller)
    body.navigation()  # the map is fetched once per episode, not per skill
    t0 = time.perf_counter()
    for skill in skills:
        body.execute(skill)
    return len(skills) / (time.perf_counter() - t0)


def main() -> None:
    os.environ.setdefault("HOME", tempfile.mkdtemp(prefix="loci-thor-bench-"))
    registry = SceneRegistry(DATA)
    rows = []
    for scene in SCENES:
        controller = start_controller(scene, "gt", backend_command(DATA))
        try:
            inproc, through = [], []
            for rep in range(REPEATS):
                world = World(registry.load(scene), registry.affordances)
                skills, rate = workload(world, random.Random(rep), SKILLS)
                inproc.append(rate)
                controller.reset(scene=f"{scene}_physics")
                through.append(thor_rate(controller, skills))
        finally:
            controller.stop()
        row = {
            "scene": scene,
            "in_process_skills_per_s": statistics.median(inproc),
            "controller_skills_per_s": statistics.median(through),
        }
        row["ratio"] = row["controller_skills_per_s"] / row["in_process_skills_per_s"]
        rows.append(row)
        print(
            f"{scene:<14} in process {row['in_process_skills_per_s']:8.1f} skills/s   "
            f"through the Controller {row['controller_skills_per_s']:7.1f} skills/s   "
            f"ratio {row['ratio']:.3f}"
        )

    # Frames: the Controller's step with RGB + depth + instance segmentation at 300x300;
    # the same steps without frames (headless); rendering the same views in process (the
    # backend starts at the scene's start pose, horizon 0, and turns 90 degrees a step).
    def step_ms(sensing: str, **params: object) -> float:
        controller = start_controller("FloorPlan1", sensing, backend_command(DATA), **params)
        try:
            times = []
            for _ in range(FRAMES):
                t0 = time.perf_counter()
                event = controller.step(action="RotateRight", degrees=90)
                _ = event.depth_frame, event.instance_masks  # what a user reads
                times.append(time.perf_counter() - t0)
            return 1000 * statistics.median(times)
        finally:
            controller.stop()

    with_frames = step_ms("rgbd", width=300, height=300)
    without = step_ms("gt")
    world = World(registry.load("FloorPlan1"), registry.affordances)
    start = world.agent_yaw
    renders = []
    for k in range(FRAMES):
        world.agent_yaw = (start + 90.0 * (k + 1)) % 360
        t0 = time.perf_counter()
        render(world, 300, 300, horizon_deg=0.0)
        renders.append(time.perf_counter() - t0)
    frame = {
        "controller_step_with_frames_ms": with_frames,
        "controller_step_without_frames_ms": without,
        "in_process_render_ms": 1000 * statistics.median(renders),
    }
    print(
        f"300x300 RGB + depth + instance segmentation through the Controller: "
        f"{with_frames:.1f} ms a step ({without:.1f} ms without frames); rendering the same "
        f"views in process: {frame['in_process_render_ms']:.1f} ms"
    )
    print(json.dumps({"skills": rows, "frames": frame}))


if __name__ == "__main__":
    main()
