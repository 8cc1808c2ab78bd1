"""AI2-THOR's event metadata as a scene state for the goal checker
(:mod:`embodiment.scoring`): the scorer of episodes run on the ai2thor body."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from embodiment.scoring import ObjectRecord, SceneRecord

__all__ = ["thor_scene"]


def thor_scene(metadata: Mapping[str, Any], history: Mapping[str, set[str]]) -> SceneRecord:
    """The objects of one event's metadata; ``history`` holds ALFRED's flags (cleaned,
    heated, cooled) that AI2-THOR itself does not keep."""
    objects = {}
    for o in metadata.get("objects") or []:
        oid = str(o["objectId"])
        parents = o.get("parentReceptacles") or []
        pos = o["position"]
        earned = history.get(oid, set())
        objects[oid] = ObjectRecord(
            object_id=oid,
            object_type=str(o["objectType"]),
            name=str(o.get("name") or oid),
            parent_id=str(parents[0]) if parents else None,
            position=(float(pos["x"]), float(pos["y"]), float(pos["z"])),
            is_open=bool(o.get("isOpen")),
            is_toggled=bool(o.get("isToggled")),
            is_sliced=bool(o.get("isSliced")),
            is_cooked=bool(o.get("isCooked")),
            is_dirty=bool(o.get("isDirty")),
            is_filled=bool(o.get("isFilledWithLiquid")),
            is_broken=bool(o.get("isBroken")),
            temperature=str(o.get("temperature") or "RoomTemp"),
            is_cleaned="isCleaned" in earned,
            is_heated="isHeated" in earned,
            is_cooled="isCooled" in earned,
            is_picked_up=bool(o.get("isPickedUp")),
        )
    inventory = metadata.get("inventoryObjects") or []
    held = str(inventory[0]["objectId"]) if inventory else None
    agent = (metadata.get("agent") or {}).get("position")
    agent_xz = (float(agent["x"]), float(agent["z"])) if agent else None
    return SceneRecord(objects, held, agent_xz)
