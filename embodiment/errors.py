"""Errors of the embodiment layer (bodies, tasks, type facts)."""

from __future__ import annotations

from memory_core.errors import DataImportError, LociError

__all__ = ["BodyError", "FactsError", "TaskFormatError", "UnknownBodyError"]


class BodyError(LociError):
    """A body cannot be created or used (not installed, not reachable, misconfigured)."""


class UnknownBodyError(BodyError, KeyError):
    """No body of that name is registered."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown body"


class FactsError(DataImportError):
    """The object-type facts (AI2-THOR metadata) cannot be read."""


class TaskFormatError(LociError, ValueError):
    """A task line is malformed; the message names the file and line."""
