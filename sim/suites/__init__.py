"""Task suites built from the real data, by name."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sim.errors import SimError
from sim.suites.alfred import alfred_seen_tasks
from sim.suites.household import (
    household_day_tasks,
    household_procthor_tasks,
    household_tasks,
)
from sim.suites.kitchen import kitchen_tasks
from sim.suites.rearrange import lifelong_tasks, rearrange_val_tasks
from sim.tasks import Task

__all__ = [
    "SUITES",
    "alfred_seen_tasks",
    "household_day_tasks",
    "household_procthor_tasks",
    "household_tasks",
    "kitchen_tasks",
    "lifelong_tasks",
    "load_suite",
    "rearrange_val_tasks",
]

SUITES: dict[str, Callable[[Path], list[Task]]] = {
    "alfred-seen": alfred_seen_tasks,
    "rearrange-val": rearrange_val_tasks,
    "lifelong": lifelong_tasks,
    "household": household_tasks,
    "household-procthor": household_procthor_tasks,
    "household-day": household_day_tasks,
    "household-kitchen": kitchen_tasks,
}


def load_suite(name: str, data: Path) -> list[Task]:
    if name not in SUITES:
        raise SimError(f"unknown suite {name!r}; available: {', '.join(sorted(SUITES))}")
    return SUITES[name](data)
