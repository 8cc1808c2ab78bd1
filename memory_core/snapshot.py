"""Plain-data snapshot of all three memories: what a store saves and loads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from memory_core.policies import EntryMeta
from memory_core.stm import ObjectState
from memory_core.types import Episode, Event, SceneEdge, SceneNode

__all__ = ["ChangeSet", "MemorySnapshot"]


@dataclass(frozen=True, slots=True)
class MemorySnapshot:
    nodes: Sequence[SceneNode] = ()
    """A tuple, or a sequence that builds each node as it is read (see
    :mod:`memory_core.cold`): loading and saving a large graph never build them all."""
    edges: Sequence[SceneEdge] = ()
    graph_meta: dict[str, Any] = field(default_factory=dict)
    stm_entries: tuple[tuple[ObjectState, EntryMeta], ...] = ()
    stm_meta: dict[str, Any] = field(default_factory=dict)
    episodes: tuple[Episode, ...] = ()
    events: tuple[Event, ...] = ()
    quarantined: tuple[tuple[str, str], ...] = ()
    """``(node id, reason)`` of stored nodes that could not be loaded (implausible or
    malformed values): left out of the memory, kept untouched in the store."""


@dataclass(frozen=True, slots=True)
class ChangeSet:
    """One atomic batch of incremental writes.

    Every edge touching a node listed in ``edge_nodes`` is replaced by the
    ``edges`` given (which must hold all edges incident to those nodes);
    ``stm_entries``, when not None, replaces the STM.
    """

    nodes: tuple[SceneNode, ...] = ()
    removed_nodes: tuple[str, ...] = ()
    edge_nodes: tuple[str, ...] = ()
    edges: tuple[SceneEdge, ...] = ()
    episodes: tuple[Episode, ...] = ()
    events: tuple[Event, ...] = ()
    graph_meta: dict[str, Any] | None = None
    stm_entries: tuple[tuple[ObjectState, EntryMeta], ...] | None = None
    stm_meta: dict[str, Any] | None = None
