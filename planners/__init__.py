"""Closed-loop planning on memory and a body: the executive, the critic, the symbolic
and LLM planners.

Pure Python: nothing in this package may import ROS or ``sim``. It meets bodies (the
built-in simulator, AI2-THOR, robots) at :mod:`embodiment`'s body interface and reads
only memory and the body's own state.
"""

from planners.critic import believed_count
from planners.executive import EpisodeResult, ExecConfig, Executive, Scorer
from planners.observe import MEMORY_MODES, add_floor_plan, ingest_sensed, new_memory
from planners.symbolic import PlanFailedError, SymbolicPlanner

__all__ = [
    "MEMORY_MODES",
    "EpisodeResult",
    "ExecConfig",
    "Executive",
    "PlanFailedError",
    "Scorer",
    "SymbolicPlanner",
    "add_floor_plan",
    "believed_count",
    "ingest_sensed",
    "new_memory",
]
