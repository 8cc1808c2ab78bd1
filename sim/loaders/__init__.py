"""Scene loaders: real ProcTHOR houses and ALFRED/iTHOR floor plans → :class:`SceneSpec`."""

from sim.loaders.ithor import load_ithor_scene
from sim.loaders.procthor import load_procthor_scene

__all__ = ["load_ithor_scene", "load_procthor_scene"]
