"""Long-term memory: a layered 3D scene graph (building → rooms → furniture → objects).

Node values live in a dict of frozen :class:`SceneNode`; the topology lives in a
networkx ``MultiDiGraph`` keyed by relation. Label, layer, spatial and change-time
indexes keep the common queries far below a scan of the graph.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import networkx as nx
import numpy as np
import numpy.typing as npt
from shapely import STRtree
from shapely.geometry import Point
from sortedcontainers import SortedList

from memory_core.cold import LazyEdges, LazyNodes, NodeTable
from memory_core.config import SceneGraphConfig
from memory_core.edges import EdgeStore
from memory_core.embedding import TextEmbedder, label_text
from memory_core.errors import (
    DuplicateIdError,
    EmbeddingsUnavailableError,
    InvalidInputError,
    UnknownNodeError,
)
from memory_core.geometry import RoomFootprint, horizontal, room_polygons
from memory_core.spatial import SpatialGrid
from memory_core.types import (
    COORDINATE_LIMIT_M,
    Box3D,
    Layer,
    Relation,
    SceneEdge,
    SceneNode,
    Vec3,
    check_bounded,
    trusted,
)

__all__ = ["RoomPath", "SceneGraph"]

log = logging.getLogger(__name__)

K = TypeVar("K")

_SPATIAL_LAYERS = frozenset({Layer.OBJECT, Layer.RECEPTACLE, Layer.PLACE})
_THINGS = (Layer.OBJECT, Layer.RECEPTACLE)
_SUPPORT = (Relation.IN, Relation.ON)


@dataclass(frozen=True, slots=True)
class RoomPath:
    """Rooms from start to goal and the door (or ``None`` if open) between each pair."""

    rooms: tuple[str, ...]
    doors: tuple[str | None, ...]


class SceneGraph:
    def __init__(
        self, config: SceneGraphConfig | None = None, embedder: TextEmbedder | None = None
    ) -> None:
        self.config = config or SceneGraphConfig()
        self.embedder = embedder
        self.meta: dict[str, Any] = {"up_axis": self.config.up_axis}
        self._nodes = NodeTable()
        self._edges = EdgeStore()
        self._by_label: dict[str, set[str]] = {}
        self._by_layer: dict[Layer, set[str]] = {layer: set() for layer in Layer}
        # One grid per layer: a query for receptacles never walks the (many more) objects.
        up = 1 if self.config.up_axis == "y" else 2
        self._grids = {
            layer: SpatialGrid(self.config.grid_cell_m, column_axis=up) for layer in _SPATIAL_LAYERS
        }
        self._rooms: dict[str, RoomFootprint] = {}
        self._room_tree: tuple[Any, list[str]] | None = None
        # (last_changed, id) of every node, for changed_since: made on its first call
        # (most runs never ask, and 100k loaded nodes took 50 ms to sort), kept after.
        self._changes: Any = None
        self._label_vecs: dict[str, np.ndarray[Any, Any]] = {}
        self._id_counter = 0
        ns = self.config.id_namespace
        self._id_suffix = f"@{ns}" if ns else ""

    # ------------------------------------------------------------------ basic access
    def __len__(self) -> int:
        return len(self._nodes)

    def __contains__(self, node_id: object) -> bool:
        return node_id in self._nodes

    @property
    def up_axis(self) -> str:
        return str(self.meta["up_axis"])

    def node(self, node_id: str) -> SceneNode:
        try:
            return self._nodes[node_id]
        except KeyError:
            raise UnknownNodeError(f"no node with id {node_id!r}") from None

    def nodes(self, layer: Layer | None = None, include_gone: bool = False) -> list[SceneNode]:
        ids: Iterable[str] = self._nodes if layer is None else sorted(self._by_layer[layer])
        out = [self._nodes[i] for i in ids]
        return out if include_gone else [n for n in out if n.present]

    def edges(self, relation: Relation | None = None) -> list[SceneEdge]:
        # Trusted: the graph checked each edge when it was added.
        return [
            trusted(SceneEdge, src=u, dst=v, relation=k, attrs=dict(d) if d else {})
            for u, v, k, d in self._edges.edges()
            if relation is None or k == relation
        ]

    def incident_edges(self, node_id: str) -> list[SceneEdge]:
        """Every edge into or out of a node."""
        self.node(node_id)
        out = [SceneEdge(node_id, v, k, dict(d)) for v, k, d in self._edges.out_edges(node_id)]
        inc = [SceneEdge(u, node_id, k, dict(d)) for u, k, d in self._edges.in_edges(node_id)]
        return out + inc

    def count_edges(self, relation: Relation | None = None) -> int:
        if relation is None:
            return len(self._edges)
        return sum(1 for _u, _v, k, _d in self._edges.edges() if k == relation)

    def room_footprint(self, room_id: str) -> RoomFootprint | None:
        return self._rooms.get(room_id)

    # ------------------------------------------------------------------ mutation
    def new_id(self, label: str) -> str:
        while True:
            self._id_counter += 1
            candidate = f"{label}#{self._id_counter}{self._id_suffix}"
            if candidate not in self._nodes:
                return candidate

    def add_node(
        self, node: SceneNode, polygon: Sequence[tuple[float, float]] | None = None
    ) -> None:
        """Add a new node; ``polygon`` (floor plane) makes a room locatable."""
        if node.id in self._nodes:
            raise DuplicateIdError(f"node id {node.id!r} already exists")
        footprint = RoomFootprint(node.id, polygon) if polygon is not None else None
        self._nodes[node.id] = node
        self._edges.add_node(node.id)
        self._index(node)
        if footprint is not None:
            self._rooms[node.id] = footprint
            self._room_tree = None

    def replace_node(self, node: SceneNode) -> None:
        old = self.node(node.id)
        self._unindex(old)
        self._nodes[node.id] = node
        self._index(node)

    def update_node(self, node_id: str, **changes: Any) -> SceneNode:
        new = dataclasses.replace(self.node(node_id), **changes)
        self.replace_node(new)
        return new

    def remove_node(self, node_id: str) -> None:
        node = self.node(node_id)
        self._unindex(node)
        del self._nodes[node_id]
        self._edges.remove_node(node_id)
        if self._rooms.pop(node_id, None) is not None:
            self._room_tree = None

    def _index(self, node: SceneNode) -> None:
        self._by_label.setdefault(node.label, set()).add(node.id)
        self._by_layer[node.layer].add(node.id)
        if node.layer in _SPATIAL_LAYERS and node.present:
            self._grids[node.layer].insert(node.id, node.position)
        if self._changes is not None:
            self._changes.add((node.last_changed, node.id))

    def _unindex(self, node: SceneNode) -> None:
        ids = self._by_label[node.label]
        ids.discard(node.id)
        if not ids:
            del self._by_label[node.label]
        self._by_layer[node.layer].discard(node.id)
        grid = self._grids.get(node.layer)
        if grid is not None:
            grid.remove(node.id)
        if self._changes is not None:
            self._changes.discard((node.last_changed, node.id))

    def add_edge(self, src: str, dst: str, relation: Relation, **attrs: Any) -> None:
        for end in (src, dst):
            if end not in self._nodes:
                raise UnknownNodeError(f"edge {src!r} -{relation}-> {dst!r}: no node {end!r}")
        if src == dst:
            raise InvalidInputError(f"self-loop {src!r} -{relation}-> itself")
        self._edges.add(src, dst, Relation(relation), attrs)

    def remove_edges(
        self, node_id: str, relations: Iterable[Relation], outgoing: bool = True
    ) -> None:
        rels = set(relations)
        if outgoing:
            doomed = [(node_id, v, k) for v, k, _d in self._edges.out_edges(node_id) if k in rels]
        else:
            doomed = [(u, node_id, k) for u, k, _d in self._edges.in_edges(node_id) if k in rels]
        for u, v, k in doomed:
            self._edges.remove(u, v, k)

    def set_support(self, node_id: str, parent_id: str | None, relation: Relation) -> None:
        """Make ``parent_id`` the one receptacle ``node_id`` is in/on (None: free-standing).

        Supports never form a cycle: where ``parent_id`` rests (through others) on
        ``node_id``, the link into ``node_id`` is older than this one and is dropped (a
        counter first seen as a sliver and taken to stand on its sink, then seen whole
        holding that sink)."""
        self.node(node_id)
        if parent_id is None:
            self.remove_edges(node_id, _SUPPORT)
            return
        self.node(parent_id)  # both known before anything changes
        if parent_id == node_id:
            raise InvalidInputError(f"{node_id!r} cannot rest on itself")
        self.remove_edges(node_id, _SUPPORT)
        last: str | None = None
        cur: str | None = parent_id
        seen: set[str] = set()
        while cur is not None and cur not in seen:
            if cur == node_id and last is not None:
                self.remove_edges(last, _SUPPORT)
                break
            seen.add(cur)
            last = cur
            up = self.support_of(cur)
            cur = up[0] if up is not None else None
        self.add_edge(node_id, parent_id, relation)

    def set_room(self, node_id: str, room_id: str | None) -> None:
        current = self.room_of(node_id)
        if current == room_id:
            return
        if current is not None:
            self._edges.remove(current, node_id, Relation.CONTAINS)
        if room_id is not None:
            self.add_edge(room_id, node_id, Relation.CONTAINS)

    # ------------------------------------------------------------------ structural queries
    def room_of(self, node_id: str) -> str | None:
        """The room containing a node, directly or through a place (Hydra-style graphs)."""
        self.node(node_id)
        for u, k, _d in self._edges.in_edges(node_id):
            if k != Relation.CONTAINS:
                continue
            layer = self._nodes[u].layer
            if layer == Layer.ROOM:
                return str(u)
            if layer == Layer.PLACE:
                return self.room_of(u)
        return None

    def support_of(self, node_id: str) -> tuple[str, Relation] | None:
        """The receptacle a node is in/on, with the relation."""
        self.node(node_id)
        for v, k, _d in self._edges.out_edges(node_id):
            if k in _SUPPORT:
                return str(v), Relation(k)
        return None

    def locate_room(self, position: Sequence[float]) -> str | None:
        """The room whose floor polygon holds ``position`` (None if outside all)."""
        if not self._rooms:
            return None
        if self._room_tree is None:  # rebuilt lazily: rooms are added rarely, looked up often
            ids = list(self._rooms)
            self._room_tree = (STRtree(room_polygons([self._rooms[i] for i in ids])), ids)
        tree, ids = self._room_tree
        x, y = horizontal(position, self.up_axis)
        for idx in tree.query(Point(x, y), predicate="within"):
            return ids[int(idx)]
        return None

    def neighbors(self, node_id: str, relation: Relation, incoming: bool = False) -> list[str]:
        self.node(node_id)
        view = self._edges.in_edges if incoming else self._edges.out_edges
        return [other for other, k, _d in view(node_id) if k == relation]

    # ------------------------------------------------------------------ user queries
    def find_by_label(self, label: str, include_gone: bool = False) -> list[SceneNode]:
        """Nodes with this label, most confident first."""
        nodes = [self._nodes[i] for i in self._by_label.get(label, ())]
        if not include_gone:
            nodes = [n for n in nodes if n.present]
        nodes.sort(key=lambda n: (-n.confidence, n.id))
        return nodes

    def labels(self) -> list[str]:
        return sorted(self._by_label)

    def contents(
        self, receptacle_id: str, relation: Relation | None = None, label: str | None = None
    ) -> list[SceneNode]:
        """Things in/on a receptacle (``relation`` restricts to one of the two, or to
        ``near``: things near it), of one ``label`` if given (``unknown``: what is there
        that nobody has named yet)."""
        self.node(receptacle_id)
        rels = _SUPPORT if relation is None else (relation,)
        return sorted(
            (
                self._nodes[u]
                for u, k, _d in self._edges.in_edges(receptacle_id)
                if k in rels
                and self._nodes[u].present
                and (label is None or self._nodes[u].label == label)
            ),
            key=lambda n: n.id,
        )

    def in_room(self, room_id: str, layers: Iterable[Layer] = _THINGS) -> list[SceneNode]:
        room = self.node(room_id)
        if room.layer != Layer.ROOM:
            raise InvalidInputError(f"{room_id!r} is a {room.layer}, not a room")
        wanted = set(layers)
        found: set[str] = set()
        for child in self.neighbors(room_id, Relation.CONTAINS):
            found.add(child)
            if self._nodes[child].layer == Layer.PLACE:
                found.update(self.neighbors(child, Relation.CONTAINS))
        return sorted(
            (
                self._nodes[i]
                for i in found
                if self._nodes[i].layer in wanted and self._nodes[i].present
            ),
            key=lambda n: n.id,
        )

    def _accept(self, label: str | None) -> Callable[[str], bool] | None:
        if label is None:
            return None
        label_of = self._nodes.label

        def accept(node_id: str) -> bool:
            return label_of(node_id) == label

        return accept

    def _layer_grids(self, layers: Iterable[Layer]) -> list[SpatialGrid]:
        return [self._grids[layer] for layer in dict.fromkeys(layers) if layer in self._grids]

    def check_plausible(self, what: str, position: Vec3, box: Box3D | None) -> None:
        """Refuse a position or box beyond the configured plausible extent."""
        limit = self.config.max_abs_coordinate_m
        values = (*position, *box.center, *box.size) if box is not None else position
        if any(abs(v) > limit for v in values):
            raise InvalidInputError(
                f"{what} lies beyond the plausible extent of this memory "
                f"(|coordinate| <= {limit:g} m, scene_graph.max_abs_coordinate_m): "
                f"position {position!r}" + (f", box {box}" if box is not None else "")
            )

    def nearest(
        self,
        point: Sequence[float],
        k: int = 5,
        layers: Iterable[Layer] = _THINGS,
        label: str | None = None,
    ) -> list[tuple[float, SceneNode]]:
        p = _point(point)
        accept = self._accept(label)
        # The k nearest overall are among each layer's k nearest.
        hits = sorted(h for grid in self._layer_grids(layers) for h in grid.nearest(p, k, accept))
        return [(d, self._nodes[i]) for d, i in hits[:k]]

    def within_radius(
        self,
        point: Sequence[float],
        radius: float,
        layers: Iterable[Layer] = _THINGS,
        label: str | None = None,
    ) -> list[tuple[float, SceneNode]]:
        p = _point(point)
        if not 0 <= radius < math.inf:
            raise InvalidInputError(f"radius must be finite and >= 0, got {radius}")
        # Past twice the coordinate limit a radius holds everything: keep the grid's cell
        # arithmetic small.
        radius = min(radius, 4 * COORDINATE_LIMIT_M)
        accept = self._accept(label)
        grids = self._layer_grids(layers)
        hits = [h for grid in grids for h in grid.within(p, radius, accept)]
        if len(grids) > 1:
            hits.sort()
        return [(d, self._nodes[i]) for d, i in hits]

    def within_radius_many(
        self,
        points: Sequence[Sequence[float]],
        radii: Sequence[float],
        layers: Iterable[Layer] = _THINGS,
    ) -> list[list[tuple[float, SceneNode]]]:
        """:meth:`within_radius` (of every label) for many points: the same answers, for a
        large batch in a fraction of the time (see :meth:`SpatialGrid.within_many`)."""
        pts = [_point(p) for p in points]
        capped = []
        for r in radii:
            if not 0 <= r < math.inf:
                raise InvalidInputError(f"radius must be finite and >= 0, got {r}")
            capped.append(min(r, 4 * COORDINATE_LIMIT_M))
        grids = self._layer_grids(layers)
        per_grid = [grid.within_many(pts, capped) for grid in grids]
        nodes = self._nodes
        out: list[list[tuple[float, SceneNode]]] = []
        for q in range(len(pts)):
            hits = [h for answers in per_grid for h in answers[q]]
            if len(per_grid) > 1:
                hits.sort()
            out.append([(d, nodes[i]) for d, i in hits])
        return out

    def latest_time(self) -> float:
        """The latest time any node records, seen or changed (0 for an empty graph)."""
        return self._nodes.latest_time()

    def changed_since(self, t: float) -> list[SceneNode]:
        """Nodes whose position, state, support or presence changed at or after ``t``."""
        if self._changes is None:
            self._changes = SortedList(self._nodes.change_keys())
        return [self._nodes[i] for _t, i in self._changes.irange(minimum=(t, ""))]

    def room_path(self, start: str, goal: str) -> RoomPath | None:
        """Rooms (and doors) between two rooms or the rooms of two nodes; None if unconnected."""
        a = start if self.node(start).layer == Layer.ROOM else self.room_of(start)
        b = goal if self.node(goal).layer == Layer.ROOM else self.room_of(goal)
        if a is None or b is None:
            return None
        rooms = self._by_layer[Layer.ROOM]
        adj = nx.Graph()
        adj.add_nodes_from(rooms)
        for u, v, k, d in self._edges.edges():
            if k == Relation.ADJACENT and u in rooms and v in rooms:
                adj.add_edge(u, v, door=d.get("door"))
        try:
            path = nx.shortest_path(adj, a, b)
        except nx.NetworkXNoPath:
            return None
        doors = tuple(adj.edges[u, v]["door"] for u, v in itertools.pairwise(path))
        return RoomPath(tuple(path), doors)

    def search(
        self, text: str, k: int = 5, layers: Iterable[Layer] = _THINGS
    ) -> list[tuple[float, SceneNode]]:
        """Nodes whose label is closest in meaning to ``text`` (needs an embedder)."""
        if self.embedder is None:
            raise EmbeddingsUnavailableError(
                "query by meaning needs embeddings: install the 'embeddings' extra and "
                "set embeddings: true in the memory config"
            )
        wanted = set(layers)
        labels = sorted(
            {
                label
                for _i, layer, label, present in self._nodes.brief()
                if layer in wanted and present
            }
        )
        if not labels:
            return []
        missing = [lab for lab in labels if lab not in self._label_vecs]
        if missing:
            vecs = self.embedder.embed([label_text(lab) for lab in missing])
            self._label_vecs.update(zip(missing, vecs, strict=True))
        q = self.embedder.embed([text])[0]
        sims = np.stack([self._label_vecs[lab] for lab in labels]) @ q
        out: list[tuple[float, SceneNode]] = []
        for idx in np.argsort(-sims):
            for node in self.find_by_label(labels[idx]):
                if node.layer in wanted:
                    out.append((float(sims[idx]), node))
            if len(out) >= k:
                break
        return out[:k]

    def iter_nodes(self) -> Iterator[SceneNode]:
        return iter(self._nodes.values())

    def node_ids(self) -> list[str]:
        """Every node's id (present or gone), without building the nodes."""
        return list(self._nodes)

    # ------------------------------------------------------------------ (de)serialisation
    def to_records(self) -> tuple[LazyNodes, LazyEdges, dict[str, Any]]:
        """Nodes, edges and meta for a store: sequences that build each node and edge as
        it is read (a columnar store reads neither, see :mod:`memory_core.cold`)."""
        nodes = self._nodes.records()
        return nodes, self._edges.columns(nodes.ids()), self.meta_record()

    def meta_record(self) -> dict[str, Any]:
        """What a store keeps besides nodes and edges (room polygons, the id counter)."""
        meta = dict(self.meta)
        meta["room_polygons"] = {rid: fp.xy.tolist() for rid, fp in self._rooms.items()}
        meta["id_counter"] = self._id_counter
        return meta

    def merge_meta(self, meta: Mapping[str, Any]) -> None:
        """Adopt another copy's meta: its keys win, room polygons are added for rooms this
        graph holds, and the id counter never goes back (both copies mint ids)."""
        meta = dict(meta)
        polys = meta.pop("room_polygons", {}) or {}
        self._id_counter = max(self._id_counter, int(meta.pop("id_counter", 0)))
        meta.pop("up_axis", None)  # a graph's axis is fixed at creation
        self.meta.update(meta)
        for room_id, poly in polys.items():
            if room_id in self._nodes and room_id not in self._rooms:
                self._rooms[room_id] = RoomFootprint(room_id, [(p[0], p[1]) for p in poly])
                self._room_tree = None

    def clear_edges(self, node_id: str) -> None:
        """Remove every edge into or out of a node."""
        self.node(node_id)
        doomed = [
            *((node_id, v, k) for v, k, _d in self._edges.out_edges(node_id)),
            *((u, node_id, k) for u, k, _d in self._edges.in_edges(node_id)),
        ]
        for u, v, k in doomed:
            self._edges.remove(u, v, k)

    @classmethod
    def from_records(
        cls,
        nodes: Iterable[SceneNode],
        edges: Iterable[SceneEdge],
        meta: Mapping[str, Any],
        config: SceneGraphConfig | None = None,
        embedder: TextEmbedder | None = None,
    ) -> SceneGraph:
        meta = dict(meta)
        polys: dict[str, list[list[float]]] = meta.pop("room_polygons", {})
        counter = int(meta.pop("id_counter", 0))
        cfg = config or SceneGraphConfig()
        if "up_axis" in meta and meta["up_axis"] != cfg.up_axis:
            cfg = dataclasses.replace(cfg, up_axis=str(meta["up_axis"]))
        graph = cls(cfg, embedder)
        graph.meta.update(meta)
        graph._id_counter = counter
        # Bulk build: per-node add_node (and its sorted-index insert) dominates large loads.
        lazy = isinstance(nodes, LazyNodes) and nodes.cold is not None
        if lazy:
            assert isinstance(nodes, LazyNodes)
            node_list = list(nodes.extra)
            graph._nodes = NodeTable(nodes.cold, nodes.keep)
            graph._index_cold(nodes)
        else:
            node_list = list(nodes)
        expected = len(graph._nodes) + len(node_list)
        for n in node_list:
            graph._nodes[n.id] = n
        if len(graph._nodes) != expected:
            raise DuplicateIdError("stored nodes repeat an id")
        # Rows of a store's base get their edge dictionaries when first touched.
        graph._edges.add_nodes(graph._nodes if not lazy else (n.id for n in node_list))
        for n in node_list:
            graph._index(n)
        for room_id in polys:
            if room_id not in graph._nodes:
                raise InvalidInputError(f"stored polygon for unknown room {room_id!r}")
        graph._rooms.update((f.room_id, f) for f in _footprints(polys))
        if isinstance(edges, LazyEdges):
            graph._check_lazy_edges(edges)
            edge_list = list(edges.extra)
        else:
            edge_list = list(edges)
        for e in edge_list:
            if e.src not in graph._nodes or e.dst not in graph._nodes or e.src == e.dst:
                raise InvalidInputError(
                    f"stored edge {e.src!r} -{e.relation}-> {e.dst!r} is dangling"
                )
        if isinstance(edges, LazyEdges):
            graph._edges.load(edges)
        else:
            graph._edges.add_many((e.src, e.dst, e.relation, dict(e.attrs)) for e in edge_list)
        return graph

    def _index_cold(self, nodes: LazyNodes) -> None:
        """Index the cold rows of a fresh graph from their columns (no node is built)."""
        cold = nodes.cold
        assert cold is not None
        rows = np.asarray(nodes.keep, dtype=np.int64)
        row_list = rows.tolist()
        every = len(row_list) == len(cold) and row_list == list(range(len(cold)))
        ids = list(cold.ids) if every else [cold.ids[i] for i in row_list]
        labels = cold.labels if every else [cold.labels[i] for i in row_list]
        layers = cold.layers if every else [cold.layers[i] for i in row_list]
        label_codes = {label: k for k, label in enumerate(dict.fromkeys(labels))}
        label_code = np.fromiter(map(label_codes.__getitem__, labels), np.int64, len(labels))
        codes = {layer: k for k, layer in enumerate(Layer)}
        layer_code = np.fromiter(map(codes.__getitem__, layers), np.int64, len(layers))
        id_array = np.array(ids, dtype=object)
        for label, members in _grouped(id_array, label_code, list(label_codes)):
            self._by_label.setdefault(label, set()).update(members)
        for layer, members in _grouped(id_array, layer_code, list(Layer)):
            self._by_layer[layer].update(members)
        present = cold.present[rows]
        for layer, grid in self._grids.items():
            pick = np.flatnonzero(present & (layer_code == codes[layer]))
            grid.insert_later([ids[k] for k in pick.tolist()], cold.position[rows[pick]])

    def _check_lazy_edges(self, edges: LazyEdges) -> None:
        rows = np.arange(len(edges.src)) if edges.keep is None else edges.keep
        src, dst = edges.src[rows], edges.dst[rows]
        if len(rows) == 0:
            return
        known = self._nodes.has_each(edges.names)
        bad = ~(known[src] & known[dst]) | (src == dst)
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            raise InvalidInputError(
                f"stored edge {edges.names[int(src[k])]!r} -{edges.relations[int(rows[k])]}-> "
                f"{edges.names[int(dst[k])]!r} is dangling"
            )


