"""Skills a body can execute and what executing one gives back.

The vocabulary is AI2-THOR's high-level one (ALFRED's): every body maps it onto its own
actions (the built-in simulator, AI2-THOR's Controller, a ROS robot's actions).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from embodiment.body import Sensed

__all__ = ["NO_TARGET", "ON_HELD", "SKILLS", "SWITCHES", "Skill", "StepResult"]

SKILLS = (
    "navigate",
    "pickup",
    "put",
    "open",
    "close",
    "toggle_on",
    "toggle_off",
    "slice",
    "clean",
    "heat",
    "cool",
    "fill",
    "empty",
    "break",
    "drop",
    "look_around",
)
NO_TARGET = ("drop", "look_around")
"""Skills that take no target."""
ON_HELD = ("clean", "heat", "cool", "fill", "empty")
"""Skills whose target is the thing in hand (ALFRED's macros: wash, heat, cool at an
appliance within reach; fill at a sink; pour out)."""
SWITCHES: dict[str, tuple[str, bool]] = {
    "toggle_on": ("isToggled", True),
    "toggle_off": ("isToggled", False),
    "open": ("isOpen", True),
    "close": ("isOpen", False),
}
"""Skills that set one of a thing's flags, the flag (AI2-THOR's name) and to what."""


@dataclass(frozen=True, slots=True)
class Skill:
    name: str
    target: str | None = None
    """Object id for object skills; for ``navigate`` an object id, a room id, or a
    reachable floor point written ``point:x,z`` (horizontal world coordinates)."""
    force: bool = False
    """AI2-THOR's ``forceAction``: for ``put`` it lifts the receptacle type restriction
    only; for ``pickup`` and toggles, the need to see the object within reach."""
    label: str | None = None
    """What memory believes the target is (its type): with ``position``, what a body that
    does not know memory's ids grounds the target by (its own detector at that place)."""
    position: tuple[float, float, float] | None = None
    """Where memory believes the target is, in the body's world frame. For a ``point:``
    navigation: the place to face on arrival."""
    size: tuple[float, float, float] | None = None
    """The extent of memory's box around the target (a body that navigates by poses
    stands within reach of that footprint)."""


@dataclass(frozen=True, slots=True)
class StepResult:
    """The outcome of one skill."""

    skill: Skill
    success: bool
    error_message: str = ""
    """Why it failed, in AI2-THOR's words where it has them."""
    primitive_steps: int = 0
    """Primitive actions the skill took (moves, turns, interactions)."""
    distance_m: float = 0.0
    seen: tuple[str, ...] = ()
    """Ids of objects the body saw during the skill, where the body has ids (a simulator
    sensing ground truth); empty otherwise."""
    sensed: Sensed | None = None
    """What the body sensed during the skill (observations or RGB-D frames)."""
    unchanged: bool = False
    """It failed because its target already was as the skill would leave it (opening an
    open drawer, switching on a lit lamp): where the body knows (AI2-THOR's error says
    so), the agent learns the target's state from the attempt."""
    fault: bool = False
    """The body can no longer act at all (its simulator process died or hung): the loop
    ends the episode with this result's error instead of replanning."""
