"""Habitat episode files (``*.json.gz``) as typed episodes, and as Loci tasks where the
task format can state their goal.

Kinds, told apart by what an episode holds (not by the file's name):

- ``pointnav`` (goals with a position and a success radius),
- ``objectnav`` (an ``object_category``; goals inline, as in the legacy MP3D files, or in
  the file's ``goals_by_category`` table under ``"<scene file basename>_<category>"``),
- ``imagenav`` (Instance ImageNav: ``goal_object_id`` and ``goal_image_id`` into the
  file's ``goals`` table under ``"<scene basename up to its first dot>_<goal_object_id>"``),
- ``rearrange`` (``rigid_objs`` and ``targets``: objects to move to target poses, on the
  ``goal_receptacles`` the targets lie on),
- ``partnr`` (PARTNR, MEMENTO and the HSSD collaboration episodes: an ``instruction``
  judged by ``evaluation_propositions`` under ``evaluation_constraints``).

An index file with no episodes reads as an empty list. Whatever cannot be read as what it
claims to be (not gzip, not JSON, a missing key, a vector of the wrong length or not
finite, a rotation of zero norm, an index out of range) is a :class:`HabitatDataError`
naming the file, the episode and the problem.

What maps to the task format (:func:`to_task`, docs/tasks.md):

- ``task_id`` is ``habitat/<kind>/<scene basename>/<episode_id>``; ``scene`` is the
  Habitat ``scene_id`` exactly as written; ``instruction`` is the episode's instruction.
- A rearrange target becomes ``Predicate(object_types=(category,), in_types=(goal
  receptacle handle,), names=(object handle,))``. Habitat instance handles hold ``_``
  (``"<config>_:0000"``), so the task format reads them as one receptacle's id.
- PARTNR's ``is_on_top`` and ``is_inside`` become the same kind of predicate with
  ``count=number`` over the listed objects and receptacles (the task format's ``in``
  means in *or* on: the distinction is lost); ``is_on_floor`` becomes ``in: Floor``;
  ``is_clean``/``is_dirty``/``is_filled``/``is_empty``/``is_powered_on``/
  ``is_powered_off`` become AI2-THOR states (``isDirty``, ``isFilledWithLiquid``,
  ``isToggled``).
- A category is the one MEMENTO's metadata gives the object; elsewhere Habitat names none,
  and the object's config name (``Apple_29``, ``005_tomato_soup_can``, a hash) stands in.
- PARTNR's timing: with a ``TerminalSatisfactionConstraint`` on every proposition the goal
  is unordered (all true at the end). Without one, PARTNR credits a proposition once it
  held, as the task format credits an ordered subgoal, so the goal is ordered: one subgoal
  per generation of the ``TemporalConstraint`` DAG (a single subgoal when it has no
  edges), where that sequence is the DAG's own order. An ordered subgoal wants its
  predicates true together, PARTNR each at some time: slightly stricter.

- Navigation: PointNav is ``{"at": goal, "near": radius}`` (0.2 m where the file gives no
  radius, habitat-lab's success distance); ObjectNav ``{"object": category, "near": d}``
  and Instance ImageNav the same with ``name: "<category>_<goal_object_id>"`` (the instance
  as the Habitat body names a semantic instance), ``d`` the farthest the goal's view points
  stand from its centre (:data:`NAV_APPROXIMATION`: Habitat counts success within 0.1 m of
  a view point). The start pose goes in ``init["habitat_start"]`` (position and
  ``[x, y, z, w]`` rotation) for the Habitat body.

What cannot be expressed, so that :func:`to_task` returns None with the reason:

- a PointNav episode with several goal points ("any of them");
- ``is_next_to`` (no relation between two objects), ``is_in_room`` (rooms are not
  receptacles in an object's parent chain), ``is_same_receptacle`` over several objects
  and receptacles, any other function;
- an order among goals that must also hold at the end (``TemporalConstraint`` edges with a
  ``TerminalSatisfactionConstraint``: the format has final-state goals or a sequence, not
  both), a partial order that a sequence of subgoals would tighten, a terminal constraint
  over only some propositions, ``evaluation_proposition_dependencies``, any other
  constraint type;
- rearrange targets without goal receptacles (the format has no goal positions).

Everything else an episode carries that a task cannot (start pose: ``init.agent`` is
AI2-THOR's floor position and yaw; exact 6-DoF target poses; initial object placements;
geodesic distances; markers; captions ...) is named, field by field, in
:attr:`HabitatEpisode.unsupported`; a converted task keeps that list in
``init["habitat_unsupported"]`` as the AI2-THOR rearrangement suite keeps its skipped counts.
"""

from __future__ import annotations

import gzip
import json
import logging
import math
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import Any, Literal, NoReturn

from embodiment.tasks import Predicate, Task
from hsim.errors import HabitatDataError

__all__ = [
    "NAV_APPROXIMATION",
    "OBJECT_NEAR_M",
    "POINTNAV_SUCCESS_M",
    "Conversion",
    "EpisodeKind",
    "HabitatEpisode",
    "ImageGoal",
    "MoveTarget",
    "NavGoal",
    "Proposition",
    "PropositionDependency",
    "SceneObject",
    "convert",
    "load_episodes",
    "to_task",
]

logger = logging.getLogger(__name__)

EpisodeKind = Literal["pointnav", "objectnav", "imagenav", "rearrange", "partnr"]
NAVIGATION_KINDS: frozenset[str] = frozenset({"pointnav", "objectnav", "imagenav"})
Vec3 = tuple[float, float, float]
Vec4 = tuple[float, float, float, float]
Quat = Vec4
Matrix4 = tuple[Vec4, Vec4, Vec4, Vec4]

POINTNAV_SUCCESS_M = 0.2
"""habitat-lab's PointNav success distance, for files whose goals give no radius."""
OBJECT_NEAR_M = 1.5
"""``near`` for an object goal whose file lists no view points (Habitat's view points lie
up to 1 m from the object's surface)."""
NAV_APPROXIMATION = (
    "Habitat's success is within 0.1 m of one of the goal's view points; the task says "
    "within `near` m (floor distance) of the object's centre, `near` being the farthest "
    "view point's: every success Habitat counts is one here, not the converse"
)

_MIN_QUAT_NORM = 1e-9
_AFFINE_TOL = 1e-6


