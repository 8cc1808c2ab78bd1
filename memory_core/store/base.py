"""The narrow store interface every backend (SQLite now, PostgreSQL later) implements."""

from __future__ import annotations

from typing import Protocol

from memory_core.snapshot import ChangeSet, MemorySnapshot

__all__ = ["MemoryStore"]


class MemoryStore(Protocol):
    def save(self, snapshot: MemorySnapshot) -> None:
        """Replace everything stored by ``snapshot``, atomically."""
        ...

    def load(self) -> MemorySnapshot: ...

    def write(self, changes: ChangeSet) -> None:
        """Apply one batch of incremental changes atomically (all or nothing)."""
        ...

    def close(self) -> None: ...
