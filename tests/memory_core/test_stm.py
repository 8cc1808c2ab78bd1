"""Short-term memory: policies, hit/stale/miss accounting, and the rearrangement replay."""

from __future__ import annotations

from pathlib import Path

import pytest

from memory_core import ConfigError, LookupOutcome, ObjectState, ShortTermMemory, STMConfig
from memory_core.workloads import load_rearrangement, rearrangement_ops, replay

REARRANGE = Path(__file__).resolve().parents[3] / "shared/data/ai2thor_rearrangement"


def _s(i: str, x: float = 0.0, label: str = "Mug", **state: bool) -> ObjectState:
    return ObjectState(i, label, (x, 0.0, 0.0), state=state)


@pytest.mark.parametrize(
    ("policy", "evicted"),
    [("fifo", "a"), ("lru", "b"), ("lfu", "c"), ("adaptive", "b")],
)
def test_policies_pick_their_victims(policy: str, evicted: str) -> None:
    stm = ShortTermMemory(STMConfig(capacity=3, policy=policy))
    stm.set_task_context(["Apple"])
    stm.observe(_s("a", label="Apple"))
    stm.observe(_s("b"))
    stm.observe(_s("c"))
    for _ in range(3):  # a: used often and task-relevant; b: not touched since insertion
        stm.lookup("a")
    stm.lookup("c")
    stm.lookup("b") if policy == "lfu" else None
    stm.lookup("b") if policy == "lfu" else None
    stm.lookup("a")
    assert stm.observe(_s("d")) == evicted
    assert len(stm) == 3 and evicted not in stm and "d" in stm


@pytest.mark.parametrize("policy", ["fifo", "lru", "lfu", "adaptive"])
def test_one_glance_is_ranked_once(policy: str) -> None:
    """A batch far larger than the capacity keeps what the policy ranks highest, asks
    for the states of those only, and counts as evicted only what was held before."""
    stm = ShortTermMemory(STMConfig(capacity=4, policy=policy))
    stm.set_task_context(["Apple"])
    for key in ("old1", "old2"):
        stm.observe(_s(key))
    for _ in range(5):
        stm.lookup("old1")
    asked: list[str] = []

    def state_of(key: str) -> ObjectState:
        asked.append(key)
        return _s(key, label="Apple" if key == "n0" else "Mug")

    seen = [(f"n{i}", "Apple" if i == 0 else "Mug") for i in range(100)]
    evicted = stm.observe_many(seen, state_of)
    kept = {e.object_id for e in stm.recent()}
    assert len(stm) == 4 and sorted(asked) == sorted(kept - {"old1", "old2"})
    assert set(evicted) == {"old1", "old2"} - kept and stm.stats.evictions == len(evicted)
    if policy in ("lru", "fifo"):
        assert kept == {"n96", "n97", "n98", "n99"}
    if policy == "adaptive":  # task-relevant: kept although first of the glance
        assert "n0" in kept and "old2" not in kept
    if policy == "lfu":  # used five times
        assert "old1" in kept


def test_one_glance_is_all_or_nothing() -> None:
    stm = ShortTermMemory(STMConfig(capacity=3, policy="lru"))
    stm.observe(_s("a"))
    before = (stm.recent(), stm.to_records())

    def state_of(key: str) -> ObjectState:
        if key == "c":
            raise ValueError("no state")
        return _s(key)

    with pytest.raises(ValueError):
        stm.observe_many([("b", "Mug"), ("c", "Mug"), ("d", "Mug")], state_of)
    assert (stm.recent(), stm.to_records()) == before


def test_hit_stale_miss_accounting() -> None:
    stm = ShortTermMemory(STMConfig(capacity=2, policy="lru", position_tolerance_m=0.05))
    stm.observe(_s("mug", 1.0, isDirty=True))
    assert stm.lookup("mug", truth=_s("mug", 1.01, isDirty=True))[1] == LookupOutcome.HIT
    assert stm.lookup("mug", truth=_s("mug", 2.0, isDirty=True))[1] == LookupOutcome.STALE
    assert stm.lookup("mug", truth=_s("mug", 1.0, isDirty=False))[1] == LookupOutcome.STALE
    assert stm.lookup("cup", truth=_s("cup"))[1] == LookupOutcome.MISS
    held, outcome = stm.lookup("mug")
    assert held is not None and outcome is None
    s = stm.stats
    assert (s.lookups, s.hits, s.stale, s.misses) == (4, 1, 2, 1)
    assert s.hit_rate == 0.25 and s.stale_rate == 0.5 and s.miss_rate == 0.75


def test_bad_config_and_input() -> None:
    with pytest.raises(ConfigError, match="unknown STM policy"):
        ShortTermMemory(STMConfig(policy="random"))
    with pytest.raises(ConfigError, match="capacity"):
        STMConfig(capacity=0)
    stm = ShortTermMemory()
    with pytest.raises(ValueError, match="finite"):
        stm.observe(ObjectState("x", "Mug", (float("nan"), 0.0, 0.0)))
    assert len(stm) == 0


def test_rearrangement_replay_per_policy() -> None:
    """All 1,000 val episodes through STM; rates printed per policy and checked for consistency."""
    episodes, changes = load_rearrangement(REARRANGE)
    assert sum(len(v) for v in episodes.values()) == 1000
    ops = list(rearrangement_ops(episodes, changes))
    lookups = [o for o in ops if o.kind == "lookup"]
    n_changed = sum(len(c["moved_objects"]) + len(c["openness_changes"]) for c in changes)
    assert len(lookups) >= n_changed
    # With room for everything, an answer can only be stale or hit for objects seen before,
    # and every lookup of an object never observed in its scene is a miss.
    unbounded = replay(ops, lambda: ShortTermMemory(STMConfig(capacity=10_000)))
    seen: set[tuple[str, str]] = set()
    never = 0
    for o in ops:
        assert o.state is not None or o.kind == "context"
        if o.kind == "observe" and o.state:
            seen.add((o.scene, o.state.object_id))
        elif o.kind == "lookup" and o.state and (o.scene, o.state.object_id) not in seen:
            never += 1
    assert unbounded.misses == never and unbounded.evictions == 0
    print(f"\nrearrangement STM replay: {len(lookups)} lookups over 1000 episodes")
    print(f"{'policy':>9} {'cap':>4} {'hit':>6} {'stale':>6} {'miss':>6}")
    for cap in (8, 16):
        results = {}
        for policy in ("fifo", "lru", "lfu", "adaptive"):
            s = replay(
                ops, lambda p=policy, c=cap: ShortTermMemory(STMConfig(capacity=c, policy=p))
            )
            assert s.lookups == len(lookups) and s.hits + s.stale + s.misses == s.lookups
            assert s.evictions > 0
            # A bounded memory can never answer more than the unbounded one.
            assert s.hits + s.stale <= unbounded.hits + unbounded.stale
            results[policy] = s
            miss = s.misses / s.lookups
            print(f"{policy:>9} {cap:>4} {s.hit_rate:6.3f} {s.stale_rate:6.3f} {miss:6.3f}")
        assert len({(r.hits, r.stale) for r in results.values()}) > 1, "policies should differ"
    print(f"{'unbounded':>9} {'-':>4} {unbounded.hit_rate:6.3f} {unbounded.stale_rate:6.3f}")
