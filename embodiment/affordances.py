"""AI2-THOR object properties and receptacle rules, read from the real metadata.

Sources (under ``../shared/data``): the per-type flags aggregated from the
ProcTHOR asset database, ALFRED's receptacle → allowed-objects table and
action affordances, AI2-THOR's object-type documentation as tabulated by
rl_thor (``compatible_receptacles`` per type), and the ProcTHOR empirical
receptacle statistics (used as priors for where things usually are).
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from embodiment.errors import FactsError
from memory_core import ObjectCatalog
from memory_core.catalog import TypeInfo

__all__ = ["Affordances"]


@dataclass(frozen=True, slots=True)
class _Facts:
    allowed: dict[str, frozenset[str]]
    heatable: frozenset[str]
    coolable: frozenset[str]
    cleanable: frozenset[str]
    sliceable: frozenset[str]
    toggleable: frozenset[str]
    openable: frozenset[str]
    receptacles: frozenset[str]
    priors: dict[str, dict[str, float]]
    compatible: dict[str, frozenset[str]]
    recorded_sizes: dict[str, tuple[float, float, float]]
    recorded_lifts: dict[str, float]
    documented: dict[str, frozenset[str]]
    """Type → AI2-THOR's documented actionable properties ("receptacle (Some)" read as
    "receptacle"), sliced and cracked types included."""
    heat_sources: frozenset[str]
    cold_sources: frozenset[str]


class Affordances:
    def __init__(self, catalog: ObjectCatalog, facts: _Facts) -> None:
        self.catalog = catalog
        self._f = facts

    @classmethod
    def load(cls, data_root: str | Path) -> Affordances:
        data = Path(data_root)
        root = data / "ai2thor_object_metadata"
        catalog = ObjectCatalog.from_ai2thor_metadata(root)
        try:
            alfred: dict[str, Any] = json.loads((root / "alfred_object_facts.json").read_text())
            priors_raw: dict[str, Any] = json.loads(
                (root / "procthor_databases" / "receptacles.json").read_text()
            )
            doc: dict[str, Any] = json.loads(
                (data / "ai2thor_recorded/rl_thor_events/misc/object_types_data.json").read_text()
            )
            types_raw: dict[str, dict[str, Any]] = json.loads(
                (root / "ai2thor_object_types.json").read_text()
            )["object_types"]
            recorded_dir = data / "ai2thor_recorded/rl_thor_events/objects_metadata_samples"
            recorded = _recorded_sizes(recorded_dir)
            lifts = _recorded_lifts(recorded_dir)
        except (OSError, json.JSONDecodeError) as exc:
            raise FactsError(f"cannot read AI2-THOR facts in {data}: {exc}") from exc
        aff = alfred["action_affordances"]
        # The metadata catalog is ProcTHOR's asset list: iTHOR fixtures (Cabinet, Drawer,
        # SinkBasin, Shelf, StoveBurner...) are missing from it, and memory would take
        # them for small objects. AI2-THOR's type documentation fills them in.
        catalog = catalog.with_types(
            {
                t: _documented_type(t, v, recorded)
                for t, v in doc.items()
                if catalog.info(t) is None and not t.endswith("Sliced")
            }
        )
        facts = _Facts(
            allowed={k: frozenset(v) for k, v in alfred["receptacle_to_allowed_objects"].items()},
            heatable=frozenset(aff["Heatable"]),
            coolable=frozenset(aff["Coolable"]),
            cleanable=frozenset(aff["Cleanable"]),
            sliceable=frozenset(aff["Sliceable"]),
            toggleable=frozenset(aff["Toggleable"]),
            openable=frozenset(alfred["openable_classes"]),
            receptacles=frozenset(alfred["receptacles"]),
            priors={
                rec: {obj: float(v["p"]) for obj, v in objs.items()}
                for rec, objs in priors_raw.items()
            },
            compatible={
                t: frozenset(v.get("compatible_receptacles") or []) for t, v in doc.items()
            },
            recorded_sizes=recorded,
            recorded_lifts=lifts,
            documented={t: _documented_flags(v) for t, v in doc.items()},
            # The asset database flags heat and cold sources per asset; burners are parts
            # of stove assets there, so the documentation's temperature changers fill in.
            heat_sources=frozenset(t for t, v in types_raw.items() if v.get("heat_source"))
            | frozenset(
                t
                for t, v in doc.items()
                if "changeTemp" in (v.get("materials_properties") or [])
                and not types_raw.get(t, {}).get("cold_source")
            ),
            cold_sources=frozenset(t for t, v in types_raw.items() if v.get("cold_source")),
        )
        return cls(catalog, facts)

    # ------------------------------------------------------------------ flags
    def _flag(self, obj_type: str, name: str) -> bool:
        info = self.catalog.info(_base(obj_type))
        return bool(getattr(info, name)) if info is not None else False

    def pickupable(self, t: str) -> bool:
        return self._flag(t, "pickupable") or t.endswith("Sliced")

    def receptacle(self, t: str) -> bool:
        return t in self._f.receptacles or t in self._f.allowed or self._flag(t, "receptacle")

    def openable(self, t: str) -> bool:
        return t in self._f.openable or self._flag(t, "openable")

    def toggleable(self, t: str) -> bool:
        return t in self._f.toggleable or self._flag(t, "toggleable")

    def sliceable(self, t: str) -> bool:
        return t in self._f.sliceable or self._flag(t, "sliceable")

    def cookable(self, t: str) -> bool:
        """AI2-THOR's ``cookable`` (Potato, PotatoSliced, BreadSliced, EggCracked): what a
        heat source cooks. Not ALFRED's "heatable" (a heated mug is hot, not cooked)."""
        documented = self._f.documented.get(t)
        if documented is not None:
            return "cookable" in documented
        info = self.catalog.info(t)
        return info is not None and info.cookable

    def breakable(self, t: str) -> bool:
        """Some or all of the type's assets break (AI2-THOR's ``breakable``)."""
        return "breakable" in self._f.documented.get(t, frozenset())

    def heat_source(self, t: str) -> bool:
        """Makes what it holds hot while on (Microwave, StoveBurner, Toaster, CoffeeMachine)."""
        return t in self._f.heat_sources

    def cold_source(self, t: str) -> bool:
        """Makes what it holds cold (Fridge)."""
        return t in self._f.cold_sources

    def dirtyable(self, t: str) -> bool:
        return self._flag(t, "dirtyable")

    def fillable(self, t: str) -> bool:
        return self._flag(t, "fillable")

    def heatable(self, t: str) -> bool:
        return t in self._f.heatable

    def coolable(self, t: str) -> bool:
        return t in self._f.coolable

    def cleanable(self, t: str) -> bool:
        return t in self._f.cleanable

    # ------------------------------------------------------------------ receptacle rules
    def can_place(self, obj_type: str, receptacle_type: str) -> bool:
        names = {obj_type, _RENAMED.get(obj_type, obj_type)}
        return any(self._can_place(n, receptacle_type) for n in names)

    def _can_place(self, obj_type: str, receptacle_type: str) -> bool:
        """AI2-THOR's documented compatible receptacles of the object type, or ALFRED's
        receptacle table (each is incomplete alone: the documentation omits a mug in the
        coffee machine, ALFRED's table a knife on a side table). Receptacle types neither
        covers fall back to the ProcTHOR placement statistics."""
        if receptacle_type in self._f.compatible.get(obj_type, ()):
            return True
        if obj_type in self._f.allowed.get(receptacle_type, ()):
            return True
        known = receptacle_type in self._f.allowed or any(
            receptacle_type in c for c in self._f.compatible.values()
        )
        if known:
            return False
        priors = self._f.priors.get(receptacle_type)
        return priors is not None and _base(obj_type) in priors

    def prior(self, obj_type: str, receptacle_type: str) -> float:
        """P(object type | receptacle type) from ProcTHOR's statistics (0 if unseen)."""
        return self._f.priors.get(receptacle_type, {}).get(_base(obj_type), 0.0)

    def receptacles_for(self, obj_type: str) -> list[str]:
        """Receptacle types that accept ``obj_type``, most likely first."""
        types = (
            set(self._f.allowed)
            | set(self._f.priors)
            | {r for c in self._f.compatible.values() for r in c}
        )
        ok = [r for r in types if self.can_place(obj_type, r)]
        return sorted(ok, key=lambda r: (-self.prior(obj_type, r), r))

    def median_size(self, t: str) -> tuple[float, float, float]:
        """Typical box extents: the asset database's median, else the median over the
        recorded AI2-THOR scenes (fixtures such as Cabinet, Drawer, CounterTop are not
        ProcTHOR assets), else 0.2 m."""
        info = self.catalog.info(_base(t))
        if info is not None:
            return info.median_size
        return self._f.recorded_sizes.get(_base(t), (_DEFAULT_SIZE_M,) * 3)

    def height(self, t: str) -> float:
        """Typical height (y extent) of a type's box: :meth:`median_size`'s."""
        return self.median_size(t)[1]

    def pivot_lift(self, t: str) -> float | None:
        """Where a type's box stands on its pivot, as a fraction of the box's height (the
        box's centre is ``pivot + lift * height``): 0.5 stands on it (a shelf, a side
        table), 0 is centred (a drawer), -0.5 hangs below it (a counter top, whose pivot is
        its surface). The median over the recorded AI2-THOR scenes, clamped to those
        bounds; None for a type they do not hold or hold standing on the floor."""
        return self._f.recorded_lifts.get(_base(t))


