"""Loci memory core: scene-graph LTM, object-state STM, episodic memory, stores.

Pure Python (numpy, networkx, scipy, shapely); nothing here imports ROS.
"""

from memory_core.catalog import ObjectCatalog, TypeInfo
from memory_core.config import (
    EpisodicConfig,
    MemoryConfig,
    RetrievalConfig,
    SceneGraphConfig,
    STMConfig,
    load_config,
)
from memory_core.episodic import EpisodicMemory, Recall
from memory_core.errors import (
    ConfigError,
    CorruptStoreError,
    DataImportError,
    DuplicateIdError,
    EmbeddingsUnavailableError,
    ForeignStoreError,
    InvalidInputError,
    LociError,
    SchemaVersionError,
    StoreError,
    UnknownNodeError,
)
from memory_core.geometry import ViewVolume
from memory_core.memory import Memory
from memory_core.retrieval import PlanningContext, build_context
from memory_core.scene_graph import RoomPath, SceneGraph
from memory_core.snapshot import ChangeSet, MemorySnapshot
from memory_core.stm import LookupOutcome, ObjectState, ShortTermMemory, STMStats
from memory_core.store import MemoryStore, SQLiteStore
from memory_core.types import (
    UNKNOWN_LABEL,
    AgentState,
    Box3D,
    Episode,
    Event,
    Layer,
    ObjectObservation,
    PinholeIntrinsics,
    Pose,
    Relation,
    SceneEdge,
    SceneNode,
)
from memory_core.update import IngestReport, ingest

__all__ = [
    "UNKNOWN_LABEL",
    "AgentState",
    "Box3D",
    "ChangeSet",
    "ConfigError",
    "CorruptStoreError",
    "DataImportError",
    "DuplicateIdError",
    "EmbeddingsUnavailableError",
    "Episode",
    "EpisodicConfig",
    "EpisodicMemory",
    "Event",
    "ForeignStoreError",
    "IngestReport",
    "InvalidInputError",
    "Layer",
    "LociError",
    "LookupOutcome",
    "Memory",
    "MemoryConfig",
    "MemorySnapshot",
    "MemoryStore",
    "ObjectCatalog",
    "ObjectObservation",
    "ObjectState",
    "PinholeIntrinsics",
    "PlanningContext",
    "Pose",
    "Recall",
    "Relation",
    "RetrievalConfig",
    "RoomPath",
    "SQLiteStore",
    "STMConfig",
    "STMStats",
    "SceneEdge",
    "SceneGraph",
    "SceneGraphConfig",
    "SceneNode",
    "SchemaVersionError",
    "ShortTermMemory",
    "StoreError",
    "TypeInfo",
    "UnknownNodeError",
    "ViewVolume",
    "build_context",
    "ingest",
    "load_config",
]
