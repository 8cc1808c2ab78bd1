"""Short-term memory: a bounded working set of object positions and states.

A lookup is a *hit* when the remembered answer is still true of the world, a
*stale* answer when the object is remembered but has since moved or changed,
and a *miss* when it is not held. Callers that know the truth (a simulator,
a replayed dataset) pass it to :meth:`ShortTermMemory.lookup` to count these.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from memory_core.config import STMConfig
from memory_core.errors import InvalidInputError
from memory_core.policies import EntryMeta, EvictionPolicy, make_policy
from memory_core.types import (
    COORDINATE_LIMIT_M,
    StateValue,
    Vec3,
    check_bounded,
    check_finite,
    check_label,
    check_state,
    check_text,
)

__all__ = ["LookupOutcome", "ObjectState", "STMStats", "ShortTermMemory"]


@dataclass(frozen=True, slots=True)
class ObjectState:
    object_id: str
    label: str
    position: Vec3
    receptacle: str | None = None
    room: str | None = None
    state: Mapping[str, StateValue] = field(default_factory=dict)
    t: float = 0.0

    def __post_init__(self) -> None:
        check_text("object state's object_id", self.object_id, empty_ok=False)
        check_label(self.label)
        for name in ("receptacle", "room"):
            value = getattr(self, name)
            if value is not None:
                check_text(f"object state's {name}", value, empty_ok=False)
        object.__setattr__(self, "t", check_finite(f"time of {self.object_id!r}", (self.t,))[0])
        p = check_bounded(f"position of {self.object_id!r}", self.position, COORDINATE_LIMIT_M)
        if len(p) != 3:
            raise InvalidInputError(f"position of {self.object_id!r} must have 3 components")
        object.__setattr__(self, "position", (p[0], p[1], p[2]))
        object.__setattr__(self, "state", check_state(self.state))

    def agrees_with(self, truth: ObjectState, tolerance_m: float) -> bool:
        if math.dist(self.position, truth.position) > tolerance_m:
            return False
        if self.receptacle != truth.receptacle:
            return False
        return all(self.state.get(k) == v for k, v in truth.state.items())


class LookupOutcome(StrEnum):
    HIT = "hit"
    STALE = "stale"
    MISS = "miss"


@dataclass(frozen=True, slots=True)
class STMStats:
    lookups: int = 0
    hits: int = 0
    stale: int = 0
    misses: int = 0
    evictions: int = 0

    @property
    def hit_rate(self) -> float:
        return self.hits / self.lookups if self.lookups else 0.0

    @property
    def stale_rate(self) -> float:
        return self.stale / self.lookups if self.lookups else 0.0

    @property
    def miss_rate(self) -> float:
        """Every lookup not answered correctly: absent entries and stale answers."""
        return (self.misses + self.stale) / self.lookups if self.lookups else 0.0


def _touched(held: EntryMeta | None, label: str, clock: int) -> EntryMeta:
    """An entry's bookkeeping after it is inserted (``held`` None) or used at ``clock``."""
    if held is None:
        return EntryMeta(label, clock, clock, 1)
    return EntryMeta(label, held.inserted, clock, held.count + 1)