@dataclass(frozen=True, slots=True)
class NavGoal:
    """A navigation goal: a point (pointnav) or an object instance (objectnav, imagenav)."""

    position: Vec3
    radius: float | None = None
    """Success radius in metres, where the file gives one (``null`` leaves it to the
    task config)."""
    object_id: str = ""
    object_name: str = ""
    object_category: str = ""
    view_points: tuple[Vec3, ...] = ()
    """Navigable agent positions that see the object; Habitat measures an object goal's
    geodesic distance and success to these, not to the object's centre."""


@dataclass(frozen=True, slots=True)
class ImageGoal:
    """The camera that took an Instance ImageNav goal image."""

    position: Vec3
    rotation: Quat
    hfov_deg: float
    width: int
    height: int
    frame_coverage: float | None = None
    object_coverage: float | None = None


@dataclass(frozen=True, slots=True)
class SceneObject:
    """An object a rearrange or PARTNR episode adds (``rigid_objs``)."""

    handle: str
    """Habitat's instance handle: ``"<config name>_:0000"``, counted per config name."""
    model: str
    """The object config's name without ``.object_config.json``."""
    transform: Matrix4
    """Initial pose, 4x4, row-major (translation in the last column)."""
    receptacle: str = ""
    """What it starts on (``name_to_receptacle``: ``"<handle>|<receptacle mesh>"``)."""
    category: str = ""
    """Its category where the file says (MEMENTO's metadata), else ``""``."""

    @property
    def position(self) -> Vec3:
        return _translation(self.transform)


@dataclass(frozen=True, slots=True)
class MoveTarget:
    """One object of a rearrange episode and where it must go."""

    handle: str
    transform: Matrix4
    """Target pose, 4x4, row-major."""
    start_receptacle: str = ""
    goal_receptacle: str = ""
    """The receptacle instance the target pose lies on, ``""`` where the file names none."""
    goal_link: int | None = None
    """The articulated link of the goal receptacle, None for the whole object."""
    label: str = ""
    """``info.object_labels`` (``"<target sampler>|<index>"``)."""

    @property
    def position(self) -> Vec3:
        return _translation(self.transform)


@dataclass(frozen=True, slots=True)
class Proposition:
    """One of PARTNR's ``evaluation_propositions``."""

    function_name: str
    object_handles: tuple[str, ...]
    """``object_handles``, or ``entity_handles_a`` for ``is_next_to``."""
    receptacle_handles: tuple[str, ...] = ()
    room_ids: tuple[str, ...] = ()
    other_handles: tuple[str, ...] = ()
    """``entity_handles_b`` of ``is_next_to``."""
    number: int = 1
    """How many of ``object_handles`` must satisfy it."""
    is_same: bool = False
    """``is_same_receptacle`` / ``is_same_room`` / ``is_same_b``."""
    l2_threshold: float | None = None


@dataclass(frozen=True, slots=True)
class PropositionDependency:
    """MEMENTO's ``evaluation_proposition_dependencies``: ``proposition_indices`` are judged
    only in relation to ``depends_on`` (e.g. ``while_satisfied``)."""

    proposition_indices: tuple[int, ...]
    depends_on: tuple[int, ...]
    relation_type: str
    dependency_mode: str


@dataclass(frozen=True, slots=True)
class HabitatEpisode:
    kind: EpisodeKind
    episode_id: str
    scene_id: str
    """As in the file (a path, or an HSSD scene number)."""
    scene_dataset_config: str
    start_position: Vec3
    start_rotation: Quat
    """``[x, y, z, w]``, as in the file."""
    instruction: str = ""
    source: str = ""
    """The file's name."""
    # Navigation.
    goals: tuple[NavGoal, ...] = ()
    success_radius: float | None = None
    """The goals' common radius, None where the file gives none (or they differ)."""
    object_category: str = ""
    goal_object_id: str = ""
    goal_image_id: int | None = None
    image_goal: ImageGoal | None = None
    geodesic_distance: float | None = None
    """Metres from the start to the nearest success position; ``math.inf`` where no path
    exists; None where the file gives none (rearrangement)."""
    # Rearrangement.
    objects: tuple[SceneObject, ...] = ()
    targets: tuple[MoveTarget, ...] = ()
    propositions: tuple[Proposition, ...] = ()
    order_edges: tuple[tuple[int, int], ...] = ()
    """``TemporalConstraint.dag_edges``: proposition i is satisfied before j."""
    terminal_indices: tuple[int, ...] | None = None
    """``TerminalSatisfactionConstraint``: these must hold at the end; None without one
    (PARTNR then credits a proposition once it held)."""
    dependencies: tuple[PropositionDependency, ...] = ()
    other_constraints: tuple[str, ...] = ()
    """Types of constraints this module does not read."""
    unsupported: tuple[str, ...] = ()
    """``"<field>: <why>"`` for every non-empty field a Loci task cannot express."""

    @property
    def goal_positions(self) -> tuple[Vec3, ...]:
        return tuple(g.position for g in self.goals)

    @property
    def scene_basename(self) -> str:
        return PurePosixPath(self.scene_id).name

    @property
    def task_id(self) -> str:
        return f"habitat/{self.kind}/{self.scene_basename}/{self.episode_id}"

    @property
    def euclidean_distance(self) -> float | None:
        """Straight line from the start to the nearest place that ends the episode: a
        goal object's view points where it lists them, else the goal positions."""
        ends = [v for g in self.goals for v in g.view_points] or list(self.goal_positions)
        if not ends:
            return None
        return min(math.dist(self.start_position, e) for e in ends)


@dataclass(frozen=True, slots=True)
class Conversion:
    task: Task | None
    reason: str = ""
    """Why there is no task (empty when there is one)."""


# ----------------------------------------------------------------------------- reading


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _fail(where: str, problem: str) -> NoReturn:
    raise HabitatDataError(f"{where}: {problem}")


