"""``household``: multi-step instructions with ordered subgoals on iTHOR floor plans
(``household-procthor``: the same recipe on the ProcTHOR houses; ``household-day``: days of
such tasks in one continuing ProcTHOR house).

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
import re
from collections.abc import Callable, Sequence
from pathlib import Path

from embodiment.affordances import Affordances
from sim.registry import SceneRegistry
from sim.scene import SceneSpec
from sim.tasks import Predicate, Task

__all__ = [
    "StepWriter",
    "household_day_tasks",
    "household_procthor_tasks",
    "household_tasks",
    "write_steps",
]

SIZES = {"simple": (1, 2), "composite": (3, 4), "complex": (5, 6)}
TABLES = ("DiningTable", "CoffeeTable", "SideTable")
SEED = 7
_TOGGLE = ("DeskLamp", "FloorLamp", "Television", "Faucet", "CoffeeMachine")
_OPEN = ("Fridge", "Microwave", "Cabinet", "Drawer", "Box", "Safe")

Step = tuple[str, Predicate]


def _words(t: str) -> str:
    """``TVStand`` → ``tv stand``, ``SprayBottle`` → ``spray bottle``."""
    out = re.sub(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", " ", t).lower()
    return "table" if t in TABLES else out


class StepWriter:
    def __init__(
        self,
        spec: SceneSpec,
        aff: Affordances,
        rng: random.Random,
        avoid: frozenset[str] = frozenset(),
    ) -> None:
        """``avoid``: types no step may ask for (sliced earlier the same day: no longer
        whole)."""
        self.aff, self.rng = aff, rng
        self.types = sorted({o.object_type for o in spec.objects})
        self.things = [
            t
            for t in self.types
            if aff.pickupable(t) and not t.endswith("Sliced") and t not in avoid
        ]
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


Maker = Callable[[set[str]], list[Step] | None]


def write_steps(
    w: StepWriter,
    lo: int,
    hi: int,
    makers: Sequence[Maker] | None = None,
    throw_away: bool = True,
) -> list[Step]:
    """A chain of ``lo``-``hi`` steps from ``makers`` (household's by default), each undo
    step (turn it off, close it) put after the others; with ``throw_away``, a short chain
    ends by throwing a placed thing away."""
    target = w.rng.randint(lo, hi)
    if makers is None:
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
    if throw_away and len(steps) < target:
        extra = _throw_away(w, steps)
        if extra is not None:
            steps.append(extra)
    return steps[:hi]


def household_tasks(data: Path) -> list[Task]:
    registry = SceneRegistry(data)
    scenes = [n for n in registry.names() if n.startswith("FloorPlan")]
    return _written(registry, scenes[::4], "household")  # 30 floor plans, all four room types


def household_procthor_tasks(data: Path) -> list[Task]:
    """The same recipe on every ProcTHOR house of ``procthor_houses/houses_20`` (four
    rooms each, doors and open walls between them)."""
    registry = SceneRegistry(data)
    return _written(registry, _procthor_houses(registry), "household-procthor")


DAY_LENGTH = 5
DISPLACED = 2
_SURFACES = (
    "CounterTop",
    "DiningTable",
    "CoffeeTable",
    "SideTable",
    "Desk",
    "Dresser",
    "TVStand",
    "Shelf",
    "Bed",
    "Sofa",
    "ArmChair",
)


def household_day_tasks(data: Path) -> list[Task]:
    """``household-day``: a day in each ProcTHOR house of ``procthor_houses/houses_20``:
    ``DAY_LENGTH`` household tasks (household's recipe, 3-4 steps each) one after another
    in one continuing world and memory. Before each later task someone else has moved
    ``DISPLACED`` of the things that task asks for onto another surface (``init.moves``,
    as in ``lifelong``): memory of where things were is useful, and sometimes stale. A
    thing sliced during the day is not asked for again (it is no longer whole)."""
    registry = SceneRegistry(data)
    aff = registry.affordances
    tasks = []
    for scene in _procthor_houses(registry):
        spec = registry.load(scene)
        seq = f"household-day/{scene}"
        sliced: set[str] = set()
        for k in range(DAY_LENGTH):
            rng = random.Random(f"{SEED}:{scene}:day:{k}")
            steps = write_steps(StepWriter(spec, aff, rng, frozenset(sliced)), 3, 4)
            if not steps:
                continue
            init: dict[str, object] = {}
            if k > 0:
                moves = _displace(spec, aff, rng, steps, sliced)
                if moves:
                    init = {"moves": moves}
            sliced |= {t for _w, p in steps if p.state.get("isSliced") for t in p.object_types}
            tasks.append(
                _task(f"{seq}/{k}", scene, steps, "household-day", init, seq, sequence_index=k)
            )
    return tasks


def _displace(
    spec: SceneSpec, aff: Affordances, rng: random.Random, steps: list[Step], sliced: set[str]
) -> list[dict[str, object]]:
    """Someone else's doing: up to ``DISPLACED`` of the things ``steps`` ask for (one
    instance each, whose name no other object shares), each set on a surface that can hold
    it, at a random spot of its top."""
    wanted = sorted(
        {t for _w, p in steps for t in p.object_types if aff.pickupable(t) and t not in sliced}
    )
    names = [o.name for o in spec.objects]
    surfaces = [o for o in spec.objects if o.object_type in _SURFACES and o.parent_id is None]
    moves: list[dict[str, object]] = []
    for t in rng.sample(wanted, min(DISPLACED, len(wanted))):
        things = [o for o in spec.objects if o.object_type == t and names.count(o.name) == 1]
        onto = [r for r in surfaces if aff.can_place(t, r.object_type)]
        if not things or not onto:
            continue
        thing, rec = rng.choice(things), rng.choice(onto)
        c, half = rec.center, (rec.size[0] / 2, rec.size[2] / 2)
        room = [max(h - max(thing.size[0], thing.size[2]) / 2 - 0.05, 0.0) for h in half]
        x = c[0] + rng.uniform(-room[0], room[0])
        z = c[2] + rng.uniform(-room[1], room[1])
        y = c[1] + rec.size[1] / 2 + thing.size[1] / 2 + 0.01
        moves.append({"objectName": thing.name, "position": {"x": x, "y": y, "z": z}})
    return moves


def _procthor_houses(registry: SceneRegistry) -> list[str]:
    return sorted(
        (n for n in registry.names() if n.startswith("procthor/houses_20/")),
        key=lambda n: int(n.rsplit("_", 1)[1]),
    )


def _written(
    registry: SceneRegistry,
    scenes: list[str],
    suite: str,
    write: Callable[[SceneSpec, Affordances, random.Random, int, int], list[Step]] | None = None,
    kind: str = "household",
) -> list[Task]:
    """Three tasks per scene (simple, composite, complex) written by ``write`` (household's
    recipe by default) with a fixed seed per scene and size (``kind`` names the recipe in
    the seed, except household's, and in the task type)."""
    aff = registry.affordances
    tasks = []
    for scene in scenes:
        spec = registry.load(scene)
        for size, (lo, hi) in SIZES.items():
            tag = "" if kind == "household" else f"{kind}:"
            rng = random.Random(f"{SEED}:{scene}:{tag}{size}")
            if write is None:
                steps = write_steps(StepWriter(spec, aff, rng), lo, hi)
            else:
                steps = write(spec, aff, rng, lo, hi)
            if len(steps) < lo:
                continue
            tasks.append(_task(f"{suite}/{scene}/{size}", scene, steps, f"{kind}-{size}"))
    return tasks


def _task(
    task_id: str,
    scene: str,
    steps: list[Step],
    task_type: str,
    init: dict[str, object] | None = None,
    sequence: str = "",
    sequence_index: int = 0,
) -> Task:
    """One written task: its steps in order, the instruction their words joined."""
    text = ", then ".join(t for t, _p in steps)
    return Task(
        task_id=task_id,
        scene=scene,
        instruction=text[0].upper() + text[1:] + ".",
        subgoals=tuple((p,) for _t, p in steps),
        ordered=True,
        init=init or {},
        task_type=task_type,
        source="written from the scene's contents",
        sequence=sequence,
        sequence_index=sequence_index,
    )
