"""Errors of the Habitat body and its data."""

from __future__ import annotations

from embodiment.errors import BodyError

__all__ = ["HabitatDataError", "HabitatUnavailableError"]


class HabitatDataError(ValueError):
    """A Habitat file or observation that cannot be read as what it claims to be."""


class HabitatUnavailableError(BodyError):
    """habitat-sim is not installed here (it has no wheel for this platform on PyPI)."""
