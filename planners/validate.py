"""Check a proposed skill against memory and affordances before it reaches the world.

Catches what a planner (an LLM especially) gets wrong without costing an action:
an object memory has never seen, a put while holding nothing or into a receptacle
that cannot take the held thing, a container memory knows is closed (repaired by
opening it first), a pickup with full hands, treating something not held.
"""

from __future__ import annotations

from dataclasses import dataclass

from embodiment.affordances import Affordances
from embodiment.skills import ON_HELD, Skill
from memory_core import Memory

__all__ = ["Verdict", "validate"]


@dataclass(frozen=True, slots=True)
class Verdict:
    ok: bool
    reason: str = ""
    repair: tuple[Skill, ...] = ()
    """Skills to run first (e.g. open the closed container), then the skill itself."""


def validate(
    skill: Skill, memory: Memory, held: str | None, held_type: str | None, aff: Affordances
) -> Verdict:
    target = skill.target
    graph = memory.graph
    if skill.name in ("drop", "look_around"):
        return (
            Verdict(ok=True)
            if skill.name != "drop" or held
            else Verdict(False, "not holding anything to drop")
        )
    if target is None:
        return Verdict(False, f"{skill.name} needs a target")
    if skill.name == "navigate" and target.startswith("point:"):
        return Verdict(ok=True)
    if target not in graph:
        return Verdict(False, f"{target} is not an object the robot has seen")
    node = graph.node(target)
    if skill.name == "pickup" and held is not None:
        return Verdict(False, f"hands full: holding {held}")
    if skill.name == "put":
        if held is None or held_type is None:
            return Verdict(False, "not holding anything to put")
        if not aff.can_place(held_type, node.label):
            return Verdict(False, f"a {node.label} cannot take a {held_type}")
        if node.state.get("isOpen") is False:
            return Verdict(True, f"{target} is closed: opening it first", (Skill("open", target),))
    if skill.name in ON_HELD and held != target:
        return Verdict(False, f"{skill.name} needs {target} in hand")
    return Verdict(ok=True)
