"""Habitat: habitat-sim's conventions, observations and episode files for Loci.

Everything here but the body runs without habitat-sim (which has no wheel for this
platform on PyPI): the conversions and loaders are checked in CI on data habitat-sim and
habitat-lab recorded.
"""

from hsim.convert import agent_pose, forward, heading, world_from_camera
from hsim.episodes import HabitatEpisode, convert, load_episodes, to_task
from hsim.errors import HabitatDataError, HabitatUnavailableError
from hsim.geodesic import GeodesicCase, load_geodesic_cases
from hsim.observations import HabitatCamera, frame_from_observations, instances_from_semantic

__all__ = [
    "GeodesicCase",
    "HabitatCamera",
    "HabitatDataError",
    "HabitatEpisode",
    "HabitatUnavailableError",
    "agent_pose",
    "convert",
    "forward",
    "frame_from_observations",
    "heading",
    "instances_from_semantic",
    "load_episodes",
    "load_geodesic_cases",
    "to_task",
    "world_from_camera",
]
