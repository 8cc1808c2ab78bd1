"""One task on habitat-sim: the body opened on the task's scene, the loop run, the episode
scored on the placed objects (``loci bench --body habitat``).

A task says what the Habitat body needs in its ``init``: ``habitat_start`` (position and
``[x, y, z, w]`` rotation: the episode converters write it) and ``habitat_objects`` (rigid
objects to place: ``{"template": path, "label": name, "position": [x, y, z],
"semantic_id": n}``, paths relative to the scenes directory). The scene is the task's
``scene``, a scene file relative to the scenes directory (or absolute).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from embodiment.affordances import Affordances
from embodiment.scoring import StateScorer
from embodiment.tasks import Task
from hsim.body import HabitatBody, HabitatBodyConfig, PlacedObject
from hsim.errors import HabitatDataError
from hsim.scoring import habitat_scene
from memory_core import Memory
from planners.executive import EpisodeResult, Executive

__all__ = ["placed_objects", "run_on_habitat", "start_of"]


def _vec(value: Any, n: int, where: str) -> tuple[float, ...]:
    if (
        not isinstance(value, Sequence)
        or isinstance(value, str)
        or len(value) != n
        or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
        or not all(math.isfinite(v) for v in value)
    ):
        raise HabitatDataError(f"{where} must be {n} finite numbers, got {value!r}")
    return tuple(float(v) for v in value)


def start_of(task: Task) -> tuple[tuple[float, ...], tuple[float, ...]] | None:
    start = task.init.get("habitat_start")
    if start is None:
        return None
    if not isinstance(start, Mapping):
        raise HabitatDataError(f"task {task.task_id}: init.habitat_start must be an object")
    return (
        _vec(start.get("position"), 3, f"task {task.task_id}: init.habitat_start.position"),
        _vec(start.get("rotation"), 4, f"task {task.task_id}: init.habitat_start.rotation"),
    )


def placed_objects(task: Task, scenes: Path) -> list[PlacedObject]:
    raw = task.init.get("habitat_objects", [])
    where = f"task {task.task_id}: init.habitat_objects"
    if not isinstance(raw, list):
        raise HabitatDataError(f"{where} must be a list")
    out = []
    for i, o in enumerate(raw):
        if not isinstance(o, Mapping):
            raise HabitatDataError(f"{where}[{i}] must be an object")
        template, label, sid = o.get("template"), o.get("label"), o.get("semantic_id")
        if not isinstance(template, str) or not template or not isinstance(label, str) or not label:
            raise HabitatDataError(f"{where}[{i}] needs a template path and a label")
        if not isinstance(sid, int) or isinstance(sid, bool) or sid <= 0:
            raise HabitatDataError(f"{where}[{i}].semantic_id must be an integer > 0")
        x, y, z = _vec(o.get("position"), 3, f"{where}[{i}].position")
        out.append(PlacedObject(str(scenes / template), label, (x, y, z), sid))
    return out


def run_on_habitat(
    task: Task,
    memory: Memory,
    affordances: Affordances,
    scenes: Path,
    config: HabitatBodyConfig | None = None,
) -> EpisodeResult:
    """Open the body on the task's scene, run the symbolic loop, score on the placed
    objects; the body is closed at the end."""
    body = HabitatBody.open(
        scenes / task.scene, config, placed_objects(task, scenes), start_of(task)
    )
    try:
        scorer = StateScorer(task, lambda: habitat_scene(body))
        return Executive(body, memory, affordances).run(task, scorer)
    finally:
        body.close()
