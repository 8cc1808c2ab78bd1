"""Errors of the simulator package (all are :class:`memory_core.LociError`)."""

from __future__ import annotations

from memory_core.errors import DataImportError, LociError

__all__ = ["SceneLoadError", "SimError", "UnknownSceneError"]


class SimError(LociError):
    """Base class of simulator errors."""


class UnknownSceneError(SimError, KeyError):
    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown scene"


class SceneLoadError(SimError, DataImportError):
    """A scene's files exist but cannot be turned into a scene."""
