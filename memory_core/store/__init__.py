"""Persistence of the memory. SQLite is the embedded default; PostgreSQL (the ``postgres``
extra) holds a fleet's shared memory."""

from pathlib import Path

from memory_core.errors import StoreError
from memory_core.store.base import MemoryStore
from memory_core.store.sqlite import SCHEMA_VERSION, SQLiteStore

__all__ = ["SCHEMA_VERSION", "MemoryStore", "SQLiteStore", "is_fleet_store", "open_store"]


def is_fleet_store(url: str | Path) -> bool:
    """Whether ``url`` names a store several robots write at once (PostgreSQL): the ids
    a memory mints there must carry its robot's name."""
    return str(url).startswith(("postgresql://", "postgres://"))


def open_store(url: str | Path, robot: str = "robot") -> MemoryStore:
    """The store a URL names: ``postgresql://…`` (libpq's URI; a fleet's memory, written
    as ``robot``), ``sqlite:///relative.db`` or ``sqlite:////absolute.db``, or a plain
    path (SQLite)."""
    text = str(url)
    if is_fleet_store(text):
        from memory_core.store.postgres import PostgresStore

        return PostgresStore(text, robot)
    if text.startswith("sqlite:///"):
        return SQLiteStore(text[len("sqlite:///") :])
    if "://" in text:
        raise StoreError(
            f"unknown store URL {text!r}: use sqlite:///path, postgresql://… or a file path"
        )
    return SQLiteStore(text)
