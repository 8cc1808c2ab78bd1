"""Scene names as AI2-THOR's build lists them (``loci scenes`` names, iTHOR rooms with
``_physics``, as ai2thor's Controller validates them)."""

from __future__ import annotations

import re

__all__ = ["build_scene_name", "scene_of"]

_ITHOR = re.compile(r"^FloorPlan[0-9]+$")


def build_scene_name(name: str) -> str:
    """A scene's name as AI2-THOR's build lists it (iTHOR rooms carry ``_physics``)."""
    return f"{name}_physics" if _ITHOR.match(name) else name


def scene_of(build_name: str) -> str:
    """The ``loci scenes`` name of a scene AI2-THOR's build names."""
    return build_name.removesuffix("_physics") if build_name.startswith("FloorPlan") else build_name
