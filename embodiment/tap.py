"""A body that tells a listener every RGB-D frame it senses (a map from depth fuses them),
after a skill and on a look alike, and is otherwise the body it wraps."""

from __future__ import annotations

from collections.abc import Callable

from embodiment.body import Body, BodyState, FloorPlan, RGBDFrame, Sensed
from embodiment.grid import OccupancyGrid
from embodiment.skills import Skill, StepResult

__all__ = ["FrameTap"]


class FrameTap:
    """``body`` with every frame it returns also handed to ``on_frame``, in order."""

    def __init__(self, body: Body, on_frame: Callable[[RGBDFrame], None]) -> None:
        self.body, self.on_frame = body, on_frame

    @property
    def up_axis(self) -> str:
        return self.body.up_axis

    def state(self) -> BodyState:
        return self.body.state()

    def occupancy(self) -> OccupancyGrid | None:
        return self.body.occupancy()

    def floor_plan(self) -> FloorPlan | None:
        return self.body.floor_plan()

    def look(self) -> Sensed:
        return self._tell(self.body.look())

    def execute(self, skill: Skill) -> StepResult:
        result = self.body.execute(skill)
        if result.sensed is not None:
            self._tell(result.sensed)
        return result

    def _tell(self, sensed: Sensed) -> Sensed:
        for frame in sensed.frames:
            self.on_frame(frame)
        return sensed
