"""One planner, and a second for the predicates the first gives up on.

``--fallback llm``: the symbolic planner carries out a goal (an instruction's translated
goal, or a task's own), and where it gives up on a predicate, the step-by-step LLM planner
takes that predicate over for the executive's remaining attempts. Giving up: the first
planner raised :class:`~planners.base.PlanFailedError` (nothing in memory or in sight to
use, a skill it has no way round), or it has had ``first_attempts`` programs for the
predicate already (the executive asks again only when an attempt failed: the critic did
not believe it, or the executive's loop guard or budget stopped it). The LLM reads the
instruction, memory's context and what has failed, and may find a way the rules did not
encode; the critic checks its work the same way. Predicates the first planner can do stay
with it: the LLM costs tokens only where the rules ran out.
"""

from __future__ import annotations

import logging

from embodiment.tasks import Predicate, Task
from planners.base import Plan, PlanFailedError, Planner

__all__ = ["FallbackPlanner"]

log = logging.getLogger(__name__)


class FallbackPlanner:
    def __init__(self, first: Planner, then: Planner, first_attempts: int = 2) -> None:
        self.first, self.then = first, then
        self.first_attempts = first_attempts
        # One set of bindings for both: what the first bound (the egg it picked up) is what
        # the second must keep using, and the critic reads these.
        self.then.referents = first.referents
        self.referents = first.referents
        self.handed_over: list[str] = []
        """The predicates the second planner took over, described, in order."""
        # Per predicate: (the predicate, programs asked for, handed over). Keyed by
        # identity (a predicate's state is a dict, unhashable; the executive asks again
        # with the same object on each attempt), the predicate kept so its id stays its own.
        self._record: dict[int, tuple[Predicate, int, bool]] = {}

    @property
    def memory_hits(self) -> int:
        return self.first.memory_hits + self.then.memory_hits

    @property
    def searches(self) -> int:
        return self.first.searches + self.then.searches

    @property
    def calls(self) -> int:
        return self.first.calls + self.then.calls

    @property
    def tokens(self) -> int:
        return self.first.tokens + self.then.tokens

    def program(self, pred: Predicate, task: Task) -> Plan:
        _, tries, over = self._record.get(id(pred), (pred, 0, False))
        self._record[id(pred)] = (pred, tries + 1, over)
        if not over:
            if tries >= self.first_attempts:
                self._hand_over(pred, f"{tries} attempts failed")
            else:
                try:
                    yield from self.first.program(pred, task)
                    return
                except PlanFailedError as exc:
                    self._hand_over(pred, str(exc))
        yield from self.then.program(pred, task)

    def _hand_over(self, pred: Predicate, why: str) -> None:
        log.info("%s: handed to the fallback planner (%s)", pred.describe(), why)
        _, tries, _ = self._record[id(pred)]
        self._record[id(pred)] = (pred, tries, True)
        self.handed_over.append(pred.describe())

    def close(self) -> None:
        try:
            self.first.close()
        finally:
            self.then.close()
