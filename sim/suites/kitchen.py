"""``household-kitchen``: cooking and drinks in the 30 iTHOR kitchens, written like
``household`` (ordered subgoals, simple / composite / complex, a fixed seed) from each
kitchen's real contents and AI2-THOR's kitchen rules:

- toast a slice of bread (a Toaster, a Bread and a knife);
- cook a potato, or fry it or an egg in the pan (a StoveKnob lights the burner under it);
- fill something with water at the sink, and later pour it out;
- make coffee (a mug in the coffee machine);
- chill something (temperature Cold);
- put a slice of something on a plate;

mixed with household's place / open-close / toggle steps. A thing sliced or cracked for
one step is not asked for whole again.
"""

from __future__ import annotations

import random
from pathlib import Path

from embodiment.affordances import Affordances
from sim.registry import SceneRegistry
from sim.scene import SceneSpec
from sim.suites.household import Step, StepWriter, _words, _written, write_steps
from sim.tasks import Predicate, Task

__all__ = ["KitchenWriter", "kitchen_tasks", "write_kitchen_steps"]

_FILLABLE = ("Mug", "Cup", "Bowl", "Pot", "Kettle")
_KNIVES = ("Knife", "ButterKnife")


class KitchenWriter(StepWriter):
    def __init__(self, spec: SceneSpec, aff: Affordances, rng: random.Random) -> None:
        super().__init__(spec, aff, rng)
        self.cut: set[str] = set()
        """Types sliced or cracked by an earlier step: not whole any more."""

    def _free(self, t: str, used: set[str]) -> bool:
        return self.has(t) and t not in used and t not in self.cut

    def _knife(self) -> bool:
        return any(self.has(k) for k in _KNIVES)

    def toast(self, used: set[str]) -> list[Step] | None:
        if not (self.has("Toaster") and self._free("Bread", used) and self._knife()):
            return None
        used.add("Bread")
        self.cut.add("Bread")
        return [("toast a slice of bread", Predicate(("BreadSliced",), state={"isCooked": True}))]

    def cook(self, used: set[str]) -> list[Step] | None:
        if not self._free("Potato", used):
            return None
        used.add("Potato")
        return [("cook the potato", Predicate(("Potato",), state={"isCooked": True}))]

    def fry(self, used: set[str]) -> list[Step] | None:
        pans = [p for p in ("Pan", "Pot") if self.has(p) and p not in used]
        foods = [f for f in ("Potato", "Egg") if self._free(f, used)]
        if not self.has("StoveKnob") or not pans or not foods:
            return None
        pan, food = self.rng.choice(pans), self.rng.choice(foods)
        used |= {pan, food}
        if food == "Egg":
            self.cut.add("Egg")
            pred = Predicate(("EggCracked",), (pan,), state={"isCooked": True})
            return [(f"fry an egg in the {_words(pan)}", pred)]
        pred = Predicate((food,), (pan,), state={"isCooked": True})
        return [(f"cook the {_words(food)} in the {_words(pan)}", pred)]

    def fill(self, used: set[str]) -> list[Step] | None:
        cands = [t for t in _FILLABLE if self._free(t, used)]
        if not self.has("SinkBasin") or not cands:
            return None
        t = self.rng.choice(cands)
        used.add(t)
        return [
            (
                f"fill the {_words(t)} with water",
                Predicate((t,), state={"isFilledWithLiquid": True}),
            ),
            (
                f"pour the water out of the {_words(t)}",
                Predicate((t,), state={"isFilledWithLiquid": False}),
            ),
        ]

    def coffee(self, used: set[str]) -> list[Step] | None:
        if not (self.has("CoffeeMachine") and self._free("Mug", used)):
            return None
        used |= {"Mug", "CoffeeMachine"}
        pred = Predicate(("Mug",), ("CoffeeMachine",), state={"isFilledWithLiquid": True})
        return [("make a cup of coffee", pred)]

    def chill(self, used: set[str]) -> list[Step] | None:
        cands = [t for t in self.things if self.aff.coolable(t) and self._free(t, used)]
        if not self.has("Fridge") or not cands:
            return None
        t = self.rng.choice(cands)
        used.add(t)
        return [(f"chill the {_words(t)}", Predicate((t,), state={"temperature": "Cold"}))]

    def plate_slice(self, used: set[str]) -> list[Step] | None:
        cands = [
            t
            for t in self.things
            if self.aff.sliceable(t) and t != "Egg" and self._free(t, used)
            if self.aff.can_place(f"{t}Sliced", "Plate")
        ]
        if not (self.has("Plate") and self._knife() and cands):
            return None
        t = self.rng.choice(cands)
        used.add(t)
        self.cut.add(t)
        pred = Predicate((f"{t}Sliced",), ("Plate",))
        return [(f"put a slice of the {_words(t)} on a plate", pred)]


def write_kitchen_steps(w: KitchenWriter, lo: int, hi: int) -> list[Step]:
    """Household's chain (:func:`sim.suites.household.write_steps`) from the kitchen's
    makers and household's, with no throwing away at the end."""
    makers = [
        w.toast,
        w.cook,
        w.fry,
        w.fill,
        w.coffee,
        w.chill,
        w.plate_slice,
        w.place,
        w.open_close,
        w.toggle,
    ]
    return write_steps(w, lo, hi, makers, throw_away=False)


def kitchen_tasks(data: Path) -> list[Task]:
    registry = SceneRegistry(data)
    kitchens = [f"FloorPlan{n}" for n in range(1, 31)]

    def write(
        spec: SceneSpec, aff: Affordances, rng: random.Random, lo: int, hi: int
    ) -> list[Step]:
        return write_kitchen_steps(KitchenWriter(spec, aff, rng), lo, hi)

    return _written(registry, kitchens, "household-kitchen", write, "kitchen")
