"""Ray for suites: episodes per second on a local Ray cluster vs local worker processes.

The whole alfred-seen suite (251 tasks, one group each), memory ``full``, ground-truth
sensing by default, run by ``loci.bench.run_suite`` with ``workers=2`` (a process pool)
and on a local Ray cluster of 2 CPUs (``loci bench --cluster ray --workers 2``), back to
back in each of ``--rounds`` rounds, so both see the same machine load. The cluster is
started once, before the first round (``ray_startup_s``, not in the suites' walls); its
workers are new processes that import Loci on their first task (in round 1's wall),
while the pool's workers are forked from this process. ``overhead`` = the pool's
episodes/s over Ray's - 1, per round. ``ray_worker_peak_rss_mb``: the largest resident
set of any Ray worker while the suite ran (sampled every 0.2 s with psutil), next to the
pool workers' (``pool_worker_peak_rss_mb``) and Ray's own processes' together (GCS,
raylet, agents: ``ray_system_peak_rss_mb``). The rows of the two ways are checked equal
(timing fields apart). The last line is JSON.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import statistics
import sys
import threading
import time
from pathlib import Path
from types import ModuleType
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from loci.bench import run_suite  # noqa: E402
from loci.cluster import ClusterSpec, ray_cluster  # noqa: E402
from sim.suites import load_suite  # noqa: E402

DATA = REPO.parent / "shared" / "data"
WORKERS = 2


def _psutil() -> ModuleType:
    """psutil without importing ray (loci's local cluster imports it first): Ray ships a
    copy where none is installed."""
    if importlib.util.find_spec("psutil") is None:
        spec = importlib.util.find_spec("ray")
        if spec is None or not spec.submodule_search_locations:
            sys.exit("ray_bench needs the ray extra: pip install -e '.[ray]'")
        sys.path.append(str(Path(next(iter(spec.submodule_search_locations))) / "thirdparty_files"))
    return importlib.import_module("psutil")


class RssSampler:
    """Peak RSS per descendant process of this one, by kind, while ``with``-ed."""

    def __init__(self, psutil: ModuleType, period_s: float = 0.2) -> None:
        self.psutil, self.period_s = psutil, period_s
        self.peak: dict[int, tuple[str, int]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        me = self.psutil.Process()
        while not self._stop.wait(self.period_s):
            for proc in me.children(recursive=True):
                try:
                    rss = proc.memory_info().rss
                    kind = _kind(" ".join(proc.cmdline()))
                except (self.psutil.NoSuchProcess, self.psutil.ZombieProcess):
                    continue
                old = self.peak.get(proc.pid, (kind, 0))
                self.peak[proc.pid] = (kind, max(old[1], rss))

    def mb(self, kind: str) -> dict[int, float]:
        """Peak RSS in MB per pid of ``kind``."""
        return {pid: rss / 2**20 for pid, (k, rss) in self.peak.items() if k == kind}


def _kind(cmdline: str) -> str:
    if cmdline.startswith("ray::"):
        # ray::IDLE, ray::_call_with_env run episodes; ray::DashboardAgent and such not.
        return "ray_system" if "Agent" in cmdline else "ray_worker"
    if f"{os.sep}ray{os.sep}" in cmdline:  # GCS, raylet, monitors: Ray's package's own
        return "ray_system"
    return "pool_worker"  # forked from this process: its command line


def _rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [{k: v for k, v in r.items() if k != "wall_s"} for r in report["tasks"]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--sensing", default="gt", choices=["gt", "rgbd"])
    parser.add_argument("--limit", type=int, default=0, help="only the first N tasks")
    args = parser.parse_args()
    psutil = _psutil()
    tasks = load_suite("alfred-seen", DATA)
    tasks = tasks[: args.limit] if args.limit else tasks
    pool_eps: list[float] = []
    ray_eps: list[float] = []
    pool_rss: dict[int, float] = {}
    ray_rss: dict[int, float] = {}
    system_rss: list[float] = []
    t0 = time.perf_counter()
    with ray_cluster(ClusterSpec(cpus=WORKERS)) as cluster:
        startup_s = time.perf_counter() - t0
        for i in range(args.rounds):
            with RssSampler(psutil) as pool_sampler:
                pool = run_suite(tasks, DATA, "full", workers=WORKERS, sensing=args.sensing)
            with RssSampler(psutil) as ray_sampler:
                ray = run_suite(tasks, DATA, "full", sensing=args.sensing, cluster=cluster)
            assert _rows(ray) == _rows(pool), "Ray's rows differ from the pool's"
            pool_eps.append(len(tasks) / pool["totals"]["wall_s"])
            ray_eps.append(len(tasks) / ray["totals"]["wall_s"])
            pool_rss.update(pool_sampler.mb("pool_worker"))
            for pid, mb in ray_sampler.mb("ray_worker").items():
                ray_rss[pid] = max(mb, ray_rss.get(pid, 0.0))
            system_rss.append(sum(ray_sampler.mb("ray_system").values()))
            print(
                f"round {i + 1}: workers=2 {pool_eps[-1]:.1f} episodes/s "
                f"({pool['totals']['wall_s']:.1f} s), ray {ray_eps[-1]:.1f} episodes/s "
                f"({ray['totals']['wall_s']:.1f} s), overhead {pool_eps[-1] / ray_eps[-1] - 1:+.1%}"
            )
    first_wall = len(tasks) / ray_eps[0]
    out = {
        "suite": "alfred-seen",
        "tasks": len(tasks),
        "sensing": args.sensing,
        "workers": WORKERS,
        "rounds": args.rounds,
        "pool_episodes_per_s": [round(x, 2) for x in pool_eps],
        "ray_episodes_per_s": [round(x, 2) for x in ray_eps],
        "overhead": [round(p / r - 1, 3) for p, r in zip(pool_eps, ray_eps, strict=True)],
        "overhead_median": round(
            statistics.median(p / r - 1 for p, r in zip(pool_eps, ray_eps, strict=True)), 3
        ),
        "ray_startup_s": round(startup_s, 2),
        "ray_cold_episodes_per_s": round(len(tasks) / (startup_s + first_wall), 2),
        "ray_worker_peak_rss_mb": round(max(ray_rss.values(), default=0.0), 1),
        "ray_worker_peaks_mb": sorted(round(x, 1) for x in ray_rss.values()),
        "pool_worker_peak_rss_mb": round(max(pool_rss.values(), default=0.0), 1),
        "ray_system_peak_rss_mb": round(max(system_rss, default=0.0), 1),
    }
    print(
        f"Ray startup {startup_s:.1f} s; cold (startup + round 1): "
        f"{out['ray_cold_episodes_per_s']} episodes/s"
    )
    print(
        f"peak RSS: Ray worker {out['ray_worker_peak_rss_mb']} MB, pool worker "
        f"{out['pool_worker_peak_rss_mb']} MB, "
        f"Ray's own processes {out['ray_system_peak_rss_mb']} MB"
    )
    print(json.dumps(out))


if __name__ == "__main__":
    main()
