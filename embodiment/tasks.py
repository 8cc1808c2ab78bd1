"""Task format (JSONL, one task per line) and its validation: plain data that planners,
bodies and scorers share.

See docs/tasks.md for the format. A goal is a list of predicates; a task is
either unordered (scored on the final state) or ordered (``subgoals``: lists of
predicates that must become true in order; each is credited when reached in
order, even if a later step undoes it). Judging a predicate is someone else's job:
the planner's critic on memory (``planners.critic``), the simulator's scorer on its
ground truth (``sim.tasks``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from embodiment.errors import TaskFormatError
from memory_core.types import check_text

__all__ = [
    "STATE_KEYS",
    "TEMPERATURES",
    "Predicate",
    "Task",
    "TaskFormatError",
    "check_types_exist",
    "load_tasks",
    "made_from",
    "parse_task",
    "parse_task_json",
    "task_to_json",
    "walkthrough_task",
]

STATE_KEYS = (
    "isOpen",
    "isToggled",
    "isSliced",
    "isCooked",
    "isDirty",
    "isFilledWithLiquid",
    "isBroken",
    "temperature",
    "isCleaned",
    "isHeated",
    "isCooled",
    "isPickedUp",
)
"""Object states a goal may name (AI2-THOR's, plus ALFRED's history flags isCleaned,
isHeated, isCooled)."""
TEMPERATURES = ("RoomTemp", "Hot", "Cold")


@dataclass(frozen=True, slots=True)
class Predicate:
    """``count`` objects of one of ``object_types`` satisfy ``state`` and are inside a
    receptacle of one of ``in_types`` (anywhere up the parent chain) or held."""

    object_types: tuple[str, ...]
    in_types: tuple[str, ...] = ()
    """Receptacle types, or (entries holding '|' or '_') one receptacle's id or name."""
    held: bool = False
    state: Mapping[str, Any] = field(default_factory=dict)
    count: int = 1
    names: tuple[str, ...] = ()
    """Restrict to these instances (AI2-THOR object names such as ``Mug_291e6e8a``, or ids)."""
    near: float | None = None
    """The agent stands within this many metres (floor distance, base to the thing's
    position) of it: "find a bed" (ObjectNav, ImageNav)."""
    at: tuple[float, float, float] | None = None
    """A place instead of a thing: the agent stands within ``near`` of it (PointNav). Such
    a predicate names no object (``object_types`` is empty)."""

    def describe(self) -> str:
        if self.at is not None:
            return f"agent within {self.near:g} m of ({', '.join(f'{c:g}' for c in self.at)})"
        parts = ["/".join(self.object_types) + (f" {'/'.join(self.names)}" if self.names else "")]
        if self.state:
            parts.append(" ".join(f"{k}={v}" for k, v in self.state.items()))
        if self.in_types:
            parts.append("in " + "/".join(self.in_types))
        if self.held:
            parts.append("held")
        if self.near is not None:
            parts.append(f"agent within {self.near:g} m")
        return (f"{self.count}x " if self.count > 1 else "") + ", ".join(parts)


@dataclass(frozen=True, slots=True)
class Task:
    task_id: str
    scene: str
    instruction: str
    subgoals: tuple[tuple[Predicate, ...], ...]
    ordered: bool = False
    init: Mapping[str, Any] = field(default_factory=dict)
    task_type: str = ""
    source: str = ""
    reference_plan: tuple[Mapping[str, Any], ...] = ()
    sequence: str = ""
    """Tasks sharing a sequence run one after another in one world (lifelong suites)."""
    sequence_index: int = 0

    @property
    def predicates(self) -> tuple[Predicate, ...]:
        return tuple(p for sg in self.subgoals for p in sg)

    @property
    def needs_goal(self) -> bool:
        """Only an instruction: its goal is still to be written (``planners.instruct``)."""
        return not self.subgoals

    def object_types(self) -> set[str]:
        out: set[str] = set()
        for p in self.predicates:
            out.update(p.object_types)
            out.update(p.in_types)
        return out


