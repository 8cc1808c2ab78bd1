"""Exception types of the memory core.

Every error raised on bad input derives from :class:`LociError`, so callers can
catch the family; the subclasses also derive from the closest builtin
(``ValueError``, ``KeyError``) so generic handlers keep working.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "CorruptStoreError",
    "DataImportError",
    "DuplicateIdError",
    "EmbeddingsUnavailableError",
    "ForeignStoreError",
    "InvalidInputError",
    "LociError",
    "SchemaVersionError",
    "StoreError",
    "UnknownNodeError",
]


class LociError(Exception):
    """Base class of every error raised by Loci."""


class InvalidInputError(LociError, ValueError):
    """A value is malformed: NaN/inf coordinates, negative sizes, empty labels..."""


class DuplicateIdError(InvalidInputError):
    """An id is used twice where ids must be unique."""


class UnknownNodeError(LociError, KeyError):
    """A node id that the scene graph does not hold."""

    def __str__(self) -> str:  # KeyError quotes its argument; keep the message readable
        return str(self.args[0]) if self.args else "unknown node"


class ConfigError(LociError, ValueError):
    """A configuration file or mapping is invalid."""


class DataImportError(LociError, ValueError):
    """An external file (house JSON, scene graph, episodes) cannot be imported."""


class EmbeddingsUnavailableError(LociError, RuntimeError):
    """A query by meaning was asked for but no embedding model is configured."""


class StoreError(LociError):
    """Base class of persistence errors."""


class CorruptStoreError(StoreError):
    """The store file is damaged or is not a database at all."""


class ForeignStoreError(StoreError):
    """The file is a valid database, but not one written by Loci."""


class SchemaVersionError(StoreError):
    """The store was written with a schema version this code cannot read."""
