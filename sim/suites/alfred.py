"""``alfred-seen``: the 251 ALFRED valid_seen tasks, goals from their PDDL parameters.

Goal templates follow ALFRED's goal library per task type (re-expressed here
as predicates; ALFRED's code is not copied):

- pick_and_place_simple: the object in the parent receptacle;
- pick_two_obj_and_place: two such objects;
- look_at_obj_in_light: the object held and the toggle target (a lamp) on;
- pick_clean/heat/cool_then_place_in_recep: the object cleaned / hot / cold and in the
  parent receptacle;
- pick_and_place_with_movable_recep: the object in the movable receptacle, and the object
  in the parent (through the movable receptacle, since ``in`` follows the parent chain).

Sliced variants target ``<Type>Sliced``. The instruction is the first annotator's task
description. ``init`` carries the task's own object poses, toggles and agent pose.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sim.tasks import Predicate, Task

__all__ = ["alfred_seen_tasks", "alfred_task"]


def alfred_task(rec: dict[str, Any]) -> Task:
    params = rec["pddl_params"]
    obj = params["object_target"] + ("Sliced" if params["object_sliced"] else "")
    parent = params["parent_target"]
    kind = rec["task_type"]
    preds: list[Predicate]
    if kind == "pick_and_place_simple":
        preds = [Predicate((obj,), (parent,))]
    elif kind == "pick_two_obj_and_place":
        preds = [Predicate((obj,), (parent,), count=2)]
    elif kind == "look_at_obj_in_light":
        preds = [
            Predicate((obj,), held=True),
            Predicate((params["toggle_target"],), state={"isToggled": True}),
        ]
    elif kind == "pick_clean_then_place_in_recep":
        preds = [Predicate((obj,), (parent,), state={"isCleaned": True})]
    elif kind == "pick_heat_then_place_in_recep":
        preds = [Predicate((obj,), (parent,), state={"isHeated": True})]
    elif kind == "pick_cool_then_place_in_recep":
        preds = [Predicate((obj,), (parent,), state={"isCooled": True})]
    elif kind == "pick_and_place_with_movable_recep":
        preds = [Predicate((obj,), (params["mrecep_target"],)), Predicate((obj,), (parent,))]
    else:
        raise ValueError(f"unknown ALFRED task type {kind!r}")
    notes = rec.get("annotations") or [{}]
    return Task(
        task_id=f"alfred/{rec['task_id']}",
        scene=rec["floor_plan"],
        instruction=str(notes[0].get("task_desc", "")),
        subgoals=(tuple(preds),),
        ordered=False,
        init={
            "object_poses": rec["object_poses"],
            "object_toggles": rec.get("object_toggles") or [],
            "dirty_and_empty": bool(rec.get("dirty_and_empty")),
            "agent": rec["init_action"],
        },
        task_type=kind,
        source=rec["source_path"],
        reference_plan=tuple(step["planner_action"] for step in rec["high_pddl"]),
    )


def alfred_seen_tasks(data: Path) -> list[Task]:
    path = data / "alfred" / "alfred_valid_seen_tasks.jsonl"
    with path.open(encoding="utf-8") as f:
        return [alfred_task(json.loads(line)) for line in f if line.strip()]
