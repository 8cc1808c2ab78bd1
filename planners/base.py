"""What every planner gives the executive: a program of skills per goal predicate.

A program is a generator: it yields a skill, receives that skill's outcome (memory has
already been updated with what the body sensed), and yields the next; it returns when it
thinks the predicate holds (the critic then checks) and raises
:class:`PlanFailedError` when it cannot go on (the executive replans within its budget).
The executive alone acts, senses, records and checks; planners only propose.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Protocol

from embodiment.skills import Skill, StepResult
from embodiment.tasks import Predicate, Task
from planners.referents import Referents

__all__ = ["Plan", "PlanFailedError", "Planner"]

Plan = Generator[Skill, StepResult, None]


class PlanFailedError(Exception):
    """The current predicate cannot be pursued further (the executive replans)."""


class Planner(Protocol):
    referents: Referents
    """What the task's instance names and ids refer to in memory; the critic reads the
    planner's bindings (the egg it picked up for ``Egg_84e5e36e``)."""

    @property
    def memory_hits(self) -> int:
        """Objects found in memory without searching (for reports)."""
        ...

    @property
    def searches(self) -> int: ...

    @property
    def calls(self) -> int:
        """LLM calls made (0 for planners without an LLM)."""
        ...

    @property
    def tokens(self) -> int: ...

    def program(self, pred: Predicate, task: Task) -> Plan:
        """Skills towards ``pred`` (one predicate of ``task``)."""
        ...

    def close(self) -> None:
        """Release what the planner holds (an LLM client's connections)."""
        ...
