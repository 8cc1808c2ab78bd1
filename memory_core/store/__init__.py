"""Persistence of the memory. SQLite is the embedded default."""

from memory_core.store.base import MemoryStore
from memory_core.store.sqlite import SCHEMA_VERSION, SQLiteStore

__all__ = ["SCHEMA_VERSION", "MemoryStore", "SQLiteStore"]