def _footprints(polys: Mapping[str, Sequence[Sequence[float]]]) -> list[RoomFootprint]:
    """Stored room polygons as footprints. A polygon that is not one (not numbers, beyond
    the coordinate limit, no area) is left out with a warning: its room stays, without a
    footprint, and the rest of the memory loads (the polygon came from an importer; a
    save writes the memory without it)."""
    rooms = list(polys.items())
    try:
        return RoomFootprint.many(rooms)
    except (InvalidInputError, TypeError, ValueError, IndexError, KeyError):
        pass
    out = []
    for room_id, poly in rooms:
        try:
            out.append(RoomFootprint(room_id, [(v[0], v[1]) for v in poly]))
        except (InvalidInputError, TypeError, ValueError, IndexError, KeyError) as exc:
            log.warning("stored polygon of room %r left out: %s", room_id, exc)
    return out


def _grouped(
    ids: npt.NDArray[np.object_], code: npt.NDArray[np.int64], names: Sequence[K]
) -> Iterator[tuple[K, list[str]]]:
    """``(names[c], ids whose code is c)`` for each code used: grouped in numpy, so an
    index takes each group in one call (100k set.add calls were a sixth of a load)."""
    grouped = ids[np.argsort(code, kind="stable")].tolist()
    ends = np.cumsum(np.bincount(code, minlength=len(names))).tolist()
    start = 0
    for name, end in zip(names, ends, strict=True):
        if end > start:
            yield name, grouped[start:end]
        start = end


def _point(point: Sequence[float]) -> Vec3:
    p = check_bounded("query point", point, COORDINATE_LIMIT_M)
    if len(p) != 3:
        raise InvalidInputError(f"query point must have 3 components, got {len(p)}")
    return (p[0], p[1], p[2])