def _strs(value: Any, where: str) -> tuple[str, ...]:
    vals = [value] if isinstance(value, str) else value
    if not isinstance(vals, list) or not vals or not all(isinstance(v, str) and v for v in vals):
        raise ValueError(f"{where} must be a type name or a non-empty list of them")
    return tuple(vals)


def _predicate(d: Any, where: str) -> Predicate:
    if not isinstance(d, dict):
        raise ValueError(f"{where} must be an object")
    unknown = set(d) - {"object", "in", "held", "state", "count", "name", "near", "at"}
    if unknown:
        raise ValueError(f"{where} has unknown keys {sorted(unknown)}")
    near = None
    if "near" in d:
        near = _number(d["near"], f"{where}.near", NEAR_LIMIT_M)
        if near <= 0.0:
            raise ValueError(f"{where}.near must be a distance > 0 m, got {d['near']!r}")
    if "at" in d:
        others = sorted(set(d) - {"at", "near"})
        if others or near is None:
            raise ValueError(
                f"{where}: a place ('at') takes only 'near' (the distance to stand within), "
                f"got {others or 'no near'}"
            )
        at = d["at"]
        if not isinstance(at, list) or len(at) != 3:
            raise ValueError(f"{where}.at must be [x, y, z]")
        xyz = tuple(_number(v, f"{where}.at") for v in at)
        return Predicate(object_types=(), near=near, at=(xyz[0], xyz[1], xyz[2]))
    state = d.get("state", {})
    if not isinstance(state, dict) or set(state) - set(STATE_KEYS):
        raise ValueError(f"{where}.state keys must be among {sorted(STATE_KEYS)}")
    for key, value in state.items():
        if key == "temperature":
            if value not in TEMPERATURES:
                raise ValueError(f"{where}.state.temperature must be one of {list(TEMPERATURES)}")
        elif not isinstance(value, bool):
            raise ValueError(f"{where}.state.{key} must be true or false")
    count = d.get("count", 1)
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        raise ValueError(f"{where}.count must be an integer >= 1")
    return Predicate(
        object_types=_strs(d.get("object"), f"{where}.object"),
        in_types=_strs(d["in"], f"{where}.in") if "in" in d else (),
        held=bool(d.get("held", False)),
        state=dict(state),
        count=count,
        names=_strs(d["name"], f"{where}.name") if "name" in d else (),
        near=near,
    )


_COORD_LIMIT_M = 1.0e4
"""Largest |coordinate| a task's initial poses may use (a house, not a continent)."""
NEAR_LIMIT_M = 100.0
"""Largest distance a ``near`` may ask for (beyond it, "near" means nothing in a house)."""


def _number(value: Any, where: str, limit: float = _COORD_LIMIT_M) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{where} must be a number, got {value!r}")
    f = float(value)
    if not math.isfinite(f) or abs(f) > limit:
        raise ValueError(f"{where} must be finite and within +-{limit:g}, got {value!r}")
    return f


def _xyz(value: Any, where: str) -> None:
    if not isinstance(value, Mapping):
        raise ValueError(f"{where} must be an object with x, y, z")
    for axis in ("x", "y", "z"):
        _number(value.get(axis), f"{where}.{axis}")


def _entries(init: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    value = init.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(e, Mapping) for e in value):
        raise ValueError(f"init.{key} must be a list of objects")
    return value


