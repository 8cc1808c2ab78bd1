"""``household``: multi-step instructions with ordered subgoals on iTHOR floor plans.

Written from ALFRED's task types and each floor plan's real contents (the scene's
own objects and AI2-THOR's receptacle rules), with a fixed seed. Each instruction
is a chain of steps; later steps may undo earlier ones ("turn the lamp on, …,
turn it off"; "put the bread in the fridge, …, throw the bread away"), which is
why the subgoals are ordered. Three sizes per floor plan: simple (1-2 subgoals),
composite (3-4) and complex (5-6). Object words may accept several types ("a
table" is a DiningTable, CoffeeTable or SideTable).

The steps available in a scene:

- place: put a pickupable thing in/on a receptacle that accepts it;
- toggle on, and later off: lamps, televisions, faucets, coffee machines;
- open, and later close: fridges, microwaves, cabinets, drawers, boxes, safes;
- heat (microwave), cool (fridge), clean (sink), slice (a knife in the scene);
- throw away: an object placed earlier goes into the garbage can.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

from embodiment.affordances import Affordances
from sim.registry import SceneRegistry
from sim.scene import SceneSpec
from sim.tasks import Predicate, Task

__all__ = ["StepWriter", "household_tasks", "write_steps"]

SIZES = {"simple": (1, 2), "composite": (3, 4), "complex": (5, 6)}
TABLES = ("DiningTable", "CoffeeTable", "SideTable")
SEED = 7
_TOGGLE = ("DeskLamp", "FloorLamp", "Television", "Faucet", "CoffeeMachine")
_OPEN = ("Fridge", "Microwave", "Cabinet", "Drawer", "Box", "Safe")

Step = tuple[str, Predicate]


def _words(t: str) -> str:
    out = "".join(" " + c.lower() if c.isupper() else c for c in t).strip()
    return "table" if t in TABLES else out


class StepWriter:
    def __init__(self, spec: SceneSpec, aff: Affordances, rng: random.Random) -> None:
        self.aff, self.rng = aff, rng
        self.types = sorted({o.object_type for o in spec.objects})
        self.things = [t for t in self.types if aff.pickupable(t) and not t.endswith("Sliced")]
        self.recs = [t for t in self.types if aff.receptacle(t) and not aff.pickupable(t)]

    def has(self, t: str) -> bool:
        return t in self.types

    def rec_group(self, t: str) -> tuple[str, ...]:
        return tuple(x for x in TABLES if self.has(x)) if t in TABLES else (t,)

    def place(self, used: set[str]) -> list[Step] | None:
        pairs = [
            (o, r)
            for o in self.things
            if o not in used
            for r in self.recs
            if self.aff.can_place(o, r) and r != "GarbageCan"
        ]
        if not pairs:
            return None
        o, r = self.rng.choice(pairs)
        used.add(o)
        prep = "in" if r in _OPEN or r.endswith("Basin") or r == "GarbageCan" else "on"
        group = self.rec_group(r)
        return [(f"put the {_words(o)} {prep} the {_words(r)}", Predicate((o,), group))]

    def toggle(self, used: set[str]) -> list[Step] | None:
        cands = [t for t in _TOGGLE if self.has(t) and t not in used]
        if not cands:
            return None
        t = self.rng.choice(cands)
        used.add(t)
        return [
            (f"turn on the {_words(t)}", Predicate((t,), state={"isToggled": True})),
            (f"turn the {_words(t)} off", Predicate((t,), state={"isToggled": False})),
        ]

    def open_close(self, used: set[str]) -> list[Step] | None:
        cands = [t for t in _OPEN if self.has(t) and t not in used]
        if not cands:
            return None
        t = self.rng.choice(cands)
        used.add(t)
        return [
            (f"open the {_words(t)}", Predicate((t,), state={"isOpen": True})),
            (f"close the {_words(t)}", Predicate((t,), state={"isOpen": False})),
        ]

    def _treat(
        self, used: set[str], appliance: str, ok: Callable[[str], bool], verb: str, flag: str
    ) -> list[Step] | None:
        if not self.has(appliance):
            return None
        cands = [o for o in self.things if ok(o) and o not in used]
        if not cands:
            return None
        o = self.rng.choice(cands)
        used.add(o)
        return [(f"{verb} the {_words(o)}", Predicate((o,), state={flag: True}))]

    def heat(self, used: set[str]) -> list[Step] | None:
        return self._treat(used, "Microwave", self.aff.heatable, "heat", "isHeated")

    def cool(self, used: set[str]) -> list[Step] | None:
        return self._treat(used, "Fridge", self.aff.coolable, "chill", "isCooled")

    def clean(self, used: set[str]) -> list[Step] | None:
        return self._treat(used, "SinkBasin", self.aff.cleanable, "rinse", "isCleaned")

    def slice(self, used: set[str]) -> list[Step] | None:
        if not (self.has("Knife") or self.has("ButterKnife")):
            return None
        return self._treat(used, "CounterTop", self.aff.sliceable, "slice", "isSliced")


def _throw_away(w: StepWriter, steps: list[Step]) -> Step | None:
    placed = [p for _t, p in steps if p.in_types and not p.state]
    if not w.has("GarbageCan") or not placed:
        return None
    obj = placed[0].object_types[0]
    if not w.aff.can_place(obj, "GarbageCan"):
        return None
    return (f"throw the {_words(obj)} away", Predicate((obj,), ("GarbageCan",)))


def write_steps(w: StepWriter, lo: int, hi: int) -> list[Step]:
    target = w.rng.randint(lo, hi)
    makers = [w.place, w.toggle, w.open_close, w.heat, w.cool, w.clean, w.slice, w.place]
    steps: list[Step] = []
    pending: list[Step] = []  # undo steps, appended later in the chain
    used: set[str] = set()
    tries = 0
    while len(steps) + len(pending) < target and tries < 40:
        tries += 1
        made = w.rng.choice(makers)(used)
        if not made:
            continue
        room = target - len(steps) - len(pending)
        steps.append(made[0])
        if len(made) > 1 and room >= 2:
            pending.append(made[1])
    steps.extend(pending)
    if len(steps) < target:
        extra = _throw_away(w, steps)
        if extra is not None:
            steps.append(extra)
    return steps[:hi]


def household_tasks(data: Path) -> list[Task]:
    registry = SceneRegistry(data)
    aff = registry.affordances
    tasks = []
    scenes = [n for n in registry.names() if n.startswith("FloorPlan")]
    for scene in scenes[::4]:  # 30 floor plans, all four room types
        spec = registry.load(scene)
        for size, (lo, hi) in SIZES.items():
            rng = random.Random(f"{SEED}:{scene}:{size}")
            steps = write_steps(StepWriter(spec, aff, rng), lo, hi)
            if len(steps) < lo:
                continue
            text = ", then ".join(t for t, _p in steps)
            tasks.append(
                Task(
                    task_id=f"household/{scene}/{size}",
                    scene=scene,
                    instruction=text[0].upper() + text[1:] + ".",
                    subgoals=tuple((p,) for _t, p in steps),
                    ordered=True,
                    task_type=f"household-{size}",
                    source="written from the scene's contents",
                )
            )
    return tasks
