"""Episodic memory: an append-only, time-ordered log of events grouped in episodes.

Recall by time range, place, object, or similarity. Similarity uses sentence
embeddings when an embedder is configured and word overlap otherwise; each
hit brings its neighbours in the same episode along (temporal contiguity, as
in EM-LLM), so a recalled moment comes with what led to it and followed it.
"""

from __future__ import annotations

import bisect
import dataclasses
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from memory_core.config import EpisodicConfig
from memory_core.embedding import TextEmbedder, label_text
from memory_core.errors import DuplicateIdError, InvalidInputError
from memory_core.types import Episode, Event, check_finite

__all__ = ["EpisodicMemory", "Recall", "describe_event", "object_label"]

_WORD = re.compile(r"[a-z0-9]+")


def object_label(object_id: str) -> str:
    """Type of an object id: AI2-THOR ``Apple|+1.0|...``, ours ``Apple#3``."""
    return re.split(r"[|#]", object_id, maxsplit=1)[0]


def describe_event(e: Event) -> str:
    objs = ", ".join(label_text(object_label(o)) for o in e.objects)
    parts = [
        e.action.replace("_", " "),
        objs,
        f"in {label_text(e.room)}" if e.room else "",
        e.outcome,
        e.text,
    ]
    return " ".join(p for p in parts if p)


@dataclass(frozen=True, slots=True)
class Recall:
    event: Event
    score: float
    is_hit: bool
    """False for events recalled only as temporal neighbours of a hit."""


