"""Bodies by name: ``--body builtin``, ``--body ai2thor``, ``habitat`` (more as they are written).

Entries are import paths resolved on first use, so naming a body never imports the
others (or their heavy dependencies), and ``embodiment`` imports no body package.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from embodiment.body import Body
from embodiment.errors import BodyError, UnknownBodyError

__all__ = ["body_factory", "body_names", "register_body"]

_BODIES: dict[str, str | Callable[..., Body]] = {
    "builtin": "sim.body:BuiltinBody",
    "ai2thor": "thor.body:Ai2ThorBody",
    "habitat": "hsim.body:HabitatBody",  # HabitatBody.open(scene, ...); needs habitat-sim
}


def register_body(name: str, factory: str | Callable[..., Body]) -> None:
    """Register a factory (or ``"module:attribute"``) under ``name``."""
    _BODIES[name] = factory


def body_names() -> tuple[str, ...]:
    return tuple(sorted(_BODIES))


def body_factory(name: str) -> Callable[..., Body]:
    try:
        entry = _BODIES[name]
    except KeyError:
        raise UnknownBodyError(
            f"unknown body {name!r} (known: {', '.join(body_names())})"
        ) from None
    if callable(entry):
        return entry
    module, _, attr = entry.partition(":")
    try:
        factory: Any = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as exc:
        raise BodyError(f"body {name!r} is not available: {exc}") from exc
    return factory  # type: ignore[no-any-return]
