"""Configuration dataclasses of the memory components, loadable from YAML."""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml

from memory_core.errors import ConfigError
from memory_core.types import COORDINATE_LIMIT_M, check_text

__all__ = [
    "EpisodicConfig",
    "MemoryConfig",
    "RetrievalConfig",
    "STMConfig",
    "SceneGraphConfig",
    "from_mapping",
    "load_config",
]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class SceneGraphConfig:
    up_axis: str = "y"
    """Vertical axis of the world frame: 'y' (AI2-THOR) or 'z' (ROS, Hydra)."""
    grid_cell_m: float = 1.0
    association_gate_m: float = 1.0
    """Observations farther than this from a node of the same label never match it."""
    iou_weight: float = 0.5
    embedding_weight: float = 0.5
    move_threshold_m: float = 0.15
    """A matched observation farther than this is a move, not noise to average."""
    confidence_gain: float = 0.5
    miss_decay: float = 0.5
    gone_threshold: float = 0.2
    near_radius_m: float = 1.0
    support_margin_m: float = 0.3
    """How far above a receptacle's seen top a thing's bottom may be and still rest on it."""
    support_slack_m: float = 0.05
    """How far outside a receptacle's footprint a thing's centre may be seen and still rest
    on it: a camera sees the near face of a thing at a table's edge, so its centre is
    placed a few centimetres toward the camera, off the table."""
    max_abs_coordinate_m: float = 1.0e5
    """Observations and committed nodes with a coordinate or box extent beyond this (metres,
    in magnitude) are refused as implausible. At most ``types.COORDINATE_LIMIT_M``."""
    id_namespace: str = ""
    """Appended to the ids this memory mints (``Apple#3@r1``): robots sharing one store
    (a fleet) must not mint the same id for different things. Empty: ``Apple#3``."""
    container_types: tuple[str, ...] = (
        "Bathtub", "BathtubBasin", "Bowl", "Box", "Cabinet", "Cup", "Drawer",
        "Fridge", "GarbageCan", "LaundryHamper", "Microwave", "Mug", "Pan", "Pot", "Safe",
        "Sink", "SinkBasin", "Toaster", "Toilet",
    )  # fmt: skip
    """Receptacle types whose contents are ``in`` (others support things ``on`` them)."""

    def __post_init__(self) -> None:
        if self.up_axis not in ("y", "z"):
            raise ConfigError(f"up_axis must be 'y' or 'z', got {self.up_axis!r}")
        if self.id_namespace:
            check_text("id_namespace", self.id_namespace)
            if any(c in self.id_namespace for c in "#@|"):
                raise ConfigError(
                    f"id_namespace must not hold '#', '@' or '|': {self.id_namespace!r}"
                )
        for name in ("grid_cell_m", "association_gate_m", "near_radius_m"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name} must be > 0")
        if not 0 < self.max_abs_coordinate_m <= COORDINATE_LIMIT_M:
            raise ConfigError(
                f"max_abs_coordinate_m must be in (0, {COORDINATE_LIMIT_M:g}], "
                f"got {self.max_abs_coordinate_m}"
            )
        if not 0 < self.miss_decay < 1 or not 0 < self.gone_threshold < 1:
            raise ConfigError("miss_decay and gone_threshold must be in (0, 1)")


@dataclass(frozen=True, slots=True)
class STMConfig:
    capacity: int = 64
    policy: str = "adaptive"
    position_tolerance_m: float = 0.05
    """A recalled position within this of the truth counts as correct."""
    recency_weight: float = 1.0
    frequency_weight: float = 0.5
    relevance_weight: float = 2.0

    def __post_init__(self) -> None:
        if self.capacity < 1:
            raise ConfigError(f"STM capacity must be >= 1, got {self.capacity}")


@dataclass(frozen=True, slots=True)
class EpisodicConfig:
    contiguity_window: int = 1
    """Events on each side of a similarity hit that are recalled with it."""


@dataclass(frozen=True, slots=True)
class RetrievalConfig:
    token_budget: int = 600
    chars_per_token: float = 4.0
    max_objects: int = 24
    max_events: int = 8


@dataclass(frozen=True, slots=True)
class MemoryConfig:
    scene_graph: SceneGraphConfig = field(default_factory=SceneGraphConfig)
    stm: STMConfig = field(default_factory=STMConfig)
    episodic: EpisodicConfig = field(default_factory=EpisodicConfig)
    retrieval: RetrievalConfig = field(default_factory=RetrievalConfig)
    embeddings: bool = False
    """Load the sentence-embedding model (optional extra) for queries by meaning."""


def _convert(tp: Any, value: Any, where: str) -> Any:
    origin = typing.get_origin(tp)
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        if not isinstance(value, Mapping):
            raise ConfigError(f"{where}: expected a mapping, got {type(value).__name__}")
        return from_mapping(tp, value, where)
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{where}: expected a list, got {type(value).__name__}")
        (inner, _ellipsis) = typing.get_args(tp)
        return tuple(_convert(inner, v, f"{where}[]") for v in value)
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{where}: expected a number, got {value!r}")
        return float(value)
    if tp in (int, str, bool):
        if type(value) is not tp:
            raise ConfigError(f"{where}: expected {tp.__name__}, got {value!r}")
        return value
    if origin in (typing.Union, types.UnionType):
        return value
    raise ConfigError(f"{where}: unsupported config type {tp!r}")


def from_mapping(cls: type[T], data: Mapping[str, Any], where: str = "config") -> T:
    """Build the config dataclass ``cls`` from a mapping, rejecting unknown keys."""
    assert dataclasses.is_dataclass(cls)
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = set(data) - names
    if unknown:
        raise ConfigError(f"{where}: unknown keys {sorted(unknown)} (known: {sorted(names)})")
    kwargs = {k: _convert(hints[k], v, f"{where}.{k}") for k, v in data.items()}
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise ConfigError(f"{where}: {exc}") from exc


def load_config(path: str | Path) -> MemoryConfig:
    """Load a :class:`MemoryConfig` from a YAML file (missing keys keep defaults)."""
    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read config {p}: {exc}") from exc
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise ConfigError(f"{p}: top level must be a mapping")
    return from_mapping(MemoryConfig, data, str(p))
