"""AI2-THOR metadata as the scorer's scene: what lies on the floor."""

from __future__ import annotations

import copy
import gzip
import json
from pathlib import Path
from typing import Any

from embodiment.scoring import satisfied
from embodiment.tasks import parse_task
from thor.scoring import thor_scene

RECORDED = "ai2thor_recorded/rl_thor_events/test_tasks/WashCutleryTask/events.json.gz"
SPONGE = "DishSponge|-01.94|+00.75|-01.71"


def _on_floor() -> Any:
    task = {"id": "t", "scene": "FloorPlan1", "goal": [{"object": "DishSponge", "in": "Floor"}]}
    return parse_task(task).predicates[0]


def test_a_thing_on_no_receptacle_is_on_the_floor_only_when_low(data_dir: Path) -> None:
    """AI2-THOR 5.0 recorded a dish sponge at 0.73 m whose ``parentReceptacles`` is empty
    (it rests by the sink on nothing AI2-THOR calls a receptacle): it is not on the floor.
    The same sponge set down at floor level is."""
    events = json.loads(gzip.decompress((data_dir / RECORDED).read_bytes()))
    metadata = events[0]["metadata"]
    (sponge,) = [o for o in metadata["objects"] if o["objectId"] == SPONGE]
    assert not sponge["parentReceptacles"] and sponge["position"]["y"] > 0.7
    assert satisfied(_on_floor(), thor_scene(metadata, {})) == 0
    dropped = copy.deepcopy(metadata)
    for o in dropped["objects"]:
        if o["objectId"] == SPONGE:
            o["position"]["y"] = 0.02
    assert satisfied(_on_floor(), thor_scene(dropped, {})) == 1
