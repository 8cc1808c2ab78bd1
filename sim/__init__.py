"""Built-in household simulator on real AI2-THOR layouts (CPU only, deterministic).

Pure Python: nothing in this package may import ROS.
"""

from embodiment.affordances import Affordances
from sim.errors import SceneLoadError, SimError, UnknownSceneError
from sim.registry import SceneRegistry
from sim.scene import DoorSpec, ObjectSpec, RoomSpec, SceneSpec
from sim.world import SKILLS, SimConfig, Skill, StepResult, World

__all__ = [
    "SKILLS",
    "Affordances",
    "DoorSpec",
    "ObjectSpec",
    "RoomSpec",
    "SceneLoadError",
    "SceneRegistry",
    "SceneSpec",
    "SimConfig",
    "SimError",
    "Skill",
    "StepResult",
    "UnknownSceneError",
    "World",
]
