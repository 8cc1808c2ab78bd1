"""A Habitat body's objects as a scene state for the goal checker
(:mod:`embodiment.scoring`): the scorer of episodes run on habitat-sim, outside the loop."""

from __future__ import annotations

from embodiment.scoring import ObjectRecord, SceneRecord
from hsim.body import HabitatBody

__all__ = ["habitat_scene"]


def habitat_scene(body: HabitatBody) -> SceneRecord:
    """Placed rigid objects: a type and a place, never a state or a container (rigid
    objects have neither, so every state keeps its default and nothing is inside)."""
    objects = {
        name: ObjectRecord(name, label, name, position) for label, name, position in body.things()
    }
    state = body.state()
    return SceneRecord(objects, state.held, state.floor_xy)
