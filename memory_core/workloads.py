"""STM workload replayed from the AI2-THOR rearrangement episodes (RoomR 2023 val).

Per scene, one STM lives through the scene's episodes in file order, as a
robot living in that house would. For each episode:

1. *walkthrough*: the world is in the target state; the agent, at the
   episode's start position, observes every object within ``view_radius_m``
   (horizontal distance) — pickupable objects from ``target_poses`` and
   openable ones with their target openness;
2. the shuffle happens: the world is now in the start state;
3. *lookups*: the agent asks where each changed object is (``moved_objects``
   and ``openness_changes``, the task's objects — they are also its task
   context) and where ``extra_lookups`` other objects of the episode are
   (a seeded sample). Truth is the start state, so an answer remembered
   from the walkthrough is stale exactly when that object changed;
4. the agent observes everything within ``view_radius_m`` in the start state.

Positions are compared with the STM's tolerance; openness is rounded to 2
decimals. Nothing here is tuned to any policy.
"""

from __future__ import annotations

import dataclasses
import gzip
import json
import math
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from memory_core.errors import DataImportError
from memory_core.stm import ObjectState, ShortTermMemory, STMStats

__all__ = ["Op", "load_rearrangement", "rearrangement_ops", "replay"]


@dataclass(frozen=True, slots=True)
class Op:
    kind: str  # "observe" | "lookup" | "context"
    scene: str
    state: ObjectState | None = None
    labels: tuple[str, ...] = ()


def _label(name: str) -> str:
    return name.split("_", 1)[0]


def _pos(d: dict[str, float]) -> tuple[float, float, float]:
    return (d["x"], d["y"], d["z"])


def load_rearrangement(
    folder: str | Path,
) -> tuple[dict[str, list[dict[str, Any]]], list[dict[str, Any]]]:
    root = Path(folder)
    try:
        with gzip.open(root / "rearrangement_2023_val.json.gz", "rt", encoding="utf-8") as f:
            episodes = json.load(f)
        with gzip.open(
            root / "rearrangement_2023_val_changes.jsonl.gz", "rt", encoding="utf-8"
        ) as f:
            changes = [json.loads(line) for line in f if line.strip()]
    except (OSError, json.JSONDecodeError) as exc:
        raise DataImportError(f"cannot read rearrangement episodes in {root}: {exc}") from exc
    return episodes, changes


def _world(
    poses: list[dict[str, Any]], opens: dict[str, dict[str, Any]], which: str, t: float
) -> dict[str, ObjectState]:
    out = {
        p["name"]: ObjectState(p["name"], _label(p["name"]), _pos(p["position"]), t=t)
        for p in poses
    }
    for name, o in opens.items():
        # Openables are fixed in the room; AI2-THOR ids (Type|x|y|z) say where.
        parts = o["objectId"].split("|")
        pos = (float(parts[1]), float(parts[2]), float(parts[3]))
        out[name] = ObjectState(
            name, _label(name), pos, state={"openness": round(o[f"{which}_openness"], 2)}, t=t
        )
    return out


def _visible(
    world: dict[str, ObjectState], agent: tuple[float, float, float], radius: float
) -> list[ObjectState]:
    return [
        s
        for s in world.values()
        if math.dist((s.position[0], s.position[2]), (agent[0], agent[2])) <= radius
    ]


def rearrangement_ops(
    episodes: dict[str, list[dict[str, Any]]],
    changes: list[dict[str, Any]],
    view_radius_m: float = 2.5,
    extra_lookups: int = 5,
    seed: int = 0,
) -> Iterator[Op]:
    by_key = {(c["scene"], c["index"]): c for c in changes if c.get("split", "val") == "val"}
    for scene in sorted(episodes):
        for index, ep in enumerate(episodes[scene]):
            ch = by_key.get((scene, index))
            if ch is None:
                raise DataImportError(f"no changes record for {scene} episode {index}")
            agent = _pos(ep["agent_position"])
            opens = {o["name"]: o for o in ep["openable_data"]}
            target = _world(ep["target_poses"], opens, "target", index)
            start = _world(ep["starting_poses"], opens, "start", index)
            for s in _visible(target, agent, view_radius_m):
                yield Op("observe", scene, s)
            changed = [m["object"] for m in ch["moved_objects"]]
            changed += [o["object"] for o in ch["openness_changes"]]
            changed = [c for c in changed if c in start]
            yield Op("context", scene, labels=tuple(sorted({_label(c) for c in changed})))
            rng = random.Random(f"{seed}:{scene}:{index}")
            others = sorted(set(start) - set(changed))
            for name in changed + rng.sample(others, min(extra_lookups, len(others))):
                yield Op("lookup", scene, start[name])
            for s in _visible(start, agent, view_radius_m):
                yield Op("observe", scene, s)


def replay(ops: Iterator[Op] | list[Op], make_stm: Callable[[], ShortTermMemory]) -> STMStats:
    """Run ``ops`` with a fresh STM per scene; returns the summed statistics."""
    totals = {"lookups": 0, "hits": 0, "stale": 0, "misses": 0, "evictions": 0}
    stm: ShortTermMemory | None = None
    scene = None

    def flush() -> None:
        if stm is not None:
            for k, v in dataclasses.asdict(stm.stats).items():
                totals[k] += v

    for op in ops:
        if op.scene != scene:
            flush()
            stm, scene = make_stm(), op.scene
        assert stm is not None
        if op.kind == "observe" and op.state is not None:
            stm.observe(op.state)
        elif op.kind == "lookup" and op.state is not None:
            stm.lookup(op.state.object_id, truth=op.state)
        elif op.kind == "context":
            stm.set_task_context(op.labels)
    flush()
    return STMStats(**totals)
