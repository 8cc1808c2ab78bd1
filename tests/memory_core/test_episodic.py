"""Episodic memory: append-only log, recall by time/place/object/similarity."""

from __future__ import annotations

import pytest

from memory_core import DuplicateIdError, EpisodicMemory, Event, InvalidInputError, Pose


def _mem() -> EpisodicMemory:
    em = EpisodicMemory()
    em.begin_episode("ep1", "make coffee", t=0.0, scene="FloorPlan1")
    for i, (action, objs, room, text) in enumerate(
        [
            ("navigate", ("CounterTop|1",), "kitchen", "went to the counter"),
            ("pickup", ("Mug|+0.5|+0.9|+1.0",), "kitchen", "picked up the mug"),
            ("put", ("Mug|+0.5|+0.9|+1.0", "CoffeeMachine|2"), "kitchen", "mug in coffee machine"),
            ("toggle_on", ("CoffeeMachine|2",), "kitchen", "started brewing"),
        ]
    ):
        em.record(
            Event(float(i), "ep1", action, "success", objs, room, Pose((float(i), 0.0, 0.0)), text)
        )
    em.end_episode("ep1", 4.0, "success")
    em.begin_episode("ep2", "read a book", t=10.0)
    em.record(Event(10.0, "ep2", "navigate", "success", ("Sofa|3",), "living", Pose((5.0, 0, 0))))
    em.record(
        Event(
            11.0,
            "ep2",
            "pickup",
            "failure",
            ("Book|4",),
            "living",
            Pose((5.0, 0, 1.0)),
            "the book was not there",
        )
    )
    return em


def test_recall_by_time_place_object() -> None:
    em = _mem()
    assert [e.seq for e in em.by_time(1.0, 3.0)] == [1, 2, 3]
    assert [e.seq for e in em.by_place(room="living")] == [4, 5]
    assert [e.seq for e in em.by_place(near=(0.0, 0.0, 0.0), radius=1.5)] == [0, 1]
    assert [e.seq for e in em.by_object("Mug")] == [1, 2]
    assert [e.seq for e in em.by_object("CoffeeMachine|2")] == [2, 3]
    assert em.episode("ep1").outcome == "success"
    assert [e.seq for e in em.events("ep2")] == [4, 5]


def test_similarity_brings_temporal_neighbours_from_the_same_episode() -> None:
    em = _mem()
    recalled = em.similar("where did I put the mug", k=1, window=1)
    hits = [r for r in recalled if r.is_hit]
    assert len(hits) == 1 and hits[0].event.action in ("put", "pickup")
    seqs = [r.event.seq for r in recalled]
    assert seqs == sorted(seqs)
    assert hits[0].event.seq - 1 in seqs and hits[0].event.seq + 1 in seqs
    assert all(r.event.episode_id == "ep1" for r in recalled)
    # The last event of an episode gets no neighbour from the next episode.
    last = em.similar("brewing coffee machine started", k=1, window=1)
    assert [r.event.seq for r in last] == [2, 3]


def test_append_only_and_bad_input() -> None:
    em = _mem()
    with pytest.raises(InvalidInputError, match="before the last"):
        em.record(Event(5.0, "ep2", "look"))
    with pytest.raises(InvalidInputError, match="unknown episode"):
        em.record(Event(20.0, "nope", "look"))
    with pytest.raises(DuplicateIdError):
        em.begin_episode("ep1")
    with pytest.raises(InvalidInputError, match="finite"):
        Event(float("inf"), "ep2", "look")
    with pytest.raises(InvalidInputError, match="action"):
        Event(20.0, "ep2", "")
    assert len(em) == 6