_DEFAULT_SIZE_M = 0.2


def _documented_flags(doc: dict[str, Any]) -> frozenset[str]:
    return frozenset(str(p).split(" (")[0] for p in doc.get("actionable_properties") or [])


def _documented_type(
    name: str, doc: dict[str, Any], sizes: dict[str, tuple[float, float, float]]
) -> TypeInfo:
    """A type's flags from AI2-THOR's documentation ("receptacle (Some)": some assets
    are); its size from the recorded scenes."""
    flags = _documented_flags(doc)
    return TypeInfo(
        name=name,
        pickupable="pickupable" in flags,
        receptacle="receptacle" in flags,
        openable="openable" in flags,
        toggleable="toggleable" in flags,
        sliceable="sliceable" in flags,
        cookable="cookable" in flags,
        dirtyable="dirtyable" in flags,
        fillable="fillable" in flags,
        median_size=sizes.get(name, (_DEFAULT_SIZE_M,) * 3),
    )


def _recorded_sizes(folder: Path) -> dict[str, tuple[float, float, float]]:
    sizes: dict[str, list[tuple[float, float, float]]] = {}
    for path in sorted(folder.glob("*.json")):
        for m in json.loads(path.read_text()).values():
            s = m["axisAlignedBoundingBox"]["size"]
            sizes.setdefault(m["objectType"], []).append((s["x"], s["y"], s["z"]))
    return {
        t: (
            statistics.median(v[0] for v in vs),
            statistics.median(v[1] for v in vs),
            statistics.median(v[2] for v in vs),
        )
        for t, vs in sizes.items()
    }


