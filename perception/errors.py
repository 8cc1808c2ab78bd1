"""Errors of the perception package (all are :class:`memory_core.LociError`)."""

from __future__ import annotations

from memory_core.errors import InvalidInputError

__all__ = ["DepthScaleError", "FrameError", "SizeMismatchError"]


class FrameError(InvalidInputError):
    """A frame cannot be used: unknown encoding, size mismatch, missing intrinsics."""


class DepthScaleError(FrameError):
    """Depth values are implausible for the stated scale (e.g. millimetres read as metres)."""


class SizeMismatchError(FrameError):
    """Two inputs of one frame disagree in size (depth vs camera_info, mask vs depth)."""
