"""The memory as one object: long-term scene graph, short-term states, episodes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from memory_core.catalog import ObjectCatalog
from memory_core.config import MemoryConfig
from memory_core.embedding import TextEmbedder, load_default_embedder
from memory_core.episodic import EpisodicMemory
from memory_core.gcpause import paused_gc
from memory_core.geometry import ViewVolume
from memory_core.retrieval import PlanningContext, build_context
from memory_core.scene_graph import SceneGraph
from memory_core.snapshot import ChangeSet, MemorySnapshot
from memory_core.stm import ObjectState, ShortTermMemory
from memory_core.store.base import MemoryStore
from memory_core.types import Event, ObjectObservation
from memory_core.update import IngestReport, ingest

__all__ = ["Memory"]


class Memory:
    def __init__(
        self,
        config: MemoryConfig | None = None,
        catalog: ObjectCatalog | None = None,
        embedder: TextEmbedder | None = None,
        graph: SceneGraph | None = None,
    ) -> None:
        self.config = config or MemoryConfig()
        if embedder is None and self.config.embeddings:
            embedder = load_default_embedder()
        self.embedder = embedder
        self.catalog = catalog
        self.graph = graph or SceneGraph(self.config.scene_graph, embedder)
        self.graph.embedder = embedder
        self.stm = ShortTermMemory(self.config.stm)
        self.episodic = EpisodicMemory(self.config.episodic, embedder)
        self._dirty_nodes: set[str] = set()
        self._committed_events = 0
        self._committed_ids: set[str] = set()
        """Node ids as of the last save/commit: nodes added or removed by other paths
        than :meth:`observe` (floor plans, importers) are found by comparing with it."""

    # ------------------------------------------------------------------ updates
    def observe(
        self,
        batch: Sequence[ObjectObservation],
        t: float | None = None,
        view: ViewVolume | None = None,
        expected_ids: Iterable[str] | None = None,
    ) -> IngestReport:
        """Fuse observations into the scene graph and refresh their short-term states."""
        report = ingest(self.graph, batch, t, view, expected_ids, self.catalog)
        for node_id in report.node_ids:
            node = self.graph.node(node_id)
            support = self.graph.support_of(node_id)
            self.stm.observe(
                ObjectState(
                    node_id,
                    node.label,
                    node.position,
                    support[0] if support else None,
                    self.graph.room_of(node_id),
                    dict(node.state),
                    node.last_seen,
                )
            )
        for node_id in report.gone:
            self.stm.forget(node_id)
        touched = {*report.node_ids, *report.missed, *report.gone}
        for node_id in list(touched):
            support = self.graph.support_of(node_id)
            if support is not None:
                touched.add(support[0])
        self._dirty_nodes |= touched
        return report

    def record(self, event: Event) -> Event:
        return self.episodic.record(event)

    def context(
        self, instruction: str, agent_room: str | None = None, budget_tokens: int | None = None
    ) -> PlanningContext:
        return build_context(
            instruction,
            self.graph,
            self.stm,
            self.episodic,
            self.config.retrieval,
            agent_room,
            budget_tokens,
        )

    # ------------------------------------------------------------------ persistence
    def snapshot(self) -> MemorySnapshot:
        with paused_gc():
            return self._snapshot()

    def _snapshot(self, canonical: bool = True) -> MemorySnapshot:
        """All records; ``canonical`` sorts them so snapshots compare equal (a store
        does not need the order, so saving skips the sort)."""
        nodes, edges, meta = self.graph.to_records()
        stm_entries, stm_meta = self.stm.to_records()
        episodes, events = self.episodic.to_records()
        if not canonical:
            return MemorySnapshot(
                tuple(nodes),
                tuple(edges),
                meta,
                tuple(stm_entries),
                stm_meta,
                tuple(episodes),
                tuple(events),
            )
        return MemorySnapshot(
            nodes=tuple(sorted(nodes, key=lambda n: n.id)),
            edges=tuple(sorted(edges, key=lambda e: (e.src, e.relation.value, e.dst))),
            graph_meta=meta,
            stm_entries=tuple(sorted(stm_entries, key=lambda e: e[0].object_id)),
            stm_meta=stm_meta,
            episodes=tuple(sorted(episodes, key=lambda e: e.episode_id)),
            events=tuple(events),
        )

    def restore(self, snapshot: MemorySnapshot) -> None:
        """Replace the memory by ``snapshot``; on any error the memory is left as it was."""
        with paused_gc():
            self._restore(snapshot)

    def _restore(self, snapshot: MemorySnapshot) -> None:
        graph = SceneGraph.from_records(
            snapshot.nodes,
            snapshot.edges,
            snapshot.graph_meta,
            self.config.scene_graph,
            self.embedder,
        )
        stm = ShortTermMemory(self.config.stm)
        stm.load_records(snapshot.stm_entries, snapshot.stm_meta)
        episodic = EpisodicMemory(self.config.episodic, self.embedder)
        episodic.load_records(snapshot.episodes, snapshot.events)
        self.graph, self.stm, self.episodic = graph, stm, episodic
        self._dirty_nodes.clear()
        self._committed_events = len(episodic)
        self._committed_ids = {n.id for n in graph.iter_nodes()}

    def save(self, store: MemoryStore) -> None:
        with paused_gc():
            store.save(self._snapshot(canonical=False))
        self._dirty_nodes.clear()
        self._committed_events = len(self.episodic)
        self._committed_ids = {n.id for n in self.graph.iter_nodes()}

    def load(self, store: MemoryStore) -> None:
        with paused_gc():
            self.restore(store.load())

    def pending_changes(self) -> ChangeSet:
        """What changed since the last save/commit/take, as one change set."""
        ids = {n.id for n in self.graph.iter_nodes()}
        dirty = sorted((self._dirty_nodes & ids) | (ids - self._committed_ids))
        removed = sorted((self._dirty_nodes | self._committed_ids) - ids)
        nodes = tuple(self.graph.node(i) for i in dirty)
        edges = tuple(
            {
                (e.src, e.relation, e.dst): e for i in dirty for e in self.graph.incident_edges(i)
            }.values()
        )
        _nodes, _edges, meta = self.graph.to_records()
        stm_entries, stm_meta = self.stm.to_records()
        return ChangeSet(
            nodes=nodes,
            removed_nodes=tuple(removed),
            edge_nodes=tuple(dirty),
            edges=edges,
            episodes=tuple(self.episodic.episodes),
            events=tuple(self.episodic.events()[self._committed_events :]),
            graph_meta=meta,
            stm_entries=tuple(stm_entries),
            stm_meta=stm_meta,
        )

    def mark_committed(self, changes: ChangeSet) -> None:
        """``changes`` (from :meth:`pending_changes`) has been written elsewhere."""
        self._dirty_nodes.difference_update(changes.edge_nodes)
        self._dirty_nodes.difference_update(changes.removed_nodes)
        self._committed_ids.update(changes.edge_nodes)
        self._committed_ids.difference_update(changes.removed_nodes)
        self._committed_events += len(changes.events)

    def commit(self, store: MemoryStore) -> ChangeSet:
        """Write what changed since the last save/commit as one atomic batch."""
        changes = self.pending_changes()
        store.write(changes)
        self.mark_committed(changes)
        return changes
