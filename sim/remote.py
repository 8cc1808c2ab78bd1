"""Planning against a world that lives in another process.

:class:`MirrorWorld` is a :class:`World` on the same scene (the static map: rooms,
navigable grid, furniture) whose :meth:`step` is sent to the real world — a simulator
bridge over ROS — and whose dynamic state is replaced by the state the real world
returns, in step with the real world after every skill. The executive drives it as a
``sim.body.BuiltinBody`` (its critic reads memory, never the mirror); the goal checker
scores the episode on the mirror's state. A robot returns no world state: it needs a body
of its own over actions, not a mirror.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from embodiment.affordances import Affordances
from sim.errors import SimError
from sim.scene import SceneSpec
from sim.world import SimConfig, Skill, StepResult, World

__all__ = ["MirrorWorld", "RemoteState", "RemoteStep"]

RemoteStep = Callable[[Skill], tuple[StepResult, Mapping[str, Any]]]
"""Runs a skill on the real world; returns its result and the world's state after it
(whole, or only what changed: see ``sim.server``)."""

RemoteState = Callable[[], Mapping[str, Any]]
"""The real world's whole state now."""


class MirrorWorld(World):
    def __init__(
        self,
        spec: SceneSpec,
        affordances: Affordances,
        remote: RemoteStep,
        resync: RemoteState,
        config: SimConfig | None = None,
    ) -> None:
        super().__init__(spec, affordances, config)
        self.remote, self.resync = remote, resync
        self.revision = -1
        self.resyncs = 0
        """Deltas that did not follow on from this mirror's revision (someone else acted)."""

    def follow(self, state: Mapping[str, Any]) -> None:
        """Adopt a state from the real world: whole, or a delta on this mirror's revision
        (a delta on another one means changes were missed: the whole state is fetched)."""
        if state.get("changed_only") and state.get("base") != self.revision:
            self.resyncs += 1
            state = self.resync()
        self.set_state(state)
        self.revision = int(state.get("revision", -1))

    def step(self, skill: Skill) -> StepResult:
        result, state = self.remote(skill)
        if not state:
            raise SimError("the remote world returned no state: a mirror cannot follow it")
        self.follow(state)
        return result
