"""Typed, immutable value types shared by every memory component.

Coordinates are metres in the world frame of the source. Which axis is "up"
(``y`` in AI2-THOR, ``z`` in ROS/Hydra) is a property of the scene graph, not of
the values, so these types stay frame-agnostic.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TypeAlias, TypeVar

import numpy as np

from memory_core.errors import InvalidInputError

__all__ = [
    "COORDINATE_LIMIT_M",
    "COUNT_LIMIT",
    "EMBEDDING_LIMIT",
    "UNKNOWN_LABEL",
    "AgentState",
    "Box3D",
    "Episode",
    "Event",
    "Layer",
    "ObjectObservation",
    "PinholeIntrinsics",
    "Pose",
    "Relation",
    "SceneEdge",
    "SceneNode",
    "StateValue",
    "Vec3",
    "check_bounded",
    "check_finite",
    "check_label",
    "check_state",
    "check_text",
    "trusted",
]

_T = TypeVar("_T")

COORDINATE_LIMIT_M = 1.0e7
"""Largest magnitude any coordinate or box size may have, in metres. It admits every local
map frame, UTM and Earth-centred coordinates, and keeps every sum, product and square the
memory computes finite (a coordinate of 1e300 once made each later query overflow). What
a deployment considers plausible is narrower: ``SceneGraphConfig.max_abs_coordinate_m``."""
EMBEDDING_LIMIT = 1.0e6
COUNT_LIMIT = 2**53
"""Largest sighting/miss count a node holds: counts go up by one a sighting, and a store
keeps them as 64-bit integers (a count past this is a forged record, refused)."""
"""Largest magnitude of one embedding component (dot products stay finite)."""
UNKNOWN_LABEL = "unknown"
"""The label of a thing seen without knowing what it is (a segment found by geometry);
a later labelled observation of it gives it its label."""
Vec3: TypeAlias = tuple[float, float, float]
Quat: TypeAlias = tuple[float, float, float, float]
StateValue: TypeAlias = bool | int | float | str


class Layer(StrEnum):
    """Scene-graph layers, from coarse to fine (Hydra-like)."""

    BUILDING = "building"
    ROOM = "room"
    PLACE = "place"
    RECEPTACLE = "receptacle"
    OBJECT = "object"
    AGENT = "agent"


class Relation(StrEnum):
    """Edge relations. ``IN``/``ON`` point from the supported thing to its support."""

    CONTAINS = "contains"
    IN = "in"
    ON = "on"
    ADJACENT = "adjacent"
    NEAR = "near"
    FOLLOWS = "follows"


def trusted(cls: type[_T], **values: object) -> _T:
    """Build a frozen value from data this code wrote and validated before (a store's own
    records), skipping re-validation: loading 100k nodes is dominated by it otherwise.
    Every field must be given."""
    obj = object.__new__(cls)
    for key, value in values.items():
        object.__setattr__(obj, key, value)
    return obj


def check_finite(name: str, values: Iterable[float]) -> tuple[float, ...]:
    """Return ``values`` as floats, raising :class:`InvalidInputError` on NaN/inf."""
    try:
        out = tuple(map(float, values))
    except (TypeError, ValueError, OverflowError) as exc:
        raise InvalidInputError(f"{name} must be numbers: {exc}") from exc
    if not all(map(math.isfinite, out)):
        raise InvalidInputError(f"{name} must be finite, got {out!r}")
    return out


def check_bounded(name: str, values: Iterable[float], limit: float) -> tuple[float, ...]:
    """Return ``values`` as floats, raising :class:`InvalidInputError` on NaN/inf or on a
    magnitude above ``limit``."""
    out = check_finite(name, values)
    if any(abs(v) > limit for v in out):
        raise InvalidInputError(f"{name} exceeds the limit of {limit:g} in magnitude: {out!r}")
    return out


def _vec3(name: str, values: Iterable[float]) -> Vec3:
    try:
        out = check_bounded(name, values, COORDINATE_LIMIT_M)
    except TypeError as exc:
        raise InvalidInputError(f"{name} must be numbers: {exc}") from exc
    if len(out) != 3:
        raise InvalidInputError(f"{name} must have 3 components, got {len(out)}")
    return (out[0], out[1], out[2])


def _plain(value: object) -> object:
    """A numpy scalar as the Python value it holds (stores and JSON take only those)."""
    return value.item() if isinstance(value, np.generic) else value


def check_text(name: str, value: object, empty_ok: bool = True) -> str:
    """``value`` as a string that a store can write: a ``str``, valid Unicode (no lone
    surrogates, which no UTF-8 encoder accepts), non-blank unless ``empty_ok``."""
    if not isinstance(value, str):
        raise InvalidInputError(f"{name} must be a string, got {type(value).__name__}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidInputError(f"{name} is not valid Unicode: {value!r}") from exc
    if not empty_ok and not value.strip():
        raise InvalidInputError(f"{name} must be a non-empty string, got {value!r}")
    return str(value)


def check_label(label: object) -> str:
    """A label: non-blank text without control characters (a label is a thing's type or
    name; one holding a line break and text after it reads as instructions in a prompt)."""
    text = check_text("label", label, empty_ok=False)
    if any(ord(c) < 32 or 127 <= ord(c) < 160 for c in text):
        raise InvalidInputError(f"label must not hold control characters, got {text!r}")
    return text


def check_state(state: Mapping[str, StateValue]) -> dict[str, StateValue]:
    """``state`` as a new dict of plain Python values (numpy scalars converted)."""
    if not isinstance(state, Mapping):
        raise InvalidInputError(f"state must be a mapping, got {type(state).__name__}")
    out: dict[str, StateValue] = {}
    for key, raw in state.items():
        if not isinstance(key, str) or not key:
            raise InvalidInputError(f"state keys must be non-empty strings, got {key!r}")
        check_text("state key", key)
        value = _plain(raw)
        if not isinstance(value, bool | int | float | str):
            raise InvalidInputError(f"state value for {key!r} has unsupported type {type(raw)}")
        if isinstance(value, float) and not math.isfinite(value):
            raise InvalidInputError(f"state value for {key!r} must be finite, got {value!r}")
        if isinstance(value, str):
            value = check_text(f"state value for {key!r}", value)
        out[key] = value
    return out


@dataclass(frozen=True, slots=True)
class Pose:
    """Position plus orientation as a unit quaternion ``(x, y, z, w)``."""

    position: Vec3
    orientation: Quat = (0.0, 0.0, 0.0, 1.0)

    def __post_init__(self) -> None:
        object.__setattr__(self, "position", _vec3("pose position", self.position))
        q = check_finite("pose orientation", self.orientation)
        if len(q) != 4:
            raise InvalidInputError(f"pose orientation must be a quaternion, got {q!r}")
        norm = math.sqrt(sum(c * c for c in q))
        if norm < 1e-9:
            raise InvalidInputError("pose orientation quaternion has zero norm")
        # Leave unit quaternions bit-for-bit alone so stored poses round-trip exactly.
        if abs(norm - 1.0) > 1e-9:
            q = tuple(c / norm for c in q)
        object.__setattr__(self, "orientation", q)


@dataclass(frozen=True, slots=True)
class Box3D:
    """Axis-aligned box given by its centre and full extents (all >= 0)."""

    center: Vec3
    size: Vec3

    def __post_init__(self) -> None:
        object.__setattr__(self, "center", _vec3("box center", self.center))
        size = _vec3("box size", self.size)
        if any(s < 0.0 for s in size):
            raise InvalidInputError(f"box size must be non-negative, got {size!r}")
        object.__setattr__(self, "size", size)

    @property
    def min_corner(self) -> Vec3:
        c, s = self.center, self.size
        return (c[0] - s[0] / 2, c[1] - s[1] / 2, c[2] - s[2] / 2)

    @property
    def max_corner(self) -> Vec3:
        c, s = self.center, self.size
        return (c[0] + s[0] / 2, c[1] + s[1] / 2, c[2] + s[2] / 2)

    @property
    def volume(self) -> float:
        return self.size[0] * self.size[1] * self.size[2]

    def gap(self, other: Box3D) -> float:
        """Distance between the two boxes; 0 when they touch or overlap."""
        lo_a, hi_a = self.min_corner, self.max_corner
        lo_b, hi_b = other.min_corner, other.max_corner
        return math.sqrt(sum(max(lo_b[k] - hi_a[k], lo_a[k] - hi_b[k], 0.0) ** 2 for k in range(3)))

    def contains(self, point: Sequence[float]) -> bool:
        """Whether ``point`` lies in the box (its faces included)."""
        lo, hi = self.min_corner, self.max_corner
        return all(lo[k] <= point[k] <= hi[k] for k in range(3))

    def union(self, other: Box3D) -> Box3D:
        """The smallest box holding both."""
        lo_a, hi_a = self.min_corner, self.max_corner
        lo_b, hi_b = other.min_corner, other.max_corner
        lo = [min(lo_a[k], lo_b[k]) for k in range(3)]
        hi = [max(hi_a[k], hi_b[k]) for k in range(3)]
        center = ((lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, (lo[2] + hi[2]) / 2)
        size = (hi[0] - lo[0], hi[1] - lo[1], hi[2] - lo[2])
        if max(*size, *map(abs, center)) <= COORDINATE_LIMIT_M:
            # Two valid boxes give finite, non-negative values: only the limit can fail
            # (association asks for thousands of unions in a large batch).
            return trusted(Box3D, center=center, size=size)
        return Box3D(center, size)

    def iou(self, other: Box3D) -> float:
        """3D intersection over union; 0 when either box is degenerate."""
        lo_a, hi_a = self.min_corner, self.max_corner
        lo_b, hi_b = other.min_corner, other.max_corner
        inter = 1.0
        for i in range(3):
            overlap = min(hi_a[i], hi_b[i]) - max(lo_a[i], lo_b[i])
            if overlap <= 0.0:
                return 0.0
            inter *= overlap
        union = self.volume + other.volume - inter
        return inter / union if union > 0.0 else 0.0


@dataclass(frozen=True, slots=True)
class ObjectObservation:
    """One object seen once: what perception (or a simulator) hands to memory.

    ``object_id`` is an optional identity hint (a simulator id or a tracker id);
    without it the scene graph associates by label and geometry. ``parent_id``
    and ``relation`` optionally say what the object is in/on.
    """

    label: str
    position: Vec3
    box: Box3D | None = None
    state: Mapping[str, StateValue] = field(default_factory=dict)
    confidence: float = 1.0
    timestamp: float = 0.0
    source_frame: str = "world"
    object_id: str | None = None
    parent_id: str | None = None
    relation: Relation | None = None
    layer: Layer | None = None
    embedding: tuple[float, ...] | None = None
    name: str | None = None
    """Instance name where the source has one (AI2-THOR's ``objectName``, e.g.
    ``Mug_291e6e8a``); kept on the node as ``attrs["name"]``."""

    def __post_init__(self) -> None:
        check_label(self.label)
        object.__setattr__(self, "position", _vec3(f"position of {self.label!r}", self.position))
        if self.box is not None and not isinstance(self.box, Box3D):
            raise InvalidInputError(f"box of {self.label!r} must be a Box3D or None")
        conf = check_finite("confidence", (self.confidence,))[0]
        if not 0.0 <= conf <= 1.0:
            raise InvalidInputError(f"confidence must be in [0, 1], got {conf}")
        object.__setattr__(self, "confidence", conf)
        object.__setattr__(self, "timestamp", check_finite("timestamp", (self.timestamp,))[0])
        object.__setattr__(self, "state", check_state(self.state))
        for name in ("object_id", "parent_id", "name"):
            value = getattr(self, name)
            if value is not None:
                check_text(name, value, empty_ok=False)
        if self.relation is not None and self.relation not in (Relation.IN, Relation.ON):
            raise InvalidInputError(
                f"observation relation must be 'in' or 'on', got {self.relation}"
            )
        if self.embedding is not None:
            object.__setattr__(
                self, "embedding", check_bounded("embedding", self.embedding, EMBEDDING_LIMIT)
            )


@dataclass(frozen=True, slots=True)
class PinholeIntrinsics:
    """A pinhole camera: image size, focal lengths and principal point, in pixels.

    One type for the simulator's renderer and for perception, so frames pass between
    them without conversion. A negative focal length (ICL-NUIM's flipped y) is allowed.
    """

    width: int
    height: int
    fx: float
    fy: float
    cx: float
    cy: float

    def __post_init__(self) -> None:
        if self.width <= 0 or self.height <= 0 or self.fx == 0 or self.fy == 0:
            raise InvalidInputError(f"invalid intrinsics {self}")
        check_finite("intrinsics", (self.fx, self.fy, self.cx, self.cy))

    @classmethod
    def from_fov(cls, width: int, height: int, hfov_deg: float) -> PinholeIntrinsics:
        f = (width / 2) / math.tan(math.radians(hfov_deg) / 2)
        return cls(width, height, f, f, width / 2 - 0.5, height / 2 - 0.5)


@dataclass(frozen=True, slots=True)
class AgentState:
    pose: Pose
    timestamp: float = 0.0
    room_id: str | None = None
    holding: str | None = None


@dataclass(frozen=True, slots=True)
class SceneNode:
    """A node of the scene graph as the graph holds it (replaced, never mutated)."""

    id: str
    layer: Layer
    label: str
    position: Vec3
    box: Box3D | None = None
    state: Mapping[str, StateValue] = field(default_factory=dict)
    first_seen: float = 0.0
    last_seen: float = 0.0
    last_changed: float = 0.0
    n_obs: int = 1
    confidence: float = 1.0
    misses: int = 0
    present: bool = True
    embedding: tuple[float, ...] | None = None
    attrs: Mapping[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_text("node id", self.id, empty_ok=False)
        check_label(self.label)
        if not isinstance(self.layer, Layer):
            object.__setattr__(self, "layer", Layer(self.layer))
        object.__setattr__(self, "position", _vec3(f"position of node {self.id!r}", self.position))
        if self.box is not None and not isinstance(self.box, Box3D):
            raise InvalidInputError(f"box of node {self.id!r} must be a Box3D or None")
        times = check_finite("node times", (self.first_seen, self.last_seen, self.last_changed))
        object.__setattr__(self, "first_seen", times[0])
        object.__setattr__(self, "last_seen", times[1])
        object.__setattr__(self, "last_changed", times[2])
        object.__setattr__(self, "state", check_state(self.state))
        conf = check_finite(f"confidence of {self.id!r}", (self.confidence,))[0]
        if not 0.0 <= conf <= 1.0:
            raise InvalidInputError(f"confidence of {self.id!r} must be in [0, 1]")
        object.__setattr__(self, "confidence", conf)
        n_obs, misses = _plain(self.n_obs), _plain(self.misses)
        if not (
            isinstance(n_obs, int)
            and isinstance(misses, int)
            and 0 <= n_obs <= COUNT_LIMIT
            and 0 <= misses <= COUNT_LIMIT
        ):
            raise InvalidInputError(
                f"n_obs and misses of {self.id!r} must be integers in [0, {COUNT_LIMIT}]"
            )
        object.__setattr__(self, "n_obs", n_obs)
        object.__setattr__(self, "misses", misses)
        if self.embedding is not None:
            object.__setattr__(
                self, "embedding", check_bounded("embedding", self.embedding, EMBEDDING_LIMIT)
            )


@dataclass(frozen=True, slots=True)
class SceneEdge:
    src: str
    dst: str
    relation: Relation
    attrs: Mapping[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Edges arrive from change sets of other processes and robots: an endpoint that
        # is not text (a list) broke the graph's dictionaries far from where it came in.
        for end in (self.src, self.dst):
            if type(end) is not str or not end:
                raise InvalidInputError(f"edge endpoints must be non-empty ids, got {end!r}")
        if type(self.relation) is not Relation:
            try:
                object.__setattr__(self, "relation", Relation(self.relation))
            except ValueError as exc:
                raise InvalidInputError(f"unknown edge relation {self.relation!r}") from exc
        if not isinstance(self.attrs, Mapping):
            raise InvalidInputError(f"edge attributes must be a mapping, got {self.attrs!r}")


@dataclass(frozen=True, slots=True)
class Event:
    """Something the agent did or saw. ``seq`` is assigned by episodic memory."""

    t: float
    episode_id: str
    action: str
    outcome: str = ""
    objects: tuple[str, ...] = ()
    room: str | None = None
    pose: Pose | None = None
    text: str = ""
    seq: int = -1

    def __post_init__(self) -> None:
        object.__setattr__(self, "t", check_finite("event time", (self.t,))[0])
        check_text("event episode_id", self.episode_id, empty_ok=False)
        check_text("event action", self.action, empty_ok=False)
        objects = tuple(self.objects)
        for o in objects:
            check_text("event object", o, empty_ok=False)
        object.__setattr__(self, "objects", objects)
        check_text("event outcome", self.outcome)
        check_text("event text", self.text)
        if self.room is not None:
            check_text("event room", self.room)
        if self.pose is not None and not isinstance(self.pose, Pose):
            raise InvalidInputError("event pose must be a Pose or None")


@dataclass(frozen=True, slots=True)
class Episode:
    episode_id: str
    instruction: str = ""
    start_t: float = 0.0
    end_t: float | None = None
    outcome: str | None = None
    scene: str = ""

    def __post_init__(self) -> None:
        check_text("episode_id", self.episode_id, empty_ok=False)
        check_text("episode instruction", self.instruction)
        check_text("episode scene", self.scene)
        if self.outcome is not None:
            check_text("episode outcome", self.outcome)
        object.__setattr__(self, "start_t", check_finite("episode start", (self.start_t,))[0])
        if self.end_t is not None:
            object.__setattr__(self, "end_t", check_finite("episode end", (self.end_t,))[0])