class ShortTermMemory:
    def __init__(self, config: STMConfig | None = None, policy: EvictionPolicy | None = None):
        self.config = config or STMConfig()
        self.policy = policy or make_policy(
            self.config.policy,
            self.config.recency_weight,
            self.config.frequency_weight,
            self.config.relevance_weight,
        )
        self._states: dict[str, ObjectState] = {}
        self._meta: dict[str, EntryMeta] = {}
        self._clock = 0
        self._task_labels: frozenset[str] = frozenset()
        self._counts = {"lookups": 0, "hits": 0, "stale": 0, "misses": 0, "evictions": 0}

    def __len__(self) -> int:
        return len(self._states)

    def __contains__(self, object_id: object) -> bool:
        return object_id in self._states

    @property
    def capacity(self) -> int:
        return self.config.capacity

    def set_task_context(self, labels: Iterable[str]) -> None:
        """Labels the current task is about; the adaptive policy keeps them longer."""
        self._task_labels = frozenset(labels)

    def _relevance(self, label: str) -> float:
        return 1.0 if label in self._task_labels else 0.0

    def observe(self, state: ObjectState) -> str | None:
        """Insert or refresh an entry; returns the id evicted to make room, if any."""
        if not isinstance(state, ObjectState):
            raise InvalidInputError(f"expected an ObjectState, got {type(state).__name__}")
        self._clock += 1
        meta = self._meta.get(state.object_id)
        evicted = None
        if meta is None and len(self._states) >= self.capacity:
            evicted = self.policy.victims(self._meta, self._clock, self._relevance)[0]
            self._drop(evicted)
            self._counts["evictions"] += 1
        self._meta[state.object_id] = _touched(meta, state.label, self._clock)
        self._states[state.object_id] = state
        return evicted

    def observe_many(
        self, seen: Sequence[tuple[str, str]], state_of: Callable[[str], ObjectState]
    ) -> list[str]:
        """Insert or refresh what one glance saw: ``(object_id, label)`` pairs in order.

        Each entry is touched at its own tick, then the memory evicts down to capacity
        once, ranking old and new entries together (a thing seen in this glance is not
        evicted to make room for another of the same glance before both are ranked).
        ``state_of`` is asked only for the entries that stay, so a batch far larger than
        the capacity costs its bookkeeping, not its states. All or nothing: if
        ``state_of`` fails, the memory is as it was. Returns the evicted ids that were
        held before this glance."""
        clock = self._clock
        meta = dict(self._meta)
        for object_id, label in seen:
            clock += 1
            meta[object_id] = _touched(meta.get(object_id), label, clock)
        over = len(meta) - self.capacity
        dropped = (
            self.policy.victims(meta, clock, self._relevance, n=over, horizon=self.capacity)
            if over > 0
            else []
        )
        for object_id in dropped:
            del meta[object_id]
        fresh: dict[str, ObjectState] = {}
        for object_id, _label in seen:
            if object_id in meta and object_id not in fresh:
                state = state_of(object_id)
                if state.object_id != object_id:
                    raise InvalidInputError(
                        f"state for {object_id!r} names {state.object_id!r} instead"
                    )
                fresh[object_id] = state
        evicted = [k for k in dropped if k in self._states]
        for object_id in evicted:
            del self._states[object_id]
        self._states.update(fresh)
        self._meta, self._clock = meta, clock
        self._counts["evictions"] += len(evicted)
        return evicted

    def _drop(self, object_id: str) -> None:
        del self._states[object_id]
        del self._meta[object_id]

    def forget(self, object_id: str) -> None:
        if object_id in self._states:
            self._drop(object_id)

    def peek(self, object_id: str) -> ObjectState | None:
        """Read without counting an access or a lookup."""
        return self._states.get(object_id)

    def lookup(
        self, object_id: str, truth: ObjectState | None = None
    ) -> tuple[ObjectState | None, LookupOutcome | None]:
        """Recall an object; with ``truth`` given, the answer is scored and counted."""
        self._clock += 1
        held = self._states.get(object_id)
        if held is not None:
            m = self._meta[object_id]
            self._meta[object_id] = _touched(m, m.label, self._clock)
        if truth is None:
            return held, None
        self._counts["lookups"] += 1
        if held is None:
            outcome = LookupOutcome.MISS
            self._counts["misses"] += 1
        elif held.agrees_with(truth, self.config.position_tolerance_m):
            outcome = LookupOutcome.HIT
            self._counts["hits"] += 1
        else:
            outcome = LookupOutcome.STALE
            self._counts["stale"] += 1
        return held, outcome

    def find_label(self, label: str) -> list[ObjectState]:
        return [s for s in self._states.values() if s.label == label]

    def recent(self, n: int | None = None) -> list[ObjectState]:
        """Entries, most recently touched first."""
        order = sorted(self._meta, key=lambda k: -self._meta[k].accessed)
        return [self._states[k] for k in order[:n]]

    @property
    def stats(self) -> STMStats:
        return STMStats(**self._counts)

    def reset_stats(self) -> None:
        self._counts = dict.fromkeys(self._counts, 0)

    # persistence: entries with bookkeeping reproduce every policy's decisions
    def to_records(self) -> tuple[list[tuple[ObjectState, EntryMeta]], dict[str, object]]:
        entries = [(self._states[k], self._meta[k]) for k in self._states]
        meta: dict[str, object] = {
            "clock": self._clock,
            "task_labels": sorted(self._task_labels),
            "policy": self.policy.name,
            **self._counts,
        }
        return entries, meta

    def load_records(
        self, entries: Iterable[tuple[ObjectState, EntryMeta]], meta: Mapping[str, object]
    ) -> None:
        entries = list(entries)
        states = {s.object_id: s for s, _m in entries}
        metas = {s.object_id: m for s, m in entries}
        if len(states) > self.capacity:
            raise InvalidInputError(
                f"stored STM holds {len(states)} entries, more than capacity {self.capacity}"
            )
        self._states, self._meta = states, metas
        clock = meta.get("clock", 0)
        self._clock = clock if isinstance(clock, int) else 0
        labels = meta.get("task_labels", [])
        self._task_labels = (
            frozenset(str(x) for x in labels) if isinstance(labels, list) else frozenset()
        )
        for k in self._counts:
            v = meta.get(k, 0)
            self._counts[k] = v if isinstance(v, int) else 0
