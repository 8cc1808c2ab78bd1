"""Soak benchmark: episodes back to back in ONE long-lived memory, committed to ONE SQLite
store after each episode (as ``loci run --store`` does); memory and latency sampled to see
whether they stay flat over an hour-equivalent of use.

The episodes cycle over the ``lifelong`` and ``household`` suites (190 tasks on 44 iTHOR
floor plans, in suite order; a lifelong sequence's later tasks carry its world over) with
the symbolic planner on the built-in simulator (ground-truth sensing, navigation by poses,
CPU only, no LLM), until ``--minutes`` of wall clock (default 10) or ``--episodes`` have
passed, whichever comes first. The memory is never reset: its scene graph holds every floor
plan it has visited (their coordinates overlap: another floor plan's things are believed
where this one has none, which fails most household tasks; ``--scene
FloorPlan21`` keeps to one house's 8 tasks), its episodic log grows by every skill (by
design: a lifelong memory forgets no episode), its short-term memory is bounded.

Sampled per episode: process RSS, wall and CPU time (CPU time is what other jobs on the
machine do not inflate), skills, the median time between skills (plan + act + sense +
record), the median ``Memory.observe`` call, the commit's time (collecting the change set,
writing it), the store's size, scene-graph nodes, episodic events, STM entries. Every
``--gc-every`` episodes: ``gc.collect()``, then RSS and ``len(gc.get_objects())`` (no
tracemalloc: too slow for a soak); at the start, after the first pass over the tasks and at
the end, a census of object types, the episodic log's size (``sys.getsizeof`` over it) and
pymalloc's arenas. Figures: first- vs last-decile medians, least-squares slopes per 100
episodes after a warm-up (the first 10%), latency normalised by each task's median (the task
mix taken out) and the same task's first and last visit, the RSS growth that the episodic
log does not explain, what a commit with nothing new costs at the end and without which part.
Prints readable lines, a verdict on flatness (figures only: benchmarks measure, tests
assert) and, as the last line, one JSON object.

Run: ``.venv/bin/python benchmarks/soak_bench.py --minutes 10`` (``--episodes 2000`` to stop
at a count; ``--minutes 1`` for a smoke; ``--scene FloorPlan21`` for one house).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from embodiment.skills import Skill, StepResult  # noqa: E402
from loci.bench import reason_class  # noqa: E402
from loci.episodes import run_in_world  # noqa: E402
from memory_core import LociError, Memory, SQLiteStore  # noqa: E402
from memory_core.store import codec  # noqa: E402
from memory_core.update import IngestReport  # noqa: E402
from planners.observe import new_memory  # noqa: E402
from sim.episode import apply_init, make_world  # noqa: E402
from sim.registry import SceneRegistry  # noqa: E402
from sim.suites import load_suite  # noqa: E402
from sim.tasks import Task  # noqa: E402
from sim.world import World  # noqa: E402

DATA = REPO.parent / "shared" / "data"
SUITES = ("lifelong", "household")
MIB = 1024.0 * 1024.0
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def rss_bytes() -> int:
    """Resident set size now (not the peak): /proc/self/statm, else psutil, else the peak."""
    try:
        return int(Path("/proc/self/statm").read_text().split()[1]) * _PAGE
    except OSError:
        pass
    try:
        import psutil  # type: ignore[import-untyped]

        return int(psutil.Process().memory_info().rss)
    except ImportError:
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # peak, KiB on Linux


def open_fds() -> int:
    try:
        return sum(1 for _ in Path("/proc/self/fd").iterdir())
    except OSError:
        return -1


def pymalloc_bytes() -> tuple[int, int] | None:
    """(bytes in pymalloc's allocated blocks, bytes of its arenas) from
    ``sys._debugmallocstats``, which writes to the C stderr; None where it says neither."""
    stats = getattr(sys, "_debugmallocstats", None)
    if stats is None:
        return None
    sys.stderr.flush()
    with tempfile.TemporaryFile() as f:
        saved = os.dup(2)
        try:
            os.dup2(f.fileno(), 2)
            stats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        f.seek(0)
        text = f.read().decode(errors="replace")
    blocks = re.search(r"# bytes in allocated blocks\s*=\s*([\d,]+)", text)
    arenas = re.search(r"\d+ arenas \* \d+ bytes/arena\s*=\s*([\d,]+)", text)
    if blocks is None or arenas is None:
        return None
    return int(blocks.group(1).replace(",", "")), int(arenas.group(1).replace(",", ""))


def file_mib(path: Path) -> float:
    return path.stat().st_size / MIB if path.exists() else 0.0


def deep_bytes(roots: Sequence[object]) -> int:
    """``sys.getsizeof`` over everything reachable through containers, dataclass slots and
    ``__dict__`` from ``roots``, each object once: what a structure holds, roughly."""
    seen: set[int] = set()
    stack = list(roots)
    total = 0
    while stack:
        o = stack.pop()
        if id(o) in seen or isinstance(o, type):
            continue
        seen.add(id(o))
        total += sys.getsizeof(o)
        if isinstance(o, dict):
            stack.extend(o.keys())
            stack.extend(o.values())
        elif isinstance(o, list | tuple | set | frozenset):
            stack.extend(o)
        elif not isinstance(o, str | bytes | int | float | bool | type(None)):
            for name in getattr(type(o), "__slots__", ()):
                if hasattr(o, name):
                    stack.append(getattr(o, name))
            if hasattr(o, "__dict__"):
                stack.append(o.__dict__)
    return total


def episodic_bytes(memory: Memory) -> int:
    """The episodic log with its indexes (its config and embedder left out)."""
    ep = memory.episodic
    return deep_bytes([v for k, v in vars(ep).items() if k not in ("config", "embedder")])


@dataclass(slots=True)
class Sample:
    """One episode's figures."""

    n: int
    task_id: str
    success: bool
    error: str
    wall_s: float
    cpu_s: float
    """This process's CPU time over the episode: what other jobs on the machine do not
    inflate (wall time does)."""
    skills: int
    skill_ms_p50: float
    observe_ms_p50: float
    commit_ms: float
    """All of ``Memory.commit``: collecting the change set, writing it, marking it."""
    collect_ms: float
    write_ms: float
    committed_episodes: int
    """Episode rows the commit wrote."""
    committed_events: int
    committed_nodes: int
    rss_mib: float
    store_mib: float
    """The database file, without its write-ahead log."""
    wal_mib: float
    nodes: int
    edges: int
    events: int
    stm: int

    @property
    def ms_per_skill(self) -> float:
        return self.wall_s * 1e3 / max(self.skills, 1)

    @property
    def cpu_ms_per_skill(self) -> float:
        return self.cpu_s * 1e3 / max(self.skills, 1)


@dataclass(slots=True)
class Checkpoint:
    """After ``gc.collect()``, every ``--gc-every`` episodes."""

    n: int
    rss_mib: float
    gc_objects: int
    fds: int
    gc_ms: float
    events: int
    episodic_mib: float | None = None
    pymalloc: tuple[int, int] | None = None


@dataclass(slots=True)
class Timers:
    """Cheap per-episode latencies: the time between skills (from the loop's ``on_step``)
    and each ``Memory.observe`` call (the long-lived memory's method, wrapped)."""

    last: float = 0.0
    skills: list[float] = field(default_factory=list)
    observes: list[float] = field(default_factory=list)

    def start(self) -> None:
        self.last = time.perf_counter()
        self.skills.clear()
        self.observes.clear()

    def on_step(self, _skill: Skill, _result: StepResult) -> None:
        now = time.perf_counter()
        self.skills.append(now - self.last)
        self.last = now

    def wrap_observe(self, memory: Memory) -> None:
        inner = memory.observe
        observes = self.observes

        def observe(*args: Any, **kwargs: Any) -> IngestReport:
            t0 = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                observes.append(time.perf_counter() - t0)

        setattr(memory, "observe", observe)  # noqa: B010 (an instance attribute over the method)


def _med_ms(values: Sequence[float]) -> float:
    return statistics.median(values) * 1e3 if values else 0.0


def slope_per_100(xs: Sequence[float], ys: Sequence[float]) -> float:
    """Least-squares slope of ``ys`` over ``xs`` (episode numbers), per 100 episodes."""
    if len(xs) < 3:
        return 0.0
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    if sxx == 0:
        return 0.0
    return 100.0 * sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx


def type_census() -> Counter[str]:
    return Counter(type(o).__name__ for o in gc.get_objects())


class Soak:
    def __init__(self, registry: SceneRegistry, tasks: list[Task], store_path: Path) -> None:
        self.registry, self.tasks = registry, tasks
        self.store_path = store_path
        self.store = SQLiteStore(store_path)
        self.memory = new_memory()
        self.memory.save(self.store)  # an empty store, as a first ``loci run --store`` finds
        self.timers = Timers()
        self.timers.wrap_observe(self.memory)
        self.world: World | None = None
        self.samples: list[Sample] = []
        self.checkpoints: list[Checkpoint] = []
        self.censuses: list[tuple[int, Counter[str]]] = []
        self.rejected: Counter[str] = Counter()
        self.t0 = time.perf_counter()
        self.first_pass_ids: set[str] | None = None
        self.cycle_ends: list[tuple[int, int, int]] = []
        """(episodes, nodes, events) when each pass over the tasks ended."""

    def episode(self, n: int) -> None:
        task = self.tasks[n % len(self.tasks)]
        try:
            if self.world is None or not task.sequence or task.sequence_index == 0:
                self.world = make_world(task, self.registry)
            else:
                apply_init(self.world, task)
        except LociError as exc:
            self.rejected[type(exc).__name__] += 1
            self.world = None
            return
        timers, memory = self.timers, self.memory
        timers.start()
        t0, c0 = time.perf_counter(), time.process_time()
        try:
            result = run_in_world(
                self.world, memory, task, self.registry, on_step=timers.on_step, sensing="gt"
            )
            success, error, skills = result.success, result.error, result.skills
        except LociError as exc:  # said and counted; the soak goes on with the same memory
            self.rejected[type(exc).__name__] += 1
            success, error, skills = False, f"raised {type(exc).__name__}: {exc}", 0
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        # Memory.commit's three steps, timed apart.
        t1 = time.perf_counter()
        changes = memory.pending_changes()
        t2 = time.perf_counter()
        self.store.write(changes)
        t3 = time.perf_counter()
        memory.mark_committed(changes)
        commit_ms = (time.perf_counter() - t1) * 1e3
        self.samples.append(
            Sample(
                n=n,
                task_id=task.task_id,
                success=success,
                error=error,
                wall_s=wall,
                cpu_s=cpu,
                skills=skills,
                skill_ms_p50=_med_ms(timers.skills),
                observe_ms_p50=_med_ms(timers.observes),
                commit_ms=commit_ms,
                collect_ms=(t2 - t1) * 1e3,
                write_ms=(t3 - t2) * 1e3,
                committed_episodes=len(changes.episodes),
                committed_events=len(changes.events),
                committed_nodes=len(changes.nodes),
                rss_mib=rss_bytes() / MIB,
                store_mib=file_mib(self.store_path),
                wal_mib=file_mib(self.store_path.with_name(self.store_path.name + "-wal")),
                nodes=len(memory.graph),
                edges=memory.graph.count_edges(),
                events=len(memory.episodic),
                stm=len(memory.stm),
            )
        )

    def checkpoint(self, n: int, census: bool = False) -> None:
        t0 = time.perf_counter()
        gc.collect()
        gc_ms = (time.perf_counter() - t0) * 1e3
        rss = rss_bytes() / MIB
        point = Checkpoint(
            n, rss, len(gc.get_objects()), open_fds(), gc_ms, len(self.memory.episodic)
        )
        if census:
            self.censuses.append((n, type_census()))
            point.episodic_mib = episodic_bytes(self.memory) / MIB
            point.pymalloc = pymalloc_bytes()
        self.checkpoints.append(point)

    def run(
        self, deadline: float, max_episodes: int, gc_every: int, say: Callable[[str], None]
    ) -> None:
        """Episodes until the deadline or ``max_episodes``; a census of object types (and the
        episodic log's size) at the start, after the first pass over the tasks (every
        scene seen once: the warm-up of what is learnt) and at the end."""
        self.checkpoint(0, census=True)
        n = 0
        while n < max_episodes and time.perf_counter() < deadline:
            self.episode(n)
            n += 1
            end_of_pass = n % len(self.tasks) == 0
            if end_of_pass:
                self.cycle_ends.append((n, len(self.memory.graph), len(self.memory.episodic)))
                if n == len(self.tasks):
                    self.first_pass_ids = {node.id for node in self.memory.graph.iter_nodes()}
            if n % gc_every == 0 or n == len(self.tasks):
                self.checkpoint(n, census=n == len(self.tasks))
            if n % 100 == 0:
                s = self.samples[-1]
                say(
                    f"  {n:5d} episodes {time.perf_counter() - self.t0:6.0f} s  rss "
                    f"{s.rss_mib:7.1f} MiB  nodes {s.nodes:5d}  events {s.events:7d}  "
                    f"{s.ms_per_skill:5.2f} ms/skill  commit {s.commit_ms:6.2f} ms "
                    f"({s.committed_episodes} episode rows)  store {s.store_mib:6.1f} MiB"
                )
        if not self.checkpoints or self.checkpoints[-1].n != n:
            self.checkpoint(n, census=True)
        elif len(self.censuses) < 2 or self.censuses[-1][0] != n:
            self.checkpoints.pop()
            self.checkpoint(n, census=True)

    def commit_anatomy(self, reps: int = 7) -> dict[str, float]:
        """What a commit with nothing new costs now (every commit pays it), and without each
        part it always carries: median ms of rewriting the same rows (idempotent)."""
        idle = self.memory.pending_changes()
        variants = {
            "idle_commit_write_ms": idle,
            "without_episode_rows_ms": replace(idle, episodes=()),
            "without_graph_meta_ms": replace(idle, graph_meta=None),
            "without_stm_ms": replace(idle, stm_entries=None, stm_meta=None),
        }
        out: dict[str, float] = {}
        for name, changes in variants.items():
            times = []
            for _ in range(reps):
                t0 = time.perf_counter()
                self.store.write(changes)
                times.append(time.perf_counter() - t0)
            out[name] = round(statistics.median(times) * 1e3, 3)
        t0 = time.perf_counter()
        for _ in range(reps):
            self.memory.pending_changes()
        out["idle_collect_ms"] = round((time.perf_counter() - t0) / reps * 1e3, 3)
        out["idle_episode_rows"] = len(idle.episodes)
        out["graph_meta_kib"] = round(len(codec.dumps(idle.graph_meta)) / 1024, 1)
        return out

    def reload(self) -> tuple[float, int, int]:
        """A fresh memory loaded from the store: (seconds, nodes, events)."""
        again = new_memory()
        t0 = time.perf_counter()
        again.load(self.store)
        return time.perf_counter() - t0, len(again.graph), len(again.episodic)


def _decile(values: Sequence[float], last: bool) -> float:
    k = max(1, len(values) // 10)
    part = values[-k:] if last else values[:k]
    return round(statistics.median(part), 3) if part else 0.0


def _task_normalised(samples: Sequence[Sample], key: Callable[[Sample], float]) -> list[float]:
    """Each episode's value over its task's median over the run: the task mix taken out."""
    by_task: dict[str, list[float]] = {}
    for s in samples:
        by_task.setdefault(s.task_id, []).append(key(s))
    med = {t: statistics.median(v) for t, v in by_task.items()}
    return [key(s) / med[s.task_id] if med[s.task_id] > 0 else 1.0 for s in samples]


def _same_task_ratio(samples: Sequence[Sample], key: Callable[[Sample], float]) -> float | None:
    """Median over the tasks visited at least twice of (last visit / first visit)."""
    visits: dict[str, list[float]] = {}
    for s in samples:
        visits.setdefault(s.task_id, []).append(key(s))
    ratios = [v[-1] / v[0] for v in visits.values() if len(v) >= 2 and v[0] > 0]
    return round(statistics.median(ratios), 3) if ratios else None


def _at_deciles(points: Sequence[Checkpoint], n: int) -> list[Checkpoint]:
    """The checkpoint nearest each tenth of the run (0%, 10%, ..., 100%)."""
    return [min(points, key=lambda c: abs(c.n - n * k / 10)) for k in range(11)]


def growth(soak: Soak, top: int = 8) -> list[tuple[str, int]]:
    """Object types that grew most from the warm-up's census (or the first) to the last."""
    if len(soak.censuses) < 2:
        return []
    base = soak.censuses[1 if len(soak.censuses) > 2 else 0][1]
    last = soak.censuses[-1][1]
    diff = Counter({k: last[k] - base.get(k, 0) for k in last})
    return [(k, v) for k, v in diff.most_common(top) if v > 0]


def figures(soak: Soak, wall_s: float, suites: Sequence[str]) -> dict[str, Any]:
    all_s = soak.samples
    n = len(all_s)
    warm = max(1, n // 10)
    post = all_s[warm:] if n - warm >= 3 else all_s
    acted = [s for s in all_s if s.skills > 0]
    post_acted = [s for s in post if s.skills > 0]

    def slope(samples: Sequence[Sample], ys: Sequence[float]) -> float:
        return slope_per_100([float(s.n) for s in samples], ys)

    gc_post = [c for c in soak.checkpoints if c.n >= warm] or soak.checkpoints
    rss_gc_slope = slope_per_100([float(c.n) for c in gc_post], [c.rss_mib for c in gc_post])
    # The episodic log's own growth, from the census after the warm-up (else the first) to
    # the last: RSS growth beyond it is unexplained (a leak, or allocator fragmentation).
    a, b = [c for c in soak.checkpoints if c.episodic_mib is not None][-2:]
    a_rss = next(c.rss_mib for c in soak.checkpoints if c.n == a.n)
    d_ep = (b.n - a.n) / 100.0 or 1.0
    log_slope = ((b.episodic_mib or 0.0) - (a.episodic_mib or 0.0)) / d_ep
    rss_span_slope = (b.rss_mib - a_rss) / d_ep
    heap: dict[str, float] = {}
    if a.pymalloc is not None and b.pymalloc is not None:
        heap = {
            "pymalloc_blocks_mib_per_100ep_in_span": round(
                (b.pymalloc[0] - a.pymalloc[0]) / MIB / d_ep, 3
            ),
            "pymalloc_arenas_mib_per_100ep_in_span": round(
                (b.pymalloc[1] - a.pymalloc[1]) / MIB / d_ep, 3
            ),
            "pymalloc_slack_mib_last": round((b.pymalloc[1] - b.pymalloc[0]) / MIB, 2),
        }
    added = Counter(
        node.label
        for node in soak.memory.graph.iter_nodes()
        if soak.first_pass_ids is not None and node.id not in soak.first_pass_ids
    )
    first_ck, last_ck = soak.checkpoints[0], soak.checkpoints[-1]
    s0, s1 = all_s[0], all_s[-1]
    success = [float(s.success) for s in all_s]
    return {
        "episodes": n,
        "wall_s": round(wall_s, 1),
        "passes_over_tasks": round(n / len(soak.tasks), 2),
        "tasks": len(soak.tasks),
        "warmup_episodes": warm,
        "success_rate": round(sum(success) / n, 3),
        "success_rate_first_decile": _decile(success, False),
        "success_rate_last_decile": _decile(success, True),
        "success_rate_same_task_last_over_first": _same_task_ratio(
            all_s, lambda s: 1.0 + s.success
        ),
        "success_rate_by_suite": {
            suite: round(statistics.fmean(float(s.success) for s in of), 3)
            for suite in suites
            if (of := [s for s in all_s if s.task_id.startswith(suite + "/")])
        },
        "success_rate_by_tenth": [
            round(statistics.fmean(success[lo : max(hi, lo + 1)]), 3)
            for lo, hi in ((n * k // 10, n * (k + 1) // 10) for k in range(10))
        ],
        "failures": dict(Counter(reason_class(s.error) for s in all_s if not s.success)),
        "raised": dict(soak.rejected),
        "rss_mib_first_decile": _decile([s.rss_mib for s in all_s], False),
        "rss_mib_last_decile": _decile([s.rss_mib for s in all_s], True),
        "rss_mib_slope_per_100ep": round(slope(post, [s.rss_mib for s in post]), 3),
        "rss_after_gc_mib_slope_per_100ep": round(rss_gc_slope, 3),
        "census_span_episodes": [a.n, b.n],
        "rss_after_gc_mib_per_100ep_in_span": round(rss_span_slope, 3),
        "episodic_log_mib_per_100ep_in_span": round(log_slope, 3),
        "rss_unexplained_mib_per_100ep": round(rss_span_slope - log_slope, 3),
        **heap,
        "episodic_log_mib_last": round(b.episodic_mib or 0.0, 2),
        "ms_per_skill_first_decile": _decile([s.ms_per_skill for s in acted], False),
        "ms_per_skill_last_decile": _decile([s.ms_per_skill for s in acted], True),
        "cpu_ms_per_skill_first_decile": _decile([s.cpu_ms_per_skill for s in acted], False),
        "cpu_ms_per_skill_last_decile": _decile([s.cpu_ms_per_skill for s in acted], True),
        "cpu_ms_per_skill_task_normalised_pct_per_100ep": round(
            100.0 * slope(post_acted, _task_normalised(post_acted, lambda s: s.cpu_ms_per_skill)),
            3,
        ),
        "cpu_ms_per_skill_same_task_last_over_first": _same_task_ratio(
            post_acted, lambda s: s.cpu_ms_per_skill
        ),
        "skill_gap_ms_p50_first_decile": _decile([s.skill_ms_p50 for s in acted], False),
        "skill_gap_ms_p50_last_decile": _decile([s.skill_ms_p50 for s in acted], True),
        "ms_per_skill_slope_per_100ep": round(
            slope(post_acted, [s.ms_per_skill for s in post_acted]), 4
        ),
        "ms_per_skill_task_normalised_pct_per_100ep": round(
            100.0 * slope(post_acted, _task_normalised(post_acted, lambda s: s.ms_per_skill)), 3
        ),
        "ms_per_skill_same_task_last_over_first": _same_task_ratio(
            post_acted, lambda s: s.ms_per_skill
        ),
        "observe_ms_p50_first_decile": _decile([s.observe_ms_p50 for s in acted], False),
        "observe_ms_p50_last_decile": _decile([s.observe_ms_p50 for s in acted], True),
        "observe_ms_same_task_last_over_first": _same_task_ratio(
            post_acted, lambda s: s.observe_ms_p50
        ),
        "commit_ms_first_decile": _decile([s.commit_ms for s in all_s], False),
        "commit_ms_last_decile": _decile([s.commit_ms for s in all_s], True),
        "commit_ms_slope_per_100ep": round(slope(post, [s.commit_ms for s in post]), 4),
        "commit_ms_same_task_last_over_first": _same_task_ratio(post, lambda s: s.commit_ms),
        "commit_collect_ms_first_decile": _decile([s.collect_ms for s in all_s], False),
        "commit_collect_ms_last_decile": _decile([s.collect_ms for s in all_s], True),
        "commit_write_ms_first_decile": _decile([s.write_ms for s in all_s], False),
        "commit_write_ms_last_decile": _decile([s.write_ms for s in all_s], True),
        "commit_episode_rows_last": s1.committed_episodes,
        "commit_event_rows_median": statistics.median(s.committed_events for s in all_s),
        "commit_node_rows_median": statistics.median(s.committed_nodes for s in all_s),
        "nodes_first": s0.nodes,
        "nodes_last": s1.nodes,
        "nodes_at_pass_ends": [c[1] for c in soak.cycle_ends][:12],
        "nodes_at_tenths": [all_s[min(n * k // 10, n - 1)].nodes for k in range(1, 11)],
        "nodes_added_after_first_pass": dict(added.most_common(8)),
        "edges_at_tenths": [all_s[min(n * k // 10, n - 1)].edges for k in range(1, 11)],
        "events_last": s1.events,
        "events_per_episode": round((s1.events - s0.events) / max(n - 1, 1), 1),
        "stm_max": max(s.stm for s in all_s),
        "store_mib_last": round(s1.store_mib, 2),
        "store_mib_slope_per_100ep": round(slope(post, [s.store_mib for s in post]), 3),
        "wal_mib_max": round(max(s.wal_mib for s in all_s), 2),
        "gc_objects_first": first_ck.gc_objects,
        "gc_objects_last": last_ck.gc_objects,
        "gc_objects_at_deciles": [c.gc_objects for c in _at_deciles(soak.checkpoints, n)],
        "gc_objects_per_new_event_in_span": round(
            (b.gc_objects - a.gc_objects) / max(b.events - a.events, 1), 2
        ),
        "gc_collect_ms_last": round(last_ck.gc_ms, 1),
        "open_fds_first": first_ck.fds,
        "open_fds_last": last_ck.fds,
        "loadavg_1m_end": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(),
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--minutes", type=float, default=10.0, help="wall-clock budget")
    parser.add_argument("--episodes", type=int, default=None, help="at most this many")
    parser.add_argument("--gc-every", type=int, default=50, help="episodes between checkpoints")
    parser.add_argument("--suites", default=",".join(SUITES), help="comma-separated suites")
    parser.add_argument("--scene", default=None, help="only this scene's tasks (one house)")
    parser.add_argument("--data", type=Path, default=DATA)
    args = parser.parse_args(argv)
    say = print
    start = time.perf_counter()
    deadline = start + args.minutes * 60.0
    registry = SceneRegistry(args.data)
    suites = tuple(args.suites.split(","))
    tasks = [
        t
        for s in suites
        for t in load_suite(s, args.data)
        if not t.needs_goal and (args.scene is None or t.scene == args.scene)
    ]
    if not tasks:
        raise SystemExit(f"no tasks in {args.suites} for scene {args.scene}")
    cap = args.episodes if args.episodes is not None else sys.maxsize
    say(
        f"soak: {len(tasks)} tasks ({' + '.join(suites)}"
        + (f", {args.scene} only" if args.scene else "")
        + f" on {len({t.scene for t in tasks})} scenes), symbolic planner, one memory, one "
        f"SQLite store; budget {args.minutes:g} min"
        + (f" or {args.episodes} episodes" if args.episodes is not None else "")
        + f"; {os.cpu_count()} cpus, load {os.getloadavg()[0]:.2f}"
    )
    with tempfile.TemporaryDirectory(prefix="loci-soak-") as tmp:
        soak = Soak(registry, tasks, Path(tmp) / "soak.db")
        try:
            soak.run(deadline, cap, max(1, args.gc_every), say)
            wall = time.perf_counter() - start
            anatomy = soak.commit_anatomy()
            reload_s, reload_nodes, reload_events = soak.reload()
        finally:
            soak.store.close()
    if not soak.samples:
        raise SystemExit("no episode ran within the budget")
    out = figures(soak, wall, suites)
    out["suites"], out["scene"] = list(suites), args.scene
    out["commit_anatomy_end"] = anatomy
    out["reload_s"] = round(reload_s, 3)
    out["reload_matches"] = (reload_nodes, reload_events) == (
        len(soak.memory.graph),
        len(soak.memory.episodic),
    )
    grew = growth(soak)
    out["gc_types_grown"] = dict(grew)

    say(
        f"{out['episodes']} episodes in {out['wall_s']} s ({out['passes_over_tasks']} passes), "
        f"success {out['success_rate']:.0%} (first decile {out['success_rate_first_decile']:.0%},"
        f" last {out['success_rate_last_decile']:.0%}; by suite {out['success_rate_by_suite']}; "
        f"by tenth of the run {out['success_rate_by_tenth']}); failures {out['failures']}; "
        f"raised {out['raised'] or 'nothing'}"
    )
    say(
        f"rss MiB: first decile {out['rss_mib_first_decile']}, last {out['rss_mib_last_decile']};"
        f" slope after warm-up {out['rss_mib_slope_per_100ep']} MiB/100 ep "
        f"(after gc.collect: {out['rss_after_gc_mib_slope_per_100ep']})"
    )
    span = out["census_span_episodes"]
    say(
        f"episodes {span[0]}-{span[1]}: rss after gc +{out['rss_after_gc_mib_per_100ep_in_span']}"
        f" MiB/100 ep, of which the episodic log +{out['episodic_log_mib_per_100ep_in_span']} "
        f"(now {out['episodic_log_mib_last']} MiB); unexplained "
        f"{out['rss_unexplained_mib_per_100ep']} MiB/100 ep"
        + (
            f"; pymalloc blocks +{out['pymalloc_blocks_mib_per_100ep_in_span']}, arenas "
            f"+{out['pymalloc_arenas_mib_per_100ep_in_span']} MiB/100 ep (slack now "
            f"{out['pymalloc_slack_mib_last']} MiB)"
            if "pymalloc_blocks_mib_per_100ep_in_span" in out
            else ""
        )
    )
    say(
        f"ms per skill: first decile {out['ms_per_skill_first_decile']}, last "
        f"{out['ms_per_skill_last_decile']}; task-normalised drift "
        f"{out['ms_per_skill_task_normalised_pct_per_100ep']} %/100 ep; same task last/first "
        f"{out['ms_per_skill_same_task_last_over_first']}"
    )
    say(
        f"cpu ms per skill: first decile {out['cpu_ms_per_skill_first_decile']}, last "
        f"{out['cpu_ms_per_skill_last_decile']}; task-normalised drift "
        f"{out['cpu_ms_per_skill_task_normalised_pct_per_100ep']} %/100 ep; same task last/first "
        f"{out['cpu_ms_per_skill_same_task_last_over_first']}"
    )
    say(
        f"observe ms p50: first decile {out['observe_ms_p50_first_decile']}, last "
        f"{out['observe_ms_p50_last_decile']}; same task last/first "
        f"{out['observe_ms_same_task_last_over_first']}"
    )
    say(
        f"commit ms: first decile {out['commit_ms_first_decile']}, last "
        f"{out['commit_ms_last_decile']}; slope {out['commit_ms_slope_per_100ep']} ms/100 ep; "
        f"same task last/first {out['commit_ms_same_task_last_over_first']}; the last commit "
        f"wrote {out['commit_episode_rows_last']} episode rows "
        f"(median {out['commit_event_rows_median']} events, {out['commit_node_rows_median']} nodes)"
    )
    say(
        f"commit collect ms: first decile {out['commit_collect_ms_first_decile']}, last "
        f"{out['commit_collect_ms_last_decile']}; write ms: first decile "
        f"{out['commit_write_ms_first_decile']}, last {out['commit_write_ms_last_decile']}; "
        f"at the end, a commit with nothing new: {anatomy}"
    )
    say(
        f"scene graph nodes {out['nodes_first']} -> {out['nodes_last']} (at the end of each "
        f"pass: {out['nodes_at_pass_ends']}, at tenths of the run: {out['nodes_at_tenths']}; "
        f"added after the first pass: "
        f"{out['nodes_added_after_first_pass']}); edges at tenths {out['edges_at_tenths']}; "
        f"events {out['events_last']} "
        f"({out['events_per_episode']}/episode: the episodic log is append-only by design); "
        f"STM at most {out['stm_max']}; store {out['store_mib_last']} MiB "
        f"(+{out['store_mib_slope_per_100ep']} MiB/100 ep, WAL at most {out['wal_mib_max']}); "
        f"reload {out['reload_s']} s, matches: {out['reload_matches']}"
    )
    say(
        f"gc objects at deciles {out['gc_objects_at_deciles']} "
        f"({out['gc_objects_per_new_event_in_span']} per new event); grew most: {grew}; "
        f"open fds {out['open_fds_first']} -> {out['open_fds_last']}"
    )
    two = out["passes_over_tasks"] >= 2
    note = "" if two else " (fewer than 2 passes over the tasks: still learning the scenes)"
    unexplained = out["rss_unexplained_mib_per_100ep"]
    say(
        f"rss flat: {'yes' if unexplained < 0.5 else 'no'} (slope "
        f"{out['rss_after_gc_mib_slope_per_100ep']} MiB/100 ep after gc; "
        f"{unexplained} MiB/100 ep beyond the episodic log){note}"
    )
    lat = out["cpu_ms_per_skill_task_normalised_pct_per_100ep"]
    say(
        f"latency flat: {'yes' if lat < 2.0 else 'no'} ({lat} %/100 ep in CPU ms per skill, "
        f"task-normalised; wall: {out['ms_per_skill_task_normalised_pct_per_100ep']}){note}"
    )
    commit = out["commit_ms_slope_per_100ep"]
    say(f"commit flat: {'yes' if commit < 0.1 else 'no'} (slope {commit} ms/100 ep){note}")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
