"""The memory as one object: long-term scene graph, short-term states, episodes."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence

from memory_core.catalog import ObjectCatalog
from memory_core.config import MemoryConfig
from memory_core.embedding import TextEmbedder, load_default_embedder
from memory_core.episodic import EpisodicMemory
from memory_core.errors import InvalidInputError
from memory_core.gcpause import paused_gc
from memory_core.geometry import ViewVolume
from memory_core.retrieval import PlanningContext, build_context
from memory_core.scene_graph import SceneGraph
from memory_core.snapshot import ChangeSet, MemorySnapshot
from memory_core.stm import ObjectState, ShortTermMemory
from memory_core.store.base import MemoryStore
from memory_core.types import Episode, Event, ObjectObservation
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
        self.quarantined: tuple[tuple[str, str], ...] = ()
        """``(node id, reason)`` of stored nodes the last load left out (see the store)."""
        self._committed_ids: set[str] = set()
        """Node ids as of the last save/commit: nodes added or removed by other paths
        than :meth:`observe` (floor plans, importers) are found by comparing with it."""
        self._committed_episodes: dict[str, Episode] = {}
        """Episodes as of the last save/commit (values are replaced when they change, so
        a commit sends those that are not these very objects: every episode in every
        commit made a lifelong memory's commits grow without end)."""

    # ------------------------------------------------------------------ updates
    def observe(
        self,
        batch: Sequence[ObjectObservation],
        t: float | None = None,
        view: ViewVolume | None = None,
        expected_ids: Iterable[str] | None = None,
        absent_ids: Iterable[str] | None = None,
    ) -> IngestReport:
        """Fuse observations into the scene graph and refresh their short-term states.

        ``expected_ids`` should have been seen (each miss lowers confidence);
        ``absent_ids`` were looked for where memory believed them and are not there (gone
        at once). Neither applies to what this batch saw or a closed container hides."""
        # Paused collector: a large batch builds tens of thousands of small acyclic
        # values, and each full collection walked a large memory (10k observations next
        # to a 100k-node graph: +0.15 s).
        with paused_gc():
            return self._observe(batch, t, view, expected_ids, absent_ids)

    def _observe(
        self,
        batch: Sequence[ObjectObservation],
        t: float | None,
        view: ViewVolume | None,
        expected_ids: Iterable[str] | None,
        absent_ids: Iterable[str] | None,
    ) -> IngestReport:
        report = ingest(self.graph, batch, t, view, expected_ids, self.catalog, absent_ids)
        graph = self.graph

        def state_of(node_id: str) -> ObjectState:
            node = graph.node(node_id)
            support = graph.support_of(node_id)
            return ObjectState(
                node_id,
                node.label,
                node.position,
                support[0] if support else None,
                graph.room_of(node_id),
                dict(node.state),
                node.last_seen,
            )

        self.stm.observe_many([(i, graph.node(i).label) for i in report.node_ids], state_of)
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
                nodes,
                edges,
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
        self._committed_ids = set(graph.node_ids())
        self._committed_episodes = {e.episode_id: e for e in episodic.episodes}
        self.quarantined = snapshot.quarantined

    def save(self, store: MemoryStore) -> None:
        with paused_gc():
            store.save(self._snapshot(canonical=False))
        self._dirty_nodes.clear()
        self._committed_events = len(self.episodic)
        self._committed_ids = set(self.graph.node_ids())
        self._committed_episodes = {e.episode_id: e for e in self.episodic.episodes}

    def load(self, store: MemoryStore) -> None:
        with paused_gc():
            self.restore(store.load())

    def pending_changes(self) -> ChangeSet:
        """What changed since the last save/commit/take, as one change set."""
        ids = set(self.graph.node_ids())
        dirty = sorted((self._dirty_nodes & ids) | (ids - self._committed_ids))
        removed = sorted((self._dirty_nodes | self._committed_ids) - ids)
        nodes = tuple(self.graph.node(i) for i in dirty)
        edges = tuple(
            {
                (e.src, e.relation, e.dst): e for i in dirty for e in self.graph.incident_edges(i)
            }.values()
        )
        meta = self.graph.meta_record()
        stm_entries, stm_meta = self.stm.to_records()
        return ChangeSet(
            nodes=nodes,
            removed_nodes=tuple(removed),
            edge_nodes=tuple(dirty),
            edges=edges,
            episodes=tuple(
                e
                for e in self.episodic.episodes
                if self._committed_episodes.get(e.episode_id) is not e
            ),
            events=tuple(self.episodic.events_since(self._committed_events)),
            graph_meta=meta,
            stm_entries=tuple(stm_entries),
            stm_meta=stm_meta,
        )

    def apply_changes(self, changes: ChangeSet) -> ChangeSet:
        """Merge a change set made on a copy of this memory, in place, in time proportional
        to the change: per node the change set wins, edges of the nodes it lists are
        replaced, its events are appended after this memory's own (re-sequenced), its STM
        replaces this one. Returns what a store must write to follow; the caller marks it
        committed once written. On a change set that does not fit (an edge to an unknown
        node, an event for an unknown episode or older than the newest) raises
        :class:`InvalidInputError` and changes nothing."""
        graph, episodic = self.graph, self.episodic
        incoming = {n.id: n for n in changes.nodes}
        removed = set(changes.removed_nodes) - set(incoming)

        def exists(node_id: str) -> bool:
            return node_id in incoming or (node_id in graph and node_id not in removed)

        for n in changes.nodes:
            graph.check_plausible(f"change set node {n.id!r}", n.position, n.box)
        for e in changes.edges:
            if not (exists(e.src) and exists(e.dst)) or e.src == e.dst:
                raise InvalidInputError(
                    f"change set edge {e.src!r} -{e.relation}-> {e.dst!r} dangles"
                )
        episodes = {ep.episode_id for ep in episodic.episodes} | {
            ep.episode_id for ep in changes.episodes
        }
        last_t = episodic.events()[-1].t if len(episodic) else float("-inf")
        events = sorted(changes.events, key=lambda e: e.seq)
        for ev in events:
            if ev.episode_id not in episodes:
                raise InvalidInputError(f"change set event for unknown episode {ev.episode_id!r}")
            if ev.t < last_t:
                raise InvalidInputError(
                    f"change set event at t={ev.t} is older than the memory's newest ({last_t})"
                )
            last_t = ev.t
        if changes.stm_entries is not None and len(changes.stm_entries) > self.stm.capacity:
            raise InvalidInputError("change set STM holds more entries than this STM's capacity")
        # Validated: from here on nothing can fail on the change set's account.
        for node_id in sorted(removed):
            if node_id in graph:
                graph.remove_node(node_id)
        polys = (changes.graph_meta or {}).get("room_polygons", {})
        for n in changes.nodes:
            if n.id in graph:
                graph.replace_node(n)
            else:
                graph.add_node(n, polygon=polys.get(n.id))
        touched = {i for i in changes.edge_nodes if i in graph}
        for node_id in touched:
            graph.clear_edges(node_id)
        for e in changes.edges:
            graph.add_edge(e.src, e.dst, e.relation, **dict(e.attrs))
        if changes.graph_meta is not None:
            graph.merge_meta(changes.graph_meta)
        if changes.stm_entries is not None:
            self.stm.load_records(changes.stm_entries, changes.stm_meta or {})
        for ep in changes.episodes:
            episodic.put_episode(ep)
        appended = tuple(episodic.record(dataclasses.replace(ev, seq=-1)) for ev in events)
        touched |= set(incoming)
        edge_nodes = sorted(touched | removed)
        edges = {(e.src, e.relation, e.dst): e for i in touched for e in graph.incident_edges(i)}
        stm_entries, stm_meta = self.stm.to_records()
        return ChangeSet(
            nodes=changes.nodes,
            removed_nodes=tuple(sorted(removed)),
            edge_nodes=tuple(edge_nodes),
            edges=tuple(edges.values()),
            episodes=tuple(changes.episodes),
            events=appended,
            graph_meta=graph.meta_record(),
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
        self._committed_episodes.update((e.episode_id, e) for e in changes.episodes)

    def commit(self, store: MemoryStore) -> ChangeSet:
        """Write what changed since the last save/commit as one atomic batch."""
        changes = self.pending_changes()
        store.write(changes)
        self.mark_committed(changes)
        return changes