def _recorded_lifts(folder: Path) -> dict[str, float]:
    """Pivot lifts of the types whose recorded pivots are not all at floor level: for
    floor-standing furniture (pivots at y ≈ 0) an id higher up says the pivot is elsewhere
    in that scene (a chair's at its seat), so the recorded lift does not carry over."""
    lifts: dict[str, list[float]] = {}
    heights: dict[str, list[float]] = {}
    for path in sorted(folder.glob("*.json")):
        for m in json.loads(path.read_text()).values():
            box = m["axisAlignedBoundingBox"]
            if box["size"]["y"] > 0:
                lift = (box["center"]["y"] - m["position"]["y"]) / box["size"]["y"]
                lifts.setdefault(m["objectType"], []).append(lift)
                heights.setdefault(m["objectType"], []).append(m["position"]["y"])
    return {
        t: max(-0.5, min(0.5, statistics.median(v)))
        for t, v in lifts.items()
        if statistics.median(heights[t]) > _FLOOR_PIVOT_M
    }


_FLOOR_PIVOT_M = 0.05


# ALFRED ran on AI2-THOR 2.1, whose "Glassbottle" is AI2-THOR 5.0's "Bottle".
_RENAMED = {"Glassbottle": "Bottle"}


def _base(obj_type: str) -> str:
    base = obj_type[: -len("Sliced")] if obj_type.endswith("Sliced") else obj_type
    return _RENAMED.get(base, base)
