"""Errors of the AI2-THOR bridge."""

from __future__ import annotations

from memory_core.errors import LociError

__all__ = ["ProtocolError", "ThorError"]


class ThorError(LociError):
    """Something about AI2-THOR (the package, a controller, a backend) went wrong."""


class ProtocolError(ThorError):
    """A FIFO message that does not follow AI2-THOR's framing."""
