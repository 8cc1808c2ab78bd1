"""Which receptacle holds an object, from geometry and AI2-THOR's receptacle rules.

Used where the data gives a position but no parent (ALFRED object poses,
SetObjectPoses-style task initialisation). Checked against AI2-THOR's own
``parentReceptacles`` on the 8 recorded floor plans (tests/sim/test_scenes.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from embodiment.affordances import Affordances

__all__ = ["Boxed", "find_support"]


class Boxed(Protocol):
    @property
    def object_id(self) -> str: ...

    @property
    def object_type(self) -> str: ...

    @property
    def center(self) -> tuple[float, float, float]: ...

    @property
    def size(self) -> tuple[float, float, float]: ...


def find_support(o: Boxed, candidates: Iterable[Boxed], aff: Affordances) -> str | None:
    """The smallest receptacle accepting ``o`` whose footprint holds it and that it rests on
    (surfaces) or sits inside (containers). Movable receptacles (a cup, a bowl) count when
    larger than ``o``, which also rules out cycles."""
    best: tuple[float, str] | None = None
    oc = o.center
    bottom = oc[1] - o.size[1] / 2
    own = o.size[0] * o.size[1] * o.size[2]
    for r in candidates:
        if r.object_id == o.object_id or not aff.receptacle(r.object_type):
            continue
        if not aff.can_place(o.object_type, r.object_type):
            continue
        if aff.pickupable(r.object_type) and r.size[0] * r.size[1] * r.size[2] <= own:
            continue
        rc = r.center
        if abs(oc[0] - rc[0]) > r.size[0] / 2 + 0.05 or abs(oc[2] - rc[2]) > r.size[2] / 2 + 0.05:
            continue
        top = rc[1] + r.size[1] / 2
        low = rc[1] - r.size[1] / 2
        inside = low - 0.1 <= bottom and oc[1] <= top
        resting = abs(bottom - top) <= 0.1
        # Closed containers (drawers, cabinets) hold what is inside them, not what sits on
        # the furniture above them.
        if not (inside if aff.openable(r.object_type) else inside or resting):
            continue
        vol = r.size[0] * r.size[1] * r.size[2]
        if best is None or vol < best[0]:
            best = (vol, r.object_id)
    return best[1] if best else None
