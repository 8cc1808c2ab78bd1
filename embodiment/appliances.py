"""Which stove knob switches which burner, where nothing recorded says so.

AI2-THOR links each StoveKnob to a StoveBurner (``controlledObjects`` in its metadata);
burners are not switched directly. The 8 recorded floor plans carry the links; for every
other scene, and for a robot whose memory holds knobs and burners but no wiring, the
knobs are matched one-to-one to the burners nearest them (the assignment with the least
total distance: on the recorded kitchens it gives AI2-THOR's own links, see
``tests/embodiment/test_appliances.py``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
from scipy.optimize import linear_sum_assignment

from memory_core.types import Vec3

__all__ = ["BURNER", "KNOB", "pair_knobs"]

KNOB = "StoveKnob"
BURNER = "StoveBurner"


def pair_knobs(knobs: Mapping[str, Vec3], burners: Mapping[str, Vec3]) -> dict[str, str]:
    """Knob id → the burner id it switches: the least-total-distance one-to-one matching
    of knob and burner positions (ties broken by id order, so the answer is stable)."""
    k_ids, b_ids = sorted(knobs), sorted(burners)
    if not k_ids or not b_ids:
        return {}
    cost = np.array([[math.dist(knobs[k], burners[b]) for b in b_ids] for k in k_ids])
    rows, cols = linear_sum_assignment(cost)
    return {k_ids[r]: b_ids[c] for r, c in zip(rows, cols, strict=True)}
