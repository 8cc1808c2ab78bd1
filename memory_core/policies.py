"""Replacement policies of the short-term memory.

Policies are stateless: the STM keeps per-entry bookkeeping (insertion tick,
last-access tick, access count) and a policy only ranks entries. That keeps
every policy persistable by saving the entries alone.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from memory_core.errors import ConfigError, InvalidInputError
from memory_core.types import check_label

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

    def __post_init__(self) -> None:
        # Stored and transferred entries are ranked by these: a None or a string here
        # made every later ranking raise (a poisoned memory).
        check_label(self.label)
        for name in ("inserted", "accessed", "count"):
            value = getattr(self, name)
            if type(value) is not int or value < 0:
                raise InvalidInputError(
                    f"short-term entry's {name} must be an integer >= 0, got {value!r}"
                )


class EvictionPolicy(Protocol):
    name: str

    def victims(
        self,
        entries: Mapping[str, EntryMeta],
        clock: int,
        relevance: Callable[[str], float],
        n: int = 1,
        horizon: int | None = None,
    ) -> list[str]:
        """The ``n`` keys to evict, first evicted first. ``horizon`` is the memory's
        capacity (default: ``len(entries)``), the scale on which age is judged."""
        ...


class _RankedPolicy:
    """A policy that ranks every entry by a key; the lowest keys are evicted. The simple
    policies rank an entry by its own bookkeeping alone (:meth:`rank`)."""

    name = ""

    @staticmethod
    def rank(e: EntryMeta) -> Any:
        raise NotImplementedError

    def key(
        self,
        entries: Mapping[str, EntryMeta],
        clock: int,
        relevance: Callable[[str], float],
        horizon: int,
    ) -> Callable[[str], Any]:
        rank = self.rank
        return lambda k: rank(entries[k])

    def victims(
        self,
        entries: Mapping[str, EntryMeta],
        clock: int,
        relevance: Callable[[str], float],
        n: int = 1,
        horizon: int | None = None,
    ) -> list[str]:
        if n <= 0 or not entries:
            return []
        key = self.key(entries, clock, relevance, horizon or len(entries))
        if n == 1:
            return [min(entries, key=key)]
        return heapq.nsmallest(n, entries, key=key)


class FIFOPolicy(_RankedPolicy):
    name = "fifo"

    @staticmethod
    def rank(e: EntryMeta) -> Any:
        return e.inserted


class LRUPolicy(_RankedPolicy):
    name = "lru"

    @staticmethod
    def rank(e: EntryMeta) -> Any:
        return e.accessed


class LFUPolicy(_RankedPolicy):
    name = "lfu"

    @staticmethod
    def rank(e: EntryMeta) -> Any:
        # Ties broken by recency, so one-off entries do not pin forever.
        return (e.count, e.accessed)


class AdaptivePolicy(_RankedPolicy):
    """Keeps what is recent, frequently used and relevant to the current task.

    score = w_r * exp(-age / horizon) + w_f * log1p(count) / log1p(max count)
            + w_t * relevance(label); the lowest score is evicted.
    """

    name = "adaptive"

    def __init__(self, recency: float = 1.0, frequency: float = 0.5, relevance: float = 2.0):
        self.weights = (recency, frequency, relevance)

    def key(
        self,
        entries: Mapping[str, EntryMeta],
        clock: int,
        relevance: Callable[[str], float],
        horizon: int,
    ) -> Callable[[str], Any]:
        w_r, w_f, w_t = self.weights
        h = max(horizon, 1)
        norm = math.log1p(max(e.count for e in entries.values()))
        exp, log1p = math.exp, math.log1p

        def score(k: str) -> tuple[float, int]:
            e = entries[k]
            s = w_r * exp(-(clock - e.accessed) / h)
            s += w_f * log1p(e.count) / norm if norm > 0 else 0.0
            s += w_t * relevance(e.label)
            return (s, e.accessed)

        return score


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