def _check_init(init: Any, walkthrough: bool = True) -> dict[str, Any]:
    """The ``init`` block, checked once here so that no later stage (``bench``, ``run``,
    the simulator's set-up) meets a malformed value. Its ``walkthrough`` (the room as the
    goal leaves it, which the agent may walk through first) is an ``init`` block itself."""
    if init is None:
        return {}
    if not isinstance(init, Mapping):
        raise ValueError(f"'init' must be an object, got {type(init).__name__}")
    if "walkthrough" in init:
        if not walkthrough:
            raise ValueError("init.walkthrough cannot hold another walkthrough")
        try:
            _check_init(init["walkthrough"], walkthrough=False)
        except ValueError as exc:
            raise ValueError(f"init.walkthrough: {exc}") from exc
    for key in ("object_poses", "moves"):
        for i, pose in enumerate(_entries(init, key)):
            where = f"init.{key}[{i}]"
            name = pose.get("objectName")
            if not isinstance(name, str) or not name.strip():
                raise ValueError(f"{where}.objectName must be a non-empty string")
            check_text(f"{where}.objectName", name)
            _xyz(pose.get("position"), f"{where}.position")
            if pose.get("rotation") is not None:
                _xyz(pose["rotation"], f"{where}.rotation")
    for i, t in enumerate(_entries(init, "object_toggles")):
        if not isinstance(t.get("objectType"), str) or not isinstance(t.get("isOn"), bool):
            raise ValueError(f"init.object_toggles[{i}] needs objectType (text) and isOn (bool)")
    for i, o in enumerate(_entries(init, "openness")):
        if not isinstance(o.get("objectId"), str) or not o["objectId"]:
            raise ValueError(f"init.openness[{i}].objectId must be a non-empty string")
        _number(o.get("openness"), f"init.openness[{i}].openness", 1.0)
        if o["openness"] < 0:
            raise ValueError(f"init.openness[{i}].openness must be in [0, 1]")
    agent = init.get("agent")
    if agent is not None:
        if not isinstance(agent, Mapping):
            raise ValueError("init.agent must be an object with x, z (and rotation)")
        _number(agent.get("x"), "init.agent.x")
        _number(agent.get("z"), "init.agent.z")
        if "rotation" in agent:
            _number(agent["rotation"], "init.agent.rotation", 360.0 * 100)
    return dict(init)