class EpisodicMemory:
    def __init__(self, config: EpisodicConfig | None = None, embedder: TextEmbedder | None = None):
        self.config = config or EpisodicConfig()
        self.embedder = embedder
        self._episodes: dict[str, Episode] = {}
        self._events: list[Event] = []
        self._times: list[float] = []
        self._by_object: dict[str, list[int]] = {}
        self._by_room: dict[str, list[int]] = {}
        self._by_episode: dict[str, list[int]] = {}
        self._vecs: list[np.ndarray | None] = []

    def __len__(self) -> int:
        return len(self._events)

    @property
    def episodes(self) -> list[Episode]:
        return list(self._episodes.values())

    def episode(self, episode_id: str) -> Episode:
        try:
            return self._episodes[episode_id]
        except KeyError:
            raise InvalidInputError(f"no episode {episode_id!r}") from None

    def begin_episode(
        self, episode_id: str, instruction: str = "", t: float = 0.0, scene: str = ""
    ) -> Episode:
        if episode_id in self._episodes:
            raise DuplicateIdError(f"episode {episode_id!r} already exists")
        ep = Episode(episode_id, instruction, t, None, None, scene)
        self._episodes[episode_id] = ep
        self._by_episode[episode_id] = []
        return ep

    def end_episode(self, episode_id: str, t: float, outcome: str) -> Episode:
        ep = self.episode(episode_id)
        check_finite("episode end", (t,))
        if t < ep.start_t:
            raise InvalidInputError(f"episode {episode_id!r} cannot end before it starts")
        ep = dataclasses.replace(ep, end_t=t, outcome=outcome)
        self._episodes[episode_id] = ep
        return ep

    def put_episode(self, episode: Episode) -> None:
        """Add an episode, or replace the one with its id (a copy ended it meanwhile)."""
        if episode.episode_id not in self._episodes:
            self._by_episode[episode.episode_id] = []
        self._episodes[episode.episode_id] = episode

    def record(self, event: Event) -> Event:
        """Append an event (its episode must exist; time never goes backwards)."""
        if not isinstance(event, Event):
            raise InvalidInputError(f"expected an Event, got {type(event).__name__}")
        if event.episode_id not in self._episodes:
            raise InvalidInputError(f"event for unknown episode {event.episode_id!r}")
        if self._times and event.t < self._times[-1]:
            raise InvalidInputError(
                f"event time {event.t} is before the last recorded event ({self._times[-1]})"
            )
        ev = dataclasses.replace(event, seq=len(self._events))
        self._append(ev)
        return ev

    def _append(self, ev: Event) -> None:
        self._events.append(ev)
        self._times.append(ev.t)
        self._vecs.append(None)
        self._by_episode[ev.episode_id].append(ev.seq)
        for key in {*ev.objects, *(object_label(o) for o in ev.objects)}:
            self._by_object.setdefault(key, []).append(ev.seq)
        if ev.room:
            self._by_room.setdefault(ev.room, []).append(ev.seq)

    # ------------------------------------------------------------------ recall
    def events(self, episode_id: str | None = None) -> list[Event]:
        if episode_id is None:
            return list(self._events)
        self.episode(episode_id)
        return [self._events[i] for i in self._by_episode[episode_id]]

    def events_since(self, n: int) -> list[Event]:
        """Events from the ``n``-th on (a commit's new ones), without copying the rest."""
        return self._events[n:]

    def by_time(self, t0: float, t1: float) -> list[Event]:
        lo = bisect.bisect_left(self._times, t0)
        hi = bisect.bisect_right(self._times, t1)
        return self._events[lo:hi]

    def by_object(self, object_or_label: str) -> list[Event]:
        return [self._events[i] for i in self._by_object.get(object_or_label, ())]

    def by_place(
        self, room: str | None = None, near: Sequence[float] | None = None, radius: float = 1.0
    ) -> list[Event]:
        """Events in a room, or whose agent pose was within ``radius`` of ``near``."""
        if room is None and near is None:
            raise InvalidInputError("by_place needs a room or a point")
        idx: Iterable[int] = self._by_room.get(room, ()) if room is not None else range(len(self))
        out = [self._events[i] for i in idx]
        if near is not None:
            p = check_finite("place point", near)
            out = [e for e in out if e.pose is not None and math.dist(e.pose.position, p) <= radius]
        return out

    def similar(self, text: str, k: int = 3, window: int | None = None) -> list[Recall]:
        """The ``k`` events most similar to ``text``, each with its neighbours, in time order."""
        if not self._events:
            return []
        scores = self._scores(text)
        w = self.config.contiguity_window if window is None else window
        hits = [int(i) for i in np.argsort(-scores, kind="stable")[:k] if scores[i] > 0.0]
        chosen: dict[int, Recall] = {}
        for i in hits:
            chosen[i] = Recall(self._events[i], float(scores[i]), True)
        for i in hits:
            ep = self._by_episode[self._events[i].episode_id]
            pos = bisect.bisect_left(ep, i)
            for j in ep[max(0, pos - w) : pos + w + 1]:
                chosen.setdefault(j, Recall(self._events[j], float(scores[j]), False))
        return [chosen[i] for i in sorted(chosen)]

    def _scores(self, text: str) -> np.ndarray:
        if self.embedder is not None:
            todo = [i for i, v in enumerate(self._vecs) if v is None]
            if todo:
                vecs = self.embedder.embed([describe_event(self._events[i]) for i in todo])
                for i, v in zip(todo, vecs, strict=True):
                    self._vecs[i] = v
            q = self.embedder.embed([text])[0]
            sims: np.ndarray = np.stack([v for v in self._vecs if v is not None]) @ q
            return sims
        query = set(_WORD.findall(label_text(text)))
        out = np.zeros(len(self._events))
        for i, e in enumerate(self._events):
            words = set(_WORD.findall(describe_event(e).lower()))
            union = len(query | words)
            out[i] = len(query & words) / union if union else 0.0
        return out

    # ------------------------------------------------------------------ persistence
    def to_records(self) -> tuple[list[Episode], list[Event]]:
        return list(self._episodes.values()), list(self._events)

    def load_records(self, episodes: Iterable[Episode], events: Iterable[Event]) -> None:
        fresh = EpisodicMemory(self.config, self.embedder)
        for ep in episodes:
            if ep.episode_id in fresh._episodes:
                raise DuplicateIdError(f"episode {ep.episode_id!r} stored twice")
            fresh._episodes[ep.episode_id] = ep
            fresh._by_episode[ep.episode_id] = []
        for ev in sorted(events, key=lambda e: e.seq):
            if ev.seq != len(fresh._events) or ev.episode_id not in fresh._episodes:
                raise InvalidInputError(f"stored event {ev.seq} is out of sequence or orphaned")
            fresh._append(ev)
        self.__dict__.update(fresh.__dict__)
