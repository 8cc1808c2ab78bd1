"""Simulator benchmark: skills per second (no rendering) and render frames per second.

Skill workload: a seeded random mix on real scenes (navigate to a random object,
then pickup / open / close / toggle / put attempts on visible things), about
half of them invalid, as a planner's would be. Rendering: depth + instance
segmentation (+ RGB) at 320x240 after random navigations. Medians over repeats;
the last printed line is the JSON result.
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sim import SceneRegistry, Skill, World  # noqa: E402
from sim.render import render  # noqa: E402

DATA = REPO.parent / "shared" / "data"
SCENES = (
    "FloorPlan1",
    "FloorPlan10",
    "FloorPlan201",
    "FloorPlan301",
    "FloorPlan401",
    "procthor/houses_20/house_3",
)
ACTIONS = ("pickup", "open", "close", "toggle_on", "toggle_off", "put")


def skill_rate(world: World, rng: random.Random, n: int) -> float:
    ids = sorted(world.objects)
    t0 = time.perf_counter()
    for _ in range(n):
        if rng.random() < 0.3:
            world.step(Skill("navigate", rng.choice(ids)))
        else:
            seen = world.visible_objects() or ids
            world.step(Skill(rng.choice(ACTIONS), rng.choice(seen)))
    return n / (time.perf_counter() - t0)


def render_fps(world: World, rng: random.Random, n: int) -> float:
    ids = sorted(world.objects)
    times = []
    for _ in range(n):
        world.step(Skill("navigate", rng.choice(ids)))
        t0 = time.perf_counter()
        render(world, 320, 240)
        times.append(time.perf_counter() - t0)
    return 1.0 / statistics.median(times)


def main() -> None:
    registry = SceneRegistry(DATA)
    rng = random.Random(0)
    rates, fps = {}, {}
    for name in SCENES:
        world = World(registry.load(name), registry.affordances)
        rates[name] = statistics.median(skill_rate(world, rng, 400) for _ in range(3))
        fps[name] = render_fps(world, rng, 30)
        print(f"{name:<30} {rates[name]:8.0f} skills/s {fps[name]:6.1f} frames/s")
    result = {
        "steps_per_s": round(statistics.median(rates.values())),
        "render_fps_320x240": round(statistics.median(fps.values()), 1),
        "scenes": list(SCENES),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