def _index(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 1_000_000:
        raise ValueError(f"'sequence_index' must be an integer in [0, 1000000), got {value!r}")
    return value


def parse_task(d: Mapping[str, Any]) -> Task:
    if not isinstance(d, Mapping):
        raise ValueError(f"a task must be a JSON object, got {type(d).__name__}")
    for key in ("id", "scene"):
        if not isinstance(d.get(key), str) or not d[key].strip():
            raise ValueError(f"'{key}' must be a non-empty string")
    for key in ("id", "scene", "instruction", "task_type", "source", "sequence"):
        if key in d:
            check_text(f"'{key}'", d[key])
    if "subgoals" in d:
        raw = d["subgoals"]
        if not isinstance(raw, list) or not raw:
            raise ValueError("'subgoals' must be a non-empty list of predicate lists")
        for i, sg in enumerate(raw):
            if not isinstance(sg, list) or not sg:
                # An empty subgoal is met by anything: "success in 0 steps" would be a lie.
                raise ValueError(f"subgoals[{i}] must be a non-empty list of predicates")
        subgoals = tuple(
            tuple(_predicate(p, f"subgoals[{i}][{j}]") for j, p in enumerate(sg))
            for i, sg in enumerate(raw)
        )
        ordered = bool(d.get("ordered", True))
    elif "goal" in d:
        if not isinstance(d["goal"], list) or not d["goal"]:
            raise ValueError("'goal' must be a non-empty list of predicates")
        subgoals = (tuple(_predicate(p, f"goal[{j}]") for j, p in enumerate(d["goal"])),)
        ordered = False
    elif str(d.get("instruction", "")).strip():
        # Only words: an LLM writes the goal before it runs (planners.instruct); nothing
        # may run or score it before then (GoalChecker refuses it).
        subgoals, ordered = (), True
    else:
        raise ValueError(
            "a task needs 'goal' (unordered), 'subgoals' (ordered) or, for an LLM to turn "
            "into a goal, an 'instruction'"
        )
    return Task(
        task_id=d["id"],
        scene=d["scene"],
        instruction=str(d.get("instruction", "")),
        subgoals=subgoals,
        ordered=ordered,
        init=_check_init(d.get("init")),
        task_type=str(d.get("task_type", "")),
        source=str(d.get("source", "")),
        reference_plan=tuple(d.get("reference_plan", ())),
        sequence=str(d.get("sequence", "")),
        sequence_index=_index(d.get("sequence_index", 0)),
    )


def walkthrough_task(task: Task) -> Task | None:
    """``task`` as its walkthrough phase sets the room up: ``init.walkthrough`` (the room as
    the goal leaves it) with the agent where the task starts it; None without one."""
    walk = task.init.get("walkthrough")
    if not walk:
        return None
    return replace(task, init={**walk, "agent": task.init.get("agent")})


def task_to_json(t: Task) -> dict[str, Any]:
    def pred(p: Predicate) -> dict[str, Any]:
        if p.at is not None:
            return {"at": list(p.at), "near": p.near}
        out: dict[str, Any] = {"object": list(p.object_types)}
        if p.in_types:
            out["in"] = list(p.in_types)
        if p.held:
            out["held"] = True
        if p.state:
            out["state"] = dict(p.state)
        if p.count != 1:
            out["count"] = p.count
        if p.names:
            out["name"] = list(p.names)
        if p.near is not None:
            out["near"] = p.near
        return out

    d: dict[str, Any] = {"id": t.task_id, "scene": t.scene, "instruction": t.instruction}
    if t.needs_goal:
        pass  # words only: the goal is still to be written
    elif t.ordered:
        d["subgoals"] = [[pred(p) for p in sg] for sg in t.subgoals]
    else:
        d["goal"] = [pred(p) for p in t.subgoals[0]]
    for key, value in (
        ("init", dict(t.init)),
        ("task_type", t.task_type),
        ("source", t.source),
        ("reference_plan", list(t.reference_plan)),
        ("sequence", t.sequence),
        ("sequence_index", t.sequence_index),
    ):
        if value:
            d[key] = value
    return d


def load_tasks(path: str | Path) -> list[Task]:
    p = Path(path)
    try:
        lines = p.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise TaskFormatError(f"task file {p} is not UTF-8 text: {exc}") from exc
    except OSError as exc:
        raise TaskFormatError(f"cannot read task file {p}: {exc}") from exc
    tasks = []
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            tasks.append(parse_task(json.loads(line)))
        except (json.JSONDecodeError, ValueError, TypeError, RecursionError) as exc:
            raise TaskFormatError(f"{p}:{n}: {exc}") from exc
    if not tasks:
        raise TaskFormatError(f"{p}: no tasks")
    return tasks


def made_from(t: str) -> str:
    """The type a piece comes from: ``AppleSliced`` (a slice of apple) from ``Apple``,
    ``EggCracked`` from ``Egg``; any other type from itself."""
    if t == "EggCracked":
        return "Egg"
    return t[: -len("Sliced")] if t.endswith("Sliced") else t


def check_types_exist(task: Task, scene_types: Iterable[str]) -> None:
    """A goal naming a type the scene cannot have is an error before the episode starts."""
    have = set(scene_types)
    for p in task.predicates:
        if p.names or p.at is not None:
            continue  # instances named by the task's own initial poses; a place
        if not any(t in have or made_from(t) in have for t in p.object_types):
            raise TaskFormatError(
                f"task {task.task_id}: no {'/'.join(p.object_types)} in scene {task.scene}"
            )
        if p.in_types and not any(t in have or "|" in t or "_" in t for t in p.in_types):
            raise TaskFormatError(
                f"task {task.task_id}: no {'/'.join(p.in_types)} in scene {task.scene}"
            )


def parse_task_json(text: str) -> Task:
    """One task from its JSON text (a goal's ``task_json``); any defect is a
    :class:`TaskFormatError` naming it."""
    try:
        return parse_task(json.loads(text))
    except (json.JSONDecodeError, ValueError, TypeError, RecursionError) as exc:
        raise TaskFormatError(f"bad task: {exc}") from exc