def _obj(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        _fail(where, f"must be an object, got {type(value).__name__}")
    return value


def _req(d: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in d:
        _fail(where, f"missing key '{key}'")
    return d[key]


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _num(value: Any, where: str) -> float:
    if not _is_number(value) or not math.isfinite(value):
        _fail(where, f"must be a finite number, got {_short(value)}")
    return float(value)


def _opt_num(value: Any, where: str, positive: bool = False) -> float | None:
    if value is None:
        return None
    f = _num(value, where)
    if positive and f <= 0:
        _fail(where, f"must be > 0, got {_short(value)}")
    return f


def _int(value: Any, where: str, minimum: int = 0) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        _fail(where, f"must be an integer >= {minimum}, got {_short(value)}")
    return value


def _vec(value: Any, n: int, where: str) -> tuple[float, ...]:
    if (
        not isinstance(value, Sequence)
        or isinstance(value, str)
        or len(value) != n
        or not all(_is_number(x) and math.isfinite(x) for x in value)
    ):
        _fail(where, f"must be {n} finite numbers, got {_short(value)}")
    return tuple(float(x) for x in value)


def _vec3(value: Any, where: str) -> Vec3:
    x, y, z = _vec(value, 3, where)
    return (x, y, z)


def _vec4(value: Any, where: str) -> Vec4:
    a, b, c, d = _vec(value, 4, where)
    return (a, b, c, d)


def _quat(value: Any, where: str) -> Quat:
    x, y, z, w = _vec4(value, f"{where} ([x, y, z, w])")
    if math.hypot(x, y, z, w) < _MIN_QUAT_NORM:
        _fail(where, f"rotation has zero norm: {_short(value)}")
    return (x, y, z, w)


def _matrix4(value: Any, where: str) -> Matrix4:
    if not isinstance(value, Sequence) or isinstance(value, str) or len(value) != 4:
        _fail(where, f"must be a 4x4 matrix (4 rows), got {_short(value)}")
    r0, r1, r2, r3 = (_vec4(row, f"{where}[{i}]") for i, row in enumerate(value))
    # A pose's last row is (0, 0, 0, 1); anything else is a transposed or projective matrix.
    if any(abs(a - b) > _AFFINE_TOL for a, b in zip(r3, (0.0, 0.0, 0.0, 1.0), strict=True)):
        _fail(where, f"last row must be [0, 0, 0, 1] (an affine pose), got {list(r3)}")
    return (r0, r1, r2, r3)


def _translation(m: Matrix4) -> Vec3:
    return (m[0][3], m[1][3], m[2][3])


def _text(value: Any, where: str, empty_ok: bool = True) -> str:
    if value is None and empty_ok:
        return ""
    if not isinstance(value, str) or (not empty_ok and not value.strip()):
        _fail(where, f"must be {'a' if empty_ok else 'a non-empty'} string, got {_short(value)}")
    return value


def _id(value: Any, where: str) -> str:
    # Habitat writes ids as strings; an integer id is the same id.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return _text(value, where, empty_ok=False)


def _strs(value: Any, where: str, empty_ok: bool = False) -> tuple[str, ...]:
    if value is None and empty_ok:
        return ()
    if (
        not isinstance(value, list)
        or (not value and not empty_ok)
        or not all(isinstance(v, str) and v for v in value)
    ):
        _fail(
            where, f"must be a {'' if empty_ok else 'non-empty '}list of names, got {_short(value)}"
        )
    return tuple(value)


def _ints(value: Any, where: str) -> tuple[int, ...]:
    if not isinstance(value, list):
        _fail(where, f"must be a list of indices, got {_short(value)}")
    return tuple(_int(v, f"{where}[{i}]") for i, v in enumerate(value))


def _read_json(p: Path) -> Any:
    try:
        with gzip.open(p, "rb") as fh:
            raw = fh.read()
    except gzip.BadGzipFile as exc:
        raise HabitatDataError(f"{p}: not a gzip file: {exc}") from exc
    except (EOFError, zlib.error) as exc:
        raise HabitatDataError(f"{p}: not a complete gzip file: {exc}") from exc
    except OSError as exc:
        raise HabitatDataError(f"{p}: cannot read: {exc}") from exc
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise HabitatDataError(f"{p}: not JSON: {exc}") from exc


# ------------------------------------------------------------------------ the episodes


def load_episodes(path: str | Path) -> list[HabitatEpisode]:
    """Every episode of one Habitat ``.json.gz`` file, in file order."""
    p = Path(path)
    data = _read_json(p)
    try:
        episodes = _File(p, data).episodes()
    except HabitatDataError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        # A shape the checks above did not foresee is still the file's fault, not a crash.
        raise HabitatDataError(f"{p}: unexpected structure: {exc!r}") from exc
    logger.debug("%s: %d episodes", p, len(episodes))
    return episodes


class _File:
    """One file's episodes and its shared goal tables (parsed once per key)."""

    def __init__(self, path: Path, data: Any) -> None:
        self.path = path
        self.data = _obj(data, f"{path}: top level")
        self._by_category: dict[str, tuple[NavGoal, ...]] = {}
        self._instances: dict[str, tuple[NavGoal, tuple[ImageGoal, ...]]] = {}

    def episodes(self) -> list[HabitatEpisode]:
        raw = _req(self.data, "episodes", f"{self.path}: top level")
        if not isinstance(raw, list):
            _fail(f"{self.path}: episodes", f"must be a list, got {type(raw).__name__}")
        out: list[HabitatEpisode] = []
        seen: set[tuple[str, str]] = set()
        for i, ep in enumerate(raw):
            episode = self.episode(i, ep)
            key = (episode.scene_id, episode.episode_id)
            if key in seen:
                _fail(f"{self.path}: episodes[{i}]", f"duplicate episode {key}")
            seen.add(key)
            out.append(episode)
        return out

    def episode(self, i: int, raw: Any) -> HabitatEpisode:
        ep = _obj(raw, f"{self.path}: episodes[{i}]")
        eid = _id(
            _req(ep, "episode_id", f"{self.path}: episodes[{i}]"),
            f"{self.path}: episodes[{i}].episode_id",
        )
        where = f"{self.path}: episode {eid!r} (episodes[{i}])"
        common: dict[str, Any] = {
            "episode_id": eid,
            "scene_id": _text(_req(ep, "scene_id", where), f"{where}.scene_id", empty_ok=False),
            "scene_dataset_config": _text(
                # ReplicaCAD's older episodes call it scene_dataset_path.
                ep.get("scene_dataset_config", ep.get("scene_dataset_path")),
                f"{where}.scene_dataset_config",
            ),
            "start_position": _vec3(_req(ep, "start_position", where), f"{where}.start_position"),
            "start_rotation": _quat(_req(ep, "start_rotation", where), f"{where}.start_rotation"),
            "source": self.path.name,
        }
        kind = _kind(ep, where)
        if kind in NAVIGATION_KINDS:
            return self.navigation(kind, ep, where, common)
        return _rearrangement(kind, ep, where, common)

    # Navigation ---------------------------------------------------------------------

    def navigation(
        self, kind: EpisodeKind, ep: Mapping[str, Any], where: str, common: dict[str, Any]
    ) -> HabitatEpisode:
        info = _obj(ep.get("info") or {}, f"{where}.info")
        geo = info.get("geodesic_distance")
        geodesic: float | None = None
        if geo is not None:
            # Habitat writes Infinity where no path reaches a goal.
            if not _is_number(geo) or math.isnan(geo) or geo < 0:
                _fail(f"{where}.info.geodesic_distance", f"must be >= 0 or Infinity, got {geo!r}")
            geodesic = float(geo)
        raw_goals = ep.get("goals") or []
        if not isinstance(raw_goals, list):
            _fail(f"{where}.goals", f"must be a list, got {type(raw_goals).__name__}")
        inline = tuple(_nav_goal(g, f"{where}.goals[{j}]") for j, g in enumerate(raw_goals))
        scene_file = PurePosixPath(common["scene_id"]).name
        fields: dict[str, Any] = {"geodesic_distance": geodesic}
        if kind == "imagenav":
            oid = _id(_req(ep, "goal_object_id", where), f"{where}.goal_object_id")
            key = f"{scene_file.split('.')[0]}_{oid}"
            goal, images = self.instance(key, where)
            image_id = _int(_req(ep, "goal_image_id", where), f"{where}.goal_image_id")
            if image_id >= len(images):
                _fail(
                    f"{where}.goal_image_id",
                    f"{image_id} but goal {key!r} has {len(images)} images",
                )
            category = _text(ep.get("object_category"), f"{where}.object_category")
            if category and goal.object_category and category != goal.object_category:
                _fail(
                    where,
                    f"object_category {category!r} but goal {key!r} is a {goal.object_category!r}",
                )
            goals: tuple[NavGoal, ...] = inline or (goal,)
            fields |= {
                "goal_object_id": oid,
                "goal_image_id": image_id,
                "image_goal": images[image_id],
                "object_category": category or goal.object_category,
            }
        elif kind == "objectnav":
            category = _text(ep.get("object_category"), f"{where}.object_category")
            if inline:
                cats = {g.object_category for g in inline}
                if len(cats) != 1 or (category and cats != {category}):
                    _fail(f"{where}.goals", f"goals of categories {sorted(cats)} for {category!r}")
                category = category or inline[0].object_category
                goals = inline
            else:
                if not category:
                    _fail(where, "an ObjectNav episode without goals needs object_category")
                goals = self.category_goals(f"{scene_file}_{category}", where)
            fields["object_category"] = category
        else:
            if not inline:
                _fail(f"{where}.goals", "a PointNav episode needs at least one goal")
            goals = inline
        radii = {g.radius for g in goals}
        fields |= {"goals": goals, "success_radius": radii.pop() if len(radii) == 1 else None}
        unsupported = [] if kind == "pointnav" else [f"goals: {NAV_APPROXIMATION}"]
        unsupported += _leftovers(ep, set(_NAV_EXPRESSED))
        return HabitatEpisode(kind=kind, **common, **fields, unsupported=tuple(unsupported))

    def category_goals(self, key: str, where: str) -> tuple[NavGoal, ...]:
        if key not in self._by_category:
            table = _obj(self.data.get("goals_by_category"), f"{self.path}: goals_by_category")
            if key not in table:
                _fail(where, f"goals_by_category has no {key!r}")
            entries = table[key]
            if not isinstance(entries, list) or not entries:
                _fail(f"{self.path}: goals_by_category[{key!r}]", "must be a non-empty list")
            self._by_category[key] = tuple(
                _nav_goal(g, f"{self.path}: goals_by_category[{key!r}][{j}]")
                for j, g in enumerate(entries)
            )
        return self._by_category[key]

    def instance(self, key: str, where: str) -> tuple[NavGoal, tuple[ImageGoal, ...]]:
        if key not in self._instances:
            table = _obj(self.data.get("goals"), f"{self.path}: goals")
            if key not in table:
                _fail(where, f"the file's goals table has no {key!r}")
            gwhere = f"{self.path}: goals[{key!r}]"
            g = _obj(table[key], gwhere)
            raw_images = _req(g, "image_goals", gwhere)
            if not isinstance(raw_images, list):
                _fail(f"{gwhere}.image_goals", "must be a list")
            images = tuple(
                _image_goal(im, f"{gwhere}.image_goals[{j}]") for j, im in enumerate(raw_images)
            )
            self._instances[key] = (_nav_goal(g, gwhere), images)
        return self._instances[key]


def _kind(ep: Mapping[str, Any], where: str) -> EpisodeKind:
    if "evaluation_propositions" in ep:
        return "partnr"
    if "rigid_objs" in ep or "targets" in ep:
        return "rearrange"
    if "goal_object_id" in ep:
        return "imagenav"
    goals = ep.get("goals")
    if "object_category" in ep or (
        isinstance(goals, list)
        and any(isinstance(g, Mapping) and "object_category" in g for g in goals)
    ):
        return "objectnav"
    if isinstance(goals, list) and goals:
        return "pointnav"
    _fail(
        where,
        "cannot tell its kind: no goals, object_category, goal_object_id, targets or "
        "evaluation_propositions",
    )


def _nav_goal(raw: Any, where: str) -> NavGoal:
    g = _obj(raw, where)
    vps = g.get("view_points") or []
    if not isinstance(vps, list):
        _fail(f"{where}.view_points", "must be a list")
    view_points = []
    for j, vp in enumerate(vps):
        vwhere = f"{where}.view_points[{j}]"
        state = _obj(_req(_obj(vp, vwhere), "agent_state", vwhere), f"{vwhere}.agent_state")
        view_points.append(_vec3(_req(state, "position", vwhere), f"{vwhere}.agent_state.position"))
    oid = g.get("object_id")
    return NavGoal(
        position=_vec3(_req(g, "position", where), f"{where}.position"),
        radius=_opt_num(g.get("radius"), f"{where}.radius", positive=True),
        object_id="" if oid is None else _id(oid, f"{where}.object_id"),
        object_name=_text(g.get("object_name"), f"{where}.object_name"),
        object_category=_text(g.get("object_category"), f"{where}.object_category"),
        view_points=tuple(view_points),
    )


def _image_goal(raw: Any, where: str) -> ImageGoal:
    g = _obj(raw, where)
    dims = _req(g, "image_dimensions", where)
    if not isinstance(dims, list) or len(dims) != 2:
        _fail(f"{where}.image_dimensions", f"must be [width, height], got {_short(dims)}")
    hfov = _num(_req(g, "hfov", where), f"{where}.hfov")
    if not 0 < hfov < 180:
        _fail(f"{where}.hfov", f"must be in (0, 180) degrees, got {hfov}")
    return ImageGoal(
        position=_vec3(_req(g, "position", where), f"{where}.position"),
        rotation=_quat(_req(g, "rotation", where), f"{where}.rotation"),
        hfov_deg=hfov,
        width=_int(dims[0], f"{where}.image_dimensions[0]", 1),
        height=_int(dims[1], f"{where}.image_dimensions[1]", 1),
        frame_coverage=_opt_num(g.get("frame_coverage"), f"{where}.frame_coverage"),
        object_coverage=_opt_num(g.get("object_coverage"), f"{where}.object_coverage"),
    )


# Rearrangement ------------------------------------------------------------------------

_CONFIG_SUFFIX = ".object_config.json"


def _model_of_handle(handle: str) -> str:
    return handle.rsplit("_:", 1)[0] or handle


def _rearrangement(
    kind: EpisodeKind, ep: Mapping[str, Any], where: str, common: dict[str, Any]
) -> HabitatEpisode:
    info = _obj(ep.get("info") or {}, f"{where}.info")
    labels = _obj(info.get("object_labels") or {}, f"{where}.info.object_labels")
    on = _obj(ep.get("name_to_receptacle") or {}, f"{where}.name_to_receptacle")
    categories = _metadata_categories(ep.get("metadata"), f"{where}.metadata")
    rigid = ep.get("rigid_objs") or []
    if not isinstance(rigid, list):
        _fail(f"{where}.rigid_objs", "must be a list of [config name, 4x4 transform]")
    objects: list[SceneObject] = []
    counts: dict[str, int] = {}
    for j, entry in enumerate(rigid):
        owhere = f"{where}.rigid_objs[{j}]"
        if not isinstance(entry, list) or len(entry) != 2:
            _fail(owhere, f"must be [config name, 4x4 transform], got {_short(entry)}")
        name = _text(entry[0], f"{owhere}[0]", empty_ok=False)
        # Some MEMENTO entries omit the suffix; habitat-lab resolves both to one config.
        model = PurePosixPath(name.removesuffix(_CONFIG_SUFFIX)).name
        handle = f"{model}_:{counts.get(model, 0):04d}"
        counts[model] = counts.get(model, 0) + 1
        objects.append(
            SceneObject(
                handle=handle,
                model=model,
                transform=_matrix4(entry[1], f"{owhere}[1]"),
                receptacle=_text(on.get(handle), f"{where}.name_to_receptacle[{handle!r}]"),
                category=categories.get(model, ""),
            )
        )
    targets = _targets(ep, where, labels)
    props = ep.get("evaluation_propositions") or []
    if not isinstance(props, list):
        _fail(f"{where}.evaluation_propositions", "must be a list")
    propositions = tuple(
        _proposition(p, f"{where}.evaluation_propositions[{j}]") for j, p in enumerate(props)
    )
    order, terminal, others = _constraints(ep, where, len(propositions))
    deps = _dependencies(ep, where, len(propositions))
    episode = HabitatEpisode(
        kind=kind,
        **common,
        instruction=_text(
            ep.get("instruction") or ep.get("language_instruction"), f"{where}.instruction"
        ),
        objects=tuple(objects),
        targets=targets,
        propositions=propositions,
        order_edges=order,
        terminal_indices=terminal,
        dependencies=deps,
        other_constraints=others,
    )
    return replace(episode, unsupported=tuple(_rearrangement_unsupported(episode, ep)))


def _metadata_categories(meta: Any, where: str) -> dict[str, str]:
    """MEMENTO's ``metadata``: the category of each target and distractor, by config name."""
    if not meta:
        return {}
    m = _obj(meta, where)
    out: dict[str, str] = {}

    def visit(value: Any) -> None:
        if isinstance(value, list):
            for v in value:
                visit(v)
        elif isinstance(value, Mapping):
            oid, cat = value.get("id"), value.get("category")
            if isinstance(oid, str) and oid and isinstance(cat, str) and cat:
                out.setdefault(oid, cat)

    for key in ("target_objects", "distractors", "target_objects_original", "distractors_original"):
        visit(m.get(key))
    return out


def _targets(
    ep: Mapping[str, Any], where: str, labels: Mapping[str, Any]
) -> tuple[MoveTarget, ...]:
    raw = _obj(ep.get("targets") or {}, f"{where}.targets")
    # target_receptacles and goal_receptacles list [handle, link] in the targets' order.
    starts = _receptacle_list(ep.get("target_receptacles"), f"{where}.target_receptacles")
    goals = _receptacle_list(ep.get("goal_receptacles"), f"{where}.goal_receptacles")
    for name, lst in (("target_receptacles", starts), ("goal_receptacles", goals)):
        if lst and len(lst) != len(raw):
            _fail(f"{where}.{name}", f"has {len(lst)} entries for {len(raw)} targets")
    out = []
    for j, (handle, transform) in enumerate(raw.items()):
        out.append(
            MoveTarget(
                handle=_text(handle, f"{where}.targets key", empty_ok=False),
                transform=_matrix4(transform, f"{where}.targets[{handle!r}]"),
                start_receptacle=starts[j][0] if starts else "",
                goal_receptacle=goals[j][0] if goals else "",
                goal_link=goals[j][1] if goals else None,
                label=_text(labels.get(handle), f"{where}.info.object_labels[{handle!r}]"),
            )
        )
    return tuple(out)


def _receptacle_list(value: Any, where: str) -> list[tuple[str, int | None]]:
    if not value:
        return []
    if not isinstance(value, list):
        _fail(where, "must be a list of [handle, link]")
    out: list[tuple[str, int | None]] = []
    for j, e in enumerate(value):
        if not isinstance(e, list) or len(e) != 2:
            _fail(f"{where}[{j}]", f"must be [handle, link], got {_short(e)}")
        link = None if e[1] is None else _int(e[1], f"{where}[{j}][1]")
        out.append((_text(e[0], f"{where}[{j}][0]", empty_ok=False), link))
    return out


_RECEPTACLE_FUNCTIONS = ("is_on_top", "is_inside")
_STATE_FUNCTIONS: dict[str, tuple[str, bool]] = {
    "is_clean": ("isDirty", False),
    "is_dirty": ("isDirty", True),
    "is_filled": ("isFilledWithLiquid", True),
    "is_empty": ("isFilledWithLiquid", False),
    "is_powered_on": ("isToggled", True),
    "is_powered_off": ("isToggled", False),
}


_NEEDED_ARG = {
    "is_on_top": "receptacle_handles",
    "is_inside": "receptacle_handles",
    "is_in_room": "room_ids",
    "is_next_to": "entity_handles_b",
}


def _proposition(raw: Any, where: str) -> Proposition:
    p = _obj(raw, where)
    fn = _text(_req(p, "function_name", where), f"{where}.function_name", empty_ok=False)
    args = _obj(_req(p, "args", where), f"{where}.args")
    key = "entity_handles_a" if fn == "is_next_to" else "object_handles"
    objects = _strs(_req(args, key, f"{where}.args"), f"{where}.args.{key}")
    number = _int(args.get("number", 1), f"{where}.args.number", 1)
    if number > len(objects):
        _fail(f"{where}.args.number", f"{number} of only {len(objects)} {key}")
    needs = _NEEDED_ARG.get(fn)
    if needs is not None:
        _strs(_req(args, needs, f"{where}.args"), f"{where}.args.{needs}")
    same = args.get("is_same_receptacle", args.get("is_same_room", args.get("is_same_b", False)))
    if not isinstance(same, bool):
        _fail(f"{where}.args", f"is_same_* must be true or false, got {_short(same)}")
    return Proposition(
        function_name=fn,
        object_handles=objects,
        receptacle_handles=_strs(
            args.get("receptacle_handles"), f"{where}.args.receptacle_handles", True
        ),
        room_ids=_strs(args.get("room_ids"), f"{where}.args.room_ids", True),
        other_handles=_strs(args.get("entity_handles_b"), f"{where}.args.entity_handles_b", True),
        number=number,
        is_same=same,
        l2_threshold=_opt_num(
            args.get("l2_threshold"), f"{where}.args.l2_threshold", positive=True
        ),
    )


def _constraints(
    ep: Mapping[str, Any], where: str, n: int
) -> tuple[tuple[tuple[int, int], ...], tuple[int, ...] | None, tuple[str, ...]]:
    raw = ep.get("evaluation_constraints") or []
    if not isinstance(raw, list):
        _fail(f"{where}.evaluation_constraints", "must be a list")
    edges: list[tuple[int, int]] = []
    terminal: list[int] | None = None
    others: list[str] = []
    for j, c in enumerate(raw):
        cwhere = f"{where}.evaluation_constraints[{j}]"
        c = _obj(c, cwhere)
        ctype = _text(_req(c, "type", cwhere), f"{cwhere}.type", empty_ok=False)
        args = _obj(c.get("args") or {}, f"{cwhere}.args")
        if ctype == "TemporalConstraint":
            dag = args.get("dag_edges") or []
            if not isinstance(dag, list):
                _fail(f"{cwhere}.args.dag_edges", "must be a list of [i, j]")
            for k, e in enumerate(dag):
                a, b = _index_pair(e, n, f"{cwhere}.args.dag_edges[{k}]")
                edges.append((a, b))
        elif ctype == "TerminalSatisfactionConstraint":
            idx = _ints(
                _req(args, "proposition_indices", f"{cwhere}.args"),
                f"{cwhere}.args.proposition_indices",
            )
            if any(i >= n for i in idx):
                _fail(
                    f"{cwhere}.args.proposition_indices",
                    f"{list(idx)} out of range for {n} propositions",
                )
            terminal = sorted({*(terminal or []), *idx})
        else:
            others.append(ctype)
    if edges and _generations(n, edges) is None:
        _fail(f"{where}.evaluation_constraints", f"TemporalConstraint edges {edges} have a cycle")
    return tuple(edges), (None if terminal is None else tuple(terminal)), tuple(others)


def _index_pair(e: Any, n: int, where: str) -> tuple[int, int]:
    if not isinstance(e, list) or len(e) != 2:
        _fail(where, f"must be [i, j], got {_short(e)}")
    a, b = _int(e[0], f"{where}[0]"), _int(e[1], f"{where}[1]")
    if a >= n or b >= n:
        _fail(where, f"[{a}, {b}] out of range for {n} propositions")
    return a, b


def _dependencies(ep: Mapping[str, Any], where: str, n: int) -> tuple[PropositionDependency, ...]:
    raw = ep.get("evaluation_proposition_dependencies") or []
    if not isinstance(raw, list):
        _fail(f"{where}.evaluation_proposition_dependencies", "must be a list")
    out = []
    for j, d in enumerate(raw):
        dwhere = f"{where}.evaluation_proposition_dependencies[{j}]"
        d = _obj(d, dwhere)
        idx = _ints(_req(d, "proposition_indices", dwhere), f"{dwhere}.proposition_indices")
        dep = _ints(_req(d, "depends_on", dwhere), f"{dwhere}.depends_on")
        if any(i >= n for i in (*idx, *dep)):
            _fail(dwhere, f"indices out of range for {n} propositions")
        out.append(
            PropositionDependency(
                proposition_indices=idx,
                depends_on=dep,
                relation_type=_text(d.get("relation_type"), f"{dwhere}.relation_type"),
                dependency_mode=_text(d.get("dependency_mode"), f"{dwhere}.dependency_mode"),
            )
        )
    return tuple(out)


# ------------------------------------------------------------- what a task cannot state

_NO_FIELD = "no field in the task format"
_START_WHY = "init.agent is AI2-THOR's floor x, z and yaw; a Habitat start pose has no field"
_WHY: dict[str, str] = {
    "start_position": _START_WHY,
    "start_rotation": _START_WHY,
    "scene_dataset_config": "a task names its scene only, not the dataset config resolving it",
    "scene_dataset_path": "a task names its scene only, not the dataset config resolving it",
    "additional_obj_config_paths": "object config search paths: " + _NO_FIELD,
    "shortest_paths": "reference habitat-sim action sequences: " + _NO_FIELD,
    "info.geodesic_distance": "a reference shortest-path length: " + _NO_FIELD,
    "info.euclidean_distance": "a reference straight-line distance: " + _NO_FIELD,
    "info.closest_goal_object_id": _NO_FIELD,
    "info.difficulty": _NO_FIELD,
    "goal_image_id": "a goal image (camera pose in the file's goals table): the task names the "
    "instance it shows instead",
    "rigid_objs": "initial object poses in Habitat's frame: init.object_poses is AI2-THOR's "
    "SetObjectPoses payload (Unity's frame, unlisted objects removed)",
    "name_to_receptacle": "what each object starts on: " + _NO_FIELD,
    "target_receptacles": "what each target starts on: " + _NO_FIELD,
    "info.object_labels": "rearrange target labels: " + _NO_FIELD,
    "markers": "articulated-object push/grasp points: " + _NO_FIELD,
    "ao_states": "articulated joint states: init.openness takes AI2-THOR ids, openness in [0, 1]",
    "object_states": "initial per-object states (is_clean, is_filled, ...): " + _NO_FIELD,
    "info.initial_state": "PARTNR's generator specification: " + _NO_FIELD,
    "metadata": "MEMENTO's memories and object captions: " + _NO_FIELD,
    "original_data_info": "the source episodes: " + _NO_FIELD,
}
_NAV_EXPRESSED = (
    "episode_id",
    "scene_id",
    "goals",
    "object_category",
    "goal_object_id",
    "start_position",
    "start_rotation",
)
# Rearrangement fields the goal itself states, or reported below with a finer reason.
_REARRANGE_EXPRESSED = (
    "episode_id",
    "scene_id",
    "instruction",
    "language_instruction",
    "targets",
    "goal_receptacles",
    "evaluation_propositions",
    "evaluation_constraints",
    "evaluation_proposition_dependencies",
)


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _leftovers(ep: Mapping[str, Any], expressed: set[str]) -> list[str]:
    out = []
    for key, value in ep.items():
        if key in expressed or _empty(value):
            continue
        if key == "info" and isinstance(value, Mapping):
            out += [
                f"info.{k}: {_WHY.get(f'info.{k}', _NO_FIELD)}"
                for k, v in value.items()
                if not _empty(v)
            ]
        else:
            out.append(f"{key}: {_WHY.get(key, _NO_FIELD)}")
    return out


def _rearrangement_unsupported(episode: HabitatEpisode, ep: Mapping[str, Any]) -> list[str]:
    out = []
    if episode.targets:
        if all(t.goal_receptacle for t in episode.targets):
            out.append("targets: exact 6-DoF target poses (the goal is scored by receptacle)")
        else:
            out.append("targets: " + _NO_GOAL_RECEPTACLE)
        if any(t.goal_link is not None for t in episode.targets):
            out.append("goal_receptacles: link indices (the goal names the whole receptacle)")
    # One entry per reason, naming the propositions it concerns, keeps the list readable.
    by_reason: dict[str, list[int]] = {}
    for j, p in enumerate(episode.propositions):
        pred = _predicate(p, lambda h: h)
        if isinstance(pred, str):
            by_reason.setdefault(pred, []).append(j)
        elif p.function_name in _RECEPTACLE_FUNCTIONS:
            by_reason.setdefault(_IN_OR_ON, []).append(j)
    out += [f"evaluation_propositions{idx}: {why}" for why, idx in by_reason.items()]
    order = _order_problem(episode)
    if order is not None:
        out.append(f"evaluation_constraints: {order}")
    elif episode.propositions and not _final_state(episode):
        out.append(f"evaluation_constraints: {_ONCE_HELD}")
    out += [f"evaluation_constraints: {t}: {_NO_FIELD}" for t in episode.other_constraints]
    if episode.dependencies:
        out.append(f"evaluation_proposition_dependencies: {_DEPENDENCY_REASON}")
    return out + _leftovers(ep, set(_REARRANGE_EXPRESSED))


# ------------------------------------------------------------------------ to the task

_NO_GOAL_RECEPTACLE = (
    "target poses without goal receptacles (goal_receptacles is empty): "
    "the task format has no goal positions"
)
_IN_OR_ON = "on top vs inside (the task format's 'in' means in or on)"
_ONCE_HELD = (
    "no TerminalSatisfactionConstraint: PARTNR credits each proposition once it held; the "
    "task's ordered subgoals credit a step once its predicates hold together"
)
_ORDER_REASON = (
    "TemporalConstraint orders goals that must also hold at the end "
    "(the task format has final-state goals or a strict sequence, not both)"
)
_PARTIAL_ORDER_REASON = (
    "TemporalConstraint is a partial order that a strict sequence of subgoals would tighten"
)
_MIXED_END_REASON = (
    "TerminalSatisfactionConstraint covers some propositions only (the task format scores "
    "all goals at the end or all once held, not a mix)"
)
_DEPENDENCY_REASON = "propositions judged only while others hold: " + _NO_FIELD
_FUNCTION_REASONS = {
    "is_next_to": "is_next_to: the task format has no relation between two objects",
    "is_in_room": "is_in_room: rooms are not receptacles in the task format",
}


def _predicate(p: Proposition, type_of: Callable[[str], str]) -> Predicate | str:
    """The predicate a proposition states, or why none can."""
    fn = p.function_name
    types = tuple(dict.fromkeys(type_of(h) for h in p.object_handles))
    if fn in _RECEPTACLE_FUNCTIONS:
        if p.is_same and p.number > 1 and len(p.receptacle_handles) > 1:
            return f"{fn} with is_same_receptacle: several objects on one and the same receptacle"
        return Predicate(
            object_types=types,
            in_types=p.receptacle_handles,
            count=p.number,
            names=p.object_handles,
        )
    if fn == "is_on_floor":
        return Predicate(
            object_types=types, in_types=("Floor",), count=p.number, names=p.object_handles
        )
    if fn in _STATE_FUNCTIONS:
        key, value = _STATE_FUNCTIONS[fn]
        return Predicate(
            object_types=types, state={key: value}, count=p.number, names=p.object_handles
        )
    return _FUNCTION_REASONS.get(fn, f"{fn}: not a relation the task format has")


def _generations(n: int, edges: Sequence[tuple[int, int]]) -> list[list[int]] | None:
    """Propositions in topological generations (those with no predecessor first); None if
    the edges have a cycle."""
    preds: list[set[int]] = [set() for _ in range(n)]
    for a, b in edges:
        preds[b].add(a)
    done: set[int] = set()
    out: list[list[int]] = []
    while len(done) < n:
        ready = [i for i in range(n) if i not in done and preds[i] <= done]
        if not ready:
            return None
        out.append(ready)
        done.update(ready)
    return out


def _ancestors(n: int, edges: Sequence[tuple[int, int]]) -> list[set[int]]:
    preds: list[set[int]] = [set() for _ in range(n)]
    for a, b in edges:
        preds[b].add(a)
    out: list[set[int]] = []
    for i in range(n):
        seen: set[int] = set()
        stack = list(preds[i])
        while stack:
            j = stack.pop()
            if j not in seen:
                seen.add(j)
                stack.extend(preds[j])
        out.append(seen)
    return out


def _final_state(ep: HabitatEpisode) -> bool:
    """Every proposition must hold at the end (TerminalSatisfactionConstraint on all)."""
    return ep.terminal_indices is not None and set(ep.terminal_indices) == set(
        range(len(ep.propositions))
    )


def _order_problem(ep: HabitatEpisode) -> str | None:
    """Why the propositions' timing cannot be stated, None if it can: all at the end
    (unordered) or each once held, in the DAG's generations (ordered subgoals)."""
    n = len(ep.propositions)
    if ep.terminal_indices and not _final_state(ep):
        return _MIXED_END_REASON
    if not ep.order_edges:
        return None
    if _final_state(ep):
        return _ORDER_REASON
    gens = _generations(n, ep.order_edges) or []
    anc = _ancestors(n, ep.order_edges)
    # Ordered subgoals put every earlier generation before every later one; that is the
    # DAG's own order only when each such pair is already ordered by it.
    for k, earlier in enumerate(gens):
        for later in gens[k + 1 :]:
            if any(i not in anc[j] for i in earlier for j in later):
                return _PARTIAL_ORDER_REASON
    return None


def convert(ep: HabitatEpisode) -> Conversion:
    """The Loci task of an episode, or why there is none."""
    if ep.kind in NAVIGATION_KINDS:
        return _navigation_task(ep)
    model = {o.handle: o.model for o in ep.objects}
    category = {o.handle: o.category for o in ep.objects if o.category}

    def type_of(handle: str) -> str:
        return category.get(handle) or model.get(handle) or _model_of_handle(handle)

    ordered = False
    if ep.kind == "rearrange":
        if not ep.targets:
            return Conversion(None, "no targets: nothing to move")
        if not all(t.goal_receptacle for t in ep.targets):
            return Conversion(None, _NO_GOAL_RECEPTACLE)
        subgoals: tuple[tuple[Predicate, ...], ...] = (
            tuple(
                Predicate(
                    object_types=(type_of(t.handle),),
                    in_types=(t.goal_receptacle,),
                    names=(t.handle,),
                )
                for t in ep.targets
            ),
        )
    else:
        if not ep.propositions:
            return Conversion(None, "no evaluation_propositions: no goal")
        reasons: list[str] = []
        preds: list[Predicate] = []
        for p in ep.propositions:
            pred = _predicate(p, type_of)
            if isinstance(pred, str):
                reasons.append(pred)
            else:
                preds.append(pred)
        order = _order_problem(ep)
        if order is not None:
            reasons.append(order)
        if ep.dependencies:
            reasons.append("evaluation_proposition_dependencies: " + _DEPENDENCY_REASON)
        reasons += [f"{t}: not a constraint the task format has" for t in ep.other_constraints]
        if reasons:
            return Conversion(None, "; ".join(dict.fromkeys(reasons)))
        if _final_state(ep):
            subgoals = (tuple(preds),)
        else:
            # Without a terminal constraint PARTNR credits a proposition once it held, as
            # an ordered subgoal is credited; the DAG's generations are the steps.
            gens = _generations(len(preds), ep.order_edges) or [list(range(len(preds)))]
            subgoals = tuple(tuple(preds[i] for i in g) for g in gens)
            ordered = True
    task = Task(
        task_id=ep.task_id,
        scene=ep.scene_id,
        instruction=ep.instruction,
        subgoals=subgoals,
        ordered=ordered,
        # A list (not a tuple) so the task reads back equal after a trip through JSON.
        init={"habitat_unsupported": list(ep.unsupported)} if ep.unsupported else {},
        task_type=f"habitat-{ep.kind}",
        source=f"habitat {ep.source} #{ep.episode_id}",
    )
    return Conversion(task)


def _near_object(goals: Sequence[NavGoal]) -> float:
    """The farthest any goal's view point stands from that goal's centre (floor distance,
    y up), rounded up to the centimetre; :data:`OBJECT_NEAR_M` without view points."""
    far = [
        math.hypot(v[0] - g.position[0], v[2] - g.position[2]) for g in goals for v in g.view_points
    ]
    return math.ceil(max(far) * 100) / 100 if far else OBJECT_NEAR_M


def _navigation_task(ep: HabitatEpisode) -> Conversion:
    if ep.kind == "pointnav":
        if len(ep.goals) != 1:
            return Conversion(None, f"{len(ep.goals)} goal points: 'any of them' has no predicate")
        near = ep.success_radius or POINTNAV_SUCCESS_M
        pred = Predicate(object_types=(), near=near, at=ep.goals[0].position)
    elif ep.kind == "objectnav":
        pred = Predicate(object_types=(ep.object_category,), near=_near_object(ep.goals))
    else:
        # The instance the goal image shows, as the Habitat body names a semantic instance.
        pred = Predicate(
            object_types=(ep.object_category,),
            names=(f"{ep.object_category}_{ep.goal_object_id}",),
            near=_near_object(ep.goals),
        )
    init: dict[str, Any] = {
        # Where the Habitat body starts the agent (other bodies have their own starts).
        "habitat_start": {
            "position": list(ep.start_position),
            "rotation": list(ep.start_rotation),
        }
    }
    if ep.unsupported:
        init["habitat_unsupported"] = list(ep.unsupported)
    task = Task(
        task_id=ep.task_id,
        scene=ep.scene_id,
        instruction=ep.instruction or _nav_instruction(ep),
        subgoals=((pred,),),
        init=init,
        task_type=f"habitat-{ep.kind}",
        source=f"habitat {ep.source} #{ep.episode_id}",
    )
    return Conversion(task)


def _nav_instruction(ep: HabitatEpisode) -> str:
    if ep.kind == "pointnav":
        x, y, z = ep.goals[0].position
        return f"go to ({x:.2f}, {y:.2f}, {z:.2f})"
    what = ep.object_category.replace("_", " ")
    return f"find the {what} in the picture" if ep.kind == "imagenav" else f"find a {what}"


def to_task(ep: HabitatEpisode) -> Task | None:
    """The Loci task of an episode, None where its goal cannot be stated
    (:func:`convert` says why)."""
    return convert(ep).task
