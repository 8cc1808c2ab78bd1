"""The seam between the closed loop and what acts and senses.

Skills and their outcomes, tasks and predicates, object-type facts (affordances), the
body interface with its map and sensing types, and the registry of bodies. Planners and
bodies (the built-in simulator, AI2-THOR, ROS robots) both import this package and meet
here; it imports only ``memory_core``. No ROS import anywhere in it.
"""

from embodiment.affordances import Affordances
from embodiment.body import Body, BodyState, Door, FloorPlan, RGBDFrame, Room, Sensed
from embodiment.errors import BodyError, FactsError, TaskFormatError, UnknownBodyError
from embodiment.grid import FREE, OCCUPIED, UNKNOWN, OccupancyGrid
from embodiment.registry import body_factory, body_names, register_body
from embodiment.skills import NO_TARGET, SKILLS, SWITCHES, Skill, StepResult
from embodiment.tasks import Predicate, Task, load_tasks, parse_task, task_to_json

__all__ = [
    "FREE",
    "NO_TARGET",
    "OCCUPIED",
    "SKILLS",
    "SWITCHES",
    "UNKNOWN",
    "Affordances",
    "Body",
    "BodyError",
    "BodyState",
    "Door",
    "FactsError",
    "FloorPlan",
    "OccupancyGrid",
    "Predicate",
    "RGBDFrame",
    "Room",
    "Sensed",
    "Skill",
    "StepResult",
    "Task",
    "TaskFormatError",
    "UnknownBodyError",
    "body_factory",
    "body_names",
    "load_tasks",
    "parse_task",
    "register_body",
    "task_to_json",
]
