"""Closed-loop planning: the executive, the symbolic planner and the suite runner.

Pure Python: nothing in this package may import ROS. Depends on ``sim`` (skills,
tasks, worlds) and ``memory_core``. The LLM planner is not written yet (issue 4).
"""

from planners.bench import run_suite
from planners.executive import EpisodeResult, ExecConfig, Executive
from planners.observe import MEMORY_MODES, new_memory, observe
from planners.symbolic import PlanFailedError, SymbolicPlanner

__all__ = [
    "MEMORY_MODES",
    "EpisodeResult",
    "ExecConfig",
    "Executive",
    "PlanFailedError",
    "SymbolicPlanner",
    "new_memory",
    "observe",
    "run_suite",
]
