"""A Habitat body's objects as a scene state for the goal checker
(:mod:`embodiment.scoring`): the scorer of episodes run on habitat-sim, outside the loop."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from hsim.body import HabitatBody

__all__ = ["HabitatObject", "HabitatScene", "habitat_scene"]


@dataclass(frozen=True, slots=True)
class HabitatObject:
    """A placed rigid object: a type and a place, never a state (rigid objects have none)."""

    object_id: str
    object_type: str
    position: tuple[float, float, float]
    parent_id: str | None = None
    is_open: bool = False
    is_toggled: bool = False
    is_sliced: bool = False
    is_cooked: bool = False
    is_dirty: bool = False
    is_filled: bool = False
    is_broken: bool = False
    temperature: str = "RoomTemp"
    is_cleaned: bool = False
    is_heated: bool = False
    is_cooled: bool = False
    is_picked_up: bool = False

    @property
    def name(self) -> str:
        return self.object_id


@dataclass(frozen=True, slots=True)
class HabitatScene:
    objects: Mapping[str, HabitatObject]
    held: str | None
    agent_xz: tuple[float, float] | None

    def ancestors(self, object_id: str) -> list[str]:
        return []  # nothing is put in anything a rigid object knows of


def habitat_scene(body: HabitatBody) -> HabitatScene:
    objects = {
        name: HabitatObject(name, label, position) for label, name, position in body.things()
    }
    state = body.state()
    return HabitatScene(objects, state.held, state.floor_xy)
