"""Replacement policies of the short-term memory.

Policies are stateless: the STM keeps per-entry bookkeeping (insertion tick,
last-access tick, access count) and a policy only ranks entries. That keeps
every policy persistable by saving the entries alone.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from memory_core.errors import ConfigError

__all__ = [
    "POLICIES",
    "AdaptivePolicy",
    "EntryMeta",
    "EvictionPolicy",
    "FIFOPolicy",
    "LFUPolicy",
    "LRUPolicy",
    "make_policy",
]


@dataclass(frozen=True, slots=True)
class EntryMeta:
    label: str
    inserted: int
    accessed: int
    count: int


class EvictionPolicy(Protocol):
    name: str

    def victim(
        self, entries: Mapping[str, EntryMeta], clock: int, relevance: Callable[[str], float]
    ) -> str:
        """The key to evict from a full memory."""
        ...


class FIFOPolicy:
    name = "fifo"

    def victim(
        self, entries: Mapping[str, EntryMeta], clock: int, relevance: Callable[[str], float]
    ) -> str:
        return min(entries, key=lambda k: entries[k].inserted)


class LRUPolicy:
    name = "lru"

    def victim(
        self, entries: Mapping[str, EntryMeta], clock: int, relevance: Callable[[str], float]
    ) -> str:
        return min(entries, key=lambda k: entries[k].accessed)


class LFUPolicy:
    name = "lfu"

    def victim(
        self, entries: Mapping[str, EntryMeta], clock: int, relevance: Callable[[str], float]
    ) -> str:
        # Ties broken by recency, so one-off entries do not pin forever.
        return min(entries, key=lambda k: (entries[k].count, entries[k].accessed))


class AdaptivePolicy:
    """Keeps what is recent, frequently used and relevant to the current task.

    score = w_r * exp(-age / capacity) + w_f * log1p(count) / log1p(max count)
            + w_t * relevance(label); the lowest score is evicted.
    """

    name = "adaptive"

    def __init__(self, recency: float = 1.0, frequency: float = 0.5, relevance: float = 2.0):
        self.weights = (recency, frequency, relevance)

    def victim(
        self, entries: Mapping[str, EntryMeta], clock: int, relevance: Callable[[str], float]
    ) -> str:
        w_r, w_f, w_t = self.weights
        horizon = max(len(entries), 1)
        norm = math.log1p(max(e.count for e in entries.values()))

        def score(k: str) -> tuple[float, int]:
            e = entries[k]
            s = w_r * math.exp(-(clock - e.accessed) / horizon)
            s += w_f * math.log1p(e.count) / norm if norm > 0 else 0.0
            s += w_t * relevance(e.label)
            return (s, e.accessed)

        return min(entries, key=score)


POLICIES: dict[str, type[FIFOPolicy] | type[LRUPolicy] | type[LFUPolicy] | type[AdaptivePolicy]] = {
    "fifo": FIFOPolicy,
    "lru": LRUPolicy,
    "lfu": LFUPolicy,
    "adaptive": AdaptivePolicy,
}


def make_policy(
    name: str, recency: float = 1.0, frequency: float = 0.5, relevance: float = 2.0
) -> EvictionPolicy:
    if name not in POLICIES:
        raise ConfigError(f"unknown STM policy {name!r}; choose one of {sorted(POLICIES)}")
    if name == "adaptive":
        return AdaptivePolicy(recency, frequency, relevance)
    return POLICIES[name]()
