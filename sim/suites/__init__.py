"""Task suites built from the real data, by name."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sim.errors import SimError
from sim.suites.alfred import alfred_seen_tasks
from sim.tasks import Task

__all__ = ["SUITES", "alfred_seen_tasks", "load_suite"]

SUITES: dict[str, Callable[[Path], list[Task]]] = {
    "alfred-seen": alfred_seen_tasks,
}


def load_suite(name: str, data: Path) -> list[Task]:
    if name not in SUITES:
        raise SimError(f"unknown suite {name!r}; available: {', '.join(sorted(SUITES))}")
    return SUITES[name](data)
