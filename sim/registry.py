"""Every loadable scene in the real data, by name."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from embodiment.affordances import Affordances
from sim.errors import UnknownSceneError
from sim.loaders.ithor import list_ithor_scenes, load_ithor_scene
from sim.loaders.procthor import load_procthor_scene
from sim.scene import SceneSpec

__all__ = ["SceneRegistry"]

# ProcTHOR-format files holding at least one room. The Holodeck template has no rooms: it is
# a schema example, not a scene.
_PROCTHOR_GLOBS = (
    "procthor_houses/houses_20/*.json",
    "procthor_houses/partial_houses/*.json",
    "ai2thor_recorded/ai2thor_tests_data/arm/*.json",
)


class SceneRegistry:
    def __init__(self, data_root: str | Path) -> None:
        self.data = Path(data_root)
        self._cache: dict[str, SceneSpec] = {}

    @cached_property
    def affordances(self) -> Affordances:
        return Affordances.load(self.data)

    @cached_property
    def _procthor(self) -> dict[str, Path]:
        out: dict[str, Path] = {}
        for pattern in _PROCTHOR_GLOBS:
            for p in sorted(self.data.glob(pattern)):
                out[f"procthor/{p.parent.name}/{p.stem}"] = p
        return out

    def names(self) -> list[str]:
        return list_ithor_scenes(self.data) + list(self._procthor)

    def load(self, name: str) -> SceneSpec:
        if name not in self._cache:
            if name in self._procthor:
                self._cache[name] = load_procthor_scene(self._procthor[name], self.affordances)
            elif name.startswith("FloorPlan") and name in list_ithor_scenes(self.data):
                self._cache[name] = load_ithor_scene(name, self.data, self.affordances)
            else:
                raise UnknownSceneError(
                    f"unknown scene {name!r}; `loci scenes` lists the {len(self.names())} scenes"
                )
        return self._cache[name]
