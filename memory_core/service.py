"""The memory as a long-running service: what the ROS ``memory_node`` wraps.

One :class:`Memory` backed by a SQLite store: loaded at start (so a restarted service
resumes), every change committed before it is acknowledged, and a revision number that
increases with every change. Planners get a snapshot, work on a copy during a task and
commit their change set back (:mod:`memory_core.transfer`); perception's observations
are fused directly. Queries are answered in the memory's own convention; the caller
converts.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from memory_core.errors import InvalidInputError
from memory_core.geometry import ViewVolume
from memory_core.memory import Memory
from memory_core.snapshot import ChangeSet
from memory_core.store import open_store
from memory_core.transfer import changes_from_json, snapshot_to_json
from memory_core.types import UNKNOWN_LABEL, Event, Layer, ObjectObservation, Relation, SceneNode

__all__ = ["QUERY_KINDS", "MemoryService", "QueryAnswer"]

_log = logging.getLogger(__name__)

QUERY_KINDS = ("label", "near", "in", "room", "meaning", "context", "events", "unknown")
_THINGS = (Layer.OBJECT, Layer.RECEPTACLE)


@dataclass(frozen=True, slots=True)
class QueryAnswer:
    nodes: tuple[SceneNode, ...] = ()
    events: tuple[Event, ...] = ()
    context: str = ""


class MemoryService:
    def __init__(self, memory: Memory, store: str | Path, robot: str = "robot") -> None:
        """``store``: a SQLite path or a store URL (``sqlite:///…``, ``postgresql://…``:
        a fleet's memory, written as ``robot``; see :func:`memory_core.store.open_store`)."""
        self.memory = memory
        self.store = open_store(store, robot)
        try:
            snapshot = self.store.load()
            if snapshot.nodes or snapshot.events:
                memory.restore(snapshot)
                _log.info("resumed %s: %d nodes", store, len(memory.graph))
                for node_id, why in snapshot.quarantined:
                    _log.warning("stored node %r quarantined (kept in the store): %s", node_id, why)
            else:
                memory.save(self.store)
        except BaseException:
            self.store.close()
            raise
        self.revision = 0

    def close(self) -> None:
        self.store.close()

    def screen(
        self, batch: Sequence[ObjectObservation], frame: str | None = None
    ) -> tuple[list[ObjectObservation], list[str]]:
        """Split a batch from a topic into what this memory can take and one line per
        observation it refuses (in another frame than ``frame``, implausible coordinates),
        so one bad observation does not cost the others."""
        accepted: list[ObjectObservation] = []
        refused: list[str] = []
        for i, obs in enumerate(batch):
            if frame is not None and obs.source_frame != frame:
                refused.append(
                    f"observation {i} ({obs.label!r}) is in frame {obs.source_frame!r}, "
                    f"not the memory's frame {frame!r} (no transform is applied)"
                )
                continue
            try:
                self.memory.graph.check_plausible(
                    f"observation {i} ({obs.label!r})", obs.position, obs.box
                )
            except InvalidInputError as exc:
                refused.append(str(exc))
                continue
            accepted.append(obs)
        return accepted, refused

    def observe(
        self,
        batch: Sequence[ObjectObservation],
        t: float | None = None,
        view: ViewVolume | None = None,
    ) -> ChangeSet:
        """Fuse observations and persist what changed; returns the committed changes."""
        self.memory.observe(batch, t=t, view=view)
        changes = self.memory.commit(self.store)
        self.revision += 1
        return changes

    def snapshot_json(self) -> tuple[int, str]:
        return self.revision, snapshot_to_json(self.memory.snapshot())

    def commit_json(self, base_revision: int, changes_json: str) -> tuple[ChangeSet, str]:
        """Merge a planner's change set; returns it and a note when the memory had moved
        on since ``base_revision`` (the merge then kept both sides' nodes). On bad input
        nothing changes and :class:`InvalidInputError` says why."""
        changes = changes_from_json(changes_json)
        written = self.memory.apply_changes(changes)  # validates before it changes anything
        try:
            self.store.write(written)
        except BaseException:
            self.memory.load(self.store)  # the store is the truth (a slow path, for failures)
            raise
        self.memory.mark_committed(written)
        note = (
            ""
            if base_revision == self.revision
            else f"merged over {self.revision - base_revision} newer change(s)"
        )
        self.revision += 1
        return written, note

    def query(
        self,
        kind: str,
        text: str = "",
        point: tuple[float, float, float] = (0.0, 0.0, 0.0),
        radius: float = 0.0,
        k: int = 0,
    ) -> QueryAnswer:
        graph, k = self.memory.graph, k or 10
        if kind == "label":
            return QueryAnswer(tuple(graph.find_by_label(text)))
        if kind == "near":
            hits = graph.within_radius(point, radius) if radius > 0 else graph.nearest(point, k)
            return QueryAnswer(tuple(n for _d, n in hits[:k]))
        if kind == "in":
            self._known(text)
            return QueryAnswer(tuple(graph.contents(text)))
        if kind == "room":
            self._known(text)
            return QueryAnswer(tuple(graph.in_room(text, _THINGS)))
        if kind == "meaning":
            return QueryAnswer(tuple(n for _s, n in graph.search(text, k)))
        if kind == "context":
            return QueryAnswer(context=self.memory.context(text).text)
        if kind == "unknown":
            # Things seen but not named (segments found by geometry), on/in/near ``text``
            # or anywhere when it is empty.
            if not text:
                return QueryAnswer(tuple(graph.find_by_label(UNKNOWN_LABEL)[:k]))
            self._known(text)
            found = graph.contents(text, label=UNKNOWN_LABEL) + graph.contents(
                text, Relation.NEAR, UNKNOWN_LABEL
            )
            return QueryAnswer(tuple({n.id: n for n in found}.values())[:k])
        if kind == "events":
            events = self.memory.episodic.by_object(text) if text else self.memory.episodic.events()
            return QueryAnswer(events=tuple(events[-k:]))
        raise InvalidInputError(f"unknown query kind {kind!r} (known: {', '.join(QUERY_KINDS)})")

    def _known(self, node_id: str) -> None:
        if node_id not in self.memory.graph:
            raise InvalidInputError(f"no node {node_id!r} in memory")
