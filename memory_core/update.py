"""Incremental scene-graph update from batches of object observations.

One call to :func:`ingest` validates the whole batch first and only then
mutates the graph, so a bad batch leaves the memory exactly as it was.
Association: an ``object_id`` hint is trusted; otherwise observations are
matched to present nodes of the same label inside a distance gate, with cost
distance + (1 - 3D IoU) + embedding distance, solved jointly (Hungarian).
A thing seen without a label (``unknown``, a segment found by geometry) matches
only a node at the same place (their boxes overlap, or without boxes they are a
hand's width apart), of any label: an ``unknown`` observation of a labelled node is
a sighting of it. A labelled observation matches an ``unknown`` node at the same
place after every same-label match, and names it (its id stays, its label becomes
the seen one).
Negative evidence: nodes that should have been seen (inside the given view or
listed as expected) but were not lose confidence and are eventually marked
gone rather than silently kept; nodes looked for where they were believed
(``absent_ids``) and not seen are gone at once.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from memory_core.catalog import ObjectCatalog
from memory_core.errors import DuplicateIdError, InvalidInputError, UnknownNodeError
from memory_core.geometry import ViewVolume, horizontal, vertical
from memory_core.scene_graph import SceneGraph
from memory_core.types import (
    UNKNOWN_LABEL,
    Box3D,
    Layer,
    ObjectObservation,
    Relation,
    SceneNode,
    Vec3,
    check_finite,
    trusted,
)

__all__ = ["IngestReport", "infer_support", "ingest", "refresh_relations"]

_THINGS = (Layer.OBJECT, Layer.RECEPTACLE)
_INFEASIBLE = 1e6
_SUPPORT_SEARCH_M = 2.5
_MAX_AVERAGED_OBS = 10


@dataclass(frozen=True, slots=True)
class IngestReport:
    matched: tuple[str, ...]
    created: tuple[str, ...]
    moved: tuple[str, ...]
    state_changed: tuple[str, ...]
    missed: tuple[str, ...]
    gone: tuple[str, ...]
    node_ids: tuple[str, ...]
    """The node each observation was assigned to, in batch order."""


def _validate(graph: SceneGraph, batch: Sequence[ObjectObservation]) -> None:
    hinted: set[str] = set()
    for i, obs in enumerate(batch):
        if not isinstance(obs, ObjectObservation):
            raise InvalidInputError(f"batch item {i} is a {type(obs).__name__}, not an observation")
        graph.check_plausible(f"observation {i} ({obs.label!r})", obs.position, obs.box)
        if obs.object_id is not None:
            if obs.object_id in hinted:
                raise DuplicateIdError(f"object_id {obs.object_id!r} appears twice in one batch")
            hinted.add(obs.object_id)
            if obs.object_id in graph:
                held = graph.node(obs.object_id)
                if held.label != obs.label and UNKNOWN_LABEL not in (held.label, obs.label):
                    raise InvalidInputError(
                        f"observation {i} says {obs.object_id!r} is a {obs.label!r}, "
                        f"memory holds it as a {held.label!r}"
                    )
                if held.layer not in _THINGS:
                    raise InvalidInputError(f"{obs.object_id!r} is a {held.layer}, not an object")
    for i, obs in enumerate(batch):
        if obs.parent_id is not None and obs.parent_id not in graph and obs.parent_id not in hinted:
            raise UnknownNodeError(f"observation {i} names unknown parent {obs.parent_id!r}")
        if obs.parent_id is not None and obs.parent_id == obs.object_id:
            raise InvalidInputError(f"observation {i}: {obs.object_id!r} cannot be its own parent")


def _gate(graph: SceneGraph, obs: ObjectObservation) -> float:
    """The association radius for ``obs``: the configured gate, or half the observed
    extent for large things (a desk seen from two sides shows two visible centroids up to
    its size apart)."""
    gate = graph.config.association_gate_m
    return max(gate, 0.5 * max(obs.box.size)) if obs.box is not None else gate


def _cost(graph: SceneGraph, obs: ObjectObservation, node: SceneNode, dist: float) -> float:
    cfg = graph.config
    cost = dist / _gate(graph, obs)
    if obs.box is not None and node.box is not None:
        cost += cfg.iou_weight * (1.0 - obs.box.iou(node.box))
    if obs.embedding is not None and node.embedding is not None:
        a, b = np.asarray(obs.embedding), np.asarray(node.embedding)
        denom = float(np.linalg.norm(a) * np.linalg.norm(b)) or 1.0
        cost += cfg.embedding_weight * (1.0 - float(a @ b) / denom) / 2.0
    return cost


def _fragment_of(
    obs: ObjectObservation, node: SceneNode, catalog: ObjectCatalog | None, up_axis: str
) -> Box3D | None:
    """The union of ``node``'s box and ``obs``'s when ``obs`` is another part of the same
    piece of furniture (a camera sees a dresser's top from one place, its front from
    another): boxes touching, and together no bigger than that type ever is. None else."""
    if catalog is None or obs.box is None or node.box is None or node.layer != Layer.RECEPTACLE:
        return None
    if obs.box.gap(node.box) > _FRAGMENT_GAP_M:
        return None
    union = obs.box.union(node.box)
    return union if _one_piece(union, obs.label, catalog, up_axis) else None


def _one_piece(union: Box3D, label: str, catalog: ObjectCatalog, up_axis: str) -> bool | None:
    """Whether a piece of furniture of type ``label`` can fill ``union`` (None: no size
    known for the type). Sizes are compared sorted (a box's axes need not be the type's),
    and the height with the type's height too: furniture turns about the vertical only
    (two drawers one above the other are no bigger than a drawer on its side, but twice
    as tall as any drawer stands)."""
    info = catalog.info(label)
    if info is None:
        return None
    typical = info.median_size  # AI2-THOR's axes: y up
    return all(
        u <= t * _FRAGMENT_SIZE_SLACK + _FRAGMENT_GAP_M
        for u, t in zip(
            (*sorted(union.size), vertical(union.size, up_axis)),
            (*sorted(typical), typical[1]),
            strict=True,
        )
    )


def _another_piece(
    obs: ObjectObservation, node: SceneNode, catalog: ObjectCatalog | None, up_axis: str
) -> bool:
    """``obs`` is furniture other than ``node`` although near it: furniture stays put, so
    it is the same piece only if one piece can fill both boxes (drawers stacked in a
    chest, shelves of one bookcase), or if the two boxes are much the same (one large
    piece seen twice). Views of one piece from two sides may be apart."""
    if catalog is None or obs.box is None or node.box is None or node.layer != Layer.RECEPTACLE:
        return False
    union = obs.box.union(node.box)
    grown = any(
        u > max(a, b) + _FRAGMENT_GAP_M
        for u, a, b in zip(union.size, obs.box.size, node.box.size, strict=True)
    )
    return grown and _one_piece(union, obs.label, catalog, up_axis) is False


def _fragments(obs: ObjectObservation, catalog: ObjectCatalog) -> bool:
    """Whether ``obs`` may be a part of a larger piece of furniture seen before."""
    return _layer(obs, catalog) == Layer.RECEPTACLE


def _associate(
    graph: SceneGraph,
    batch: Sequence[ObjectObservation],
    free: list[int],
    taken: set[str],
    catalog: ObjectCatalog | None = None,
) -> dict[int, str]:
    rows: list[dict[str, float]] = []
    cols: dict[str, int] = {}
    gates: list[float] = []
    radii: list[float] = []
    for i in free:
        obs = batch[i]
        gate = radius = _gate(graph, obs)
        if catalog is not None and obs.box is not None and _fragments(obs, catalog):
            info = catalog.info(obs.label)
            if info is not None:  # centres of two parts of one thing: up to its size apart
                radius = max(gate, max(info.median_size) * _FRAGMENT_SIZE_SLACK)
        gates.append(gate)
        radii.append(radius)
    # One query per observation, every label, nearest first: what each pass below needs
    # is a filter of it (a large batch is answered by one KD-tree).
    around = graph.within_radius_many([batch[i].position for i in free], radii, _THINGS)
    for i, gate, found in zip(free, gates, around, strict=True):
        obs = batch[i]
        cand: dict[str, float] = {}
        fragments = catalog is not None and _fragments(obs, catalog)
        if obs.label == UNKNOWN_LABEL:
            # A label is no evidence here: any thing at the same place, nearest first.
            for dist, node in found:
                if dist <= gate and node.id not in taken and _same_place(obs, node, dist):
                    cand[node.id] = _cost(graph, obs, node, dist)
                    cols.setdefault(node.id, len(cols))
            rows.append(cand)
            continue
        for dist, node in found:
            if node.label != obs.label or node.id in taken:
                continue
            if dist <= gate:
                if fragments and _another_piece(obs, node, catalog, graph.up_axis):
                    continue
                cand[node.id] = _cost(graph, obs, node, dist)
            elif fragments and _fragment_of(obs, node, catalog, graph.up_axis) is not None:
                cand[node.id] = 1.0 + _cost(graph, obs, node, 0.0)  # after whole matches
            else:
                continue
            cols.setdefault(node.id, len(cols))
        for dist, node in found:
            if (
                dist <= gate
                and node.label == UNKNOWN_LABEL
                and node.id not in taken
                and _same_place(obs, node, dist)
            ):
                # After every same-label match: a labelled thing is named by its label first.
                cand[node.id] = _CROSS_LABEL_COST + _cost(graph, obs, node, dist)
                cols.setdefault(node.id, len(cols))
        rows.append(cand)
    if not cols:
        return {}
    # The assignment decomposes into independent problems, one per connected group of
    # observations and candidate nodes: solving each densely keeps a large batch linear
    # (one dense 10k x 10k matrix cost seconds).
    r_idx = [r for r, cand in enumerate(rows) for _ in cand]
    c_idx = [cols[n] for cand in rows for n in cand]
    n_rows = len(rows)
    adjacency = coo_matrix(
        (np.ones(len(r_idx)), (r_idx, [n_rows + c for c in c_idx])),
        shape=(n_rows + len(cols), n_rows + len(cols)),
    )
    _n, group = connected_components(adjacency, directed=False)
    members: dict[int, tuple[list[int], list[int]]] = {}
    for r in range(n_rows):
        if rows[r]:
            members.setdefault(int(group[r]), ([], []))[0].append(r)
    for c in range(len(cols)):
        members.setdefault(int(group[n_rows + c]), ([], []))[1].append(c)
    col_ids = list(cols)
    out: dict[int, str] = {}
    for group_rows, group_cols in members.values():
        if not group_rows:
            continue
        if len(group_rows) == 1 and len(group_cols) == 1:
            # One sighting, one candidate (most of a batch seen again): nothing to solve.
            (value,) = rows[group_rows[0]].values()
            if value < _INFEASIBLE:
                out[free[group_rows[0]]] = col_ids[group_cols[0]]
            continue
        local = {c: k for k, c in enumerate(group_cols)}
        cost = np.full((len(group_rows), len(group_cols)), _INFEASIBLE)
        for k, r in enumerate(group_rows):
            for node_id, value in rows[r].items():
                cost[k, local[cols[node_id]]] = value
        for k, j in zip(*linear_sum_assignment(cost), strict=True):
            if cost[k, j] < _INFEASIBLE:
                out[free[group_rows[k]]] = col_ids[group_cols[j]]
    return out


_CROSS_LABEL_COST = 2.0
_CROSS_LABEL_M = 0.15
"""Without boxes, an unlabelled and a labelled sighting this near are one thing."""
_CROSS_LABEL_IOU = 0.1


def _same_place(obs: ObjectObservation, node: SceneNode, dist: float) -> bool:
    """Whether ``obs`` is where ``node`` is, with no label to tell: boxes overlapping by
    ``_CROSS_LABEL_IOU`` or one's centre inside the other's box; without boxes,
    ``_CROSS_LABEL_M`` apart."""
    if obs.box is None or node.box is None:
        return dist <= _CROSS_LABEL_M
    return (
        obs.box.iou(node.box) >= _CROSS_LABEL_IOU
        or obs.box.contains(node.position)
        or node.box.contains(obs.position)
    )


def infer_support(
    graph: SceneGraph,
    node: SceneNode,
    catalog: ObjectCatalog | None = None,
    around: Sequence[tuple[float, SceneNode]] | None = None,
) -> tuple[str, Relation] | None:
    """The smallest receptacle whose box holds ``node`` from below, and in/on.

    ``around``: receptacles within at least ``_SUPPORT_SEARCH_M`` of ``node``, nearest
    first, where the caller asked for many nodes at once."""
    up = graph.up_axis
    x, y = horizontal(node.position, up)
    # The thing's bottom, not its centre, rests on the support (a tall plant on a dresser).
    h = vertical(node.box.min_corner if node.box is not None else node.position, up)
    margin = graph.config.support_margin_m
    slack = graph.config.support_slack_m
    own_volume = node.box.volume if node.box is not None else 0.0
    best: tuple[float, SceneNode] | None = None
    if around is None:
        around = graph.within_radius(node.position, _SUPPORT_SEARCH_M, (Layer.RECEPTACLE,))
    for d, cand in around:
        if d > _SUPPORT_SEARCH_M:
            break
        if cand.id == node.id or cand.box is None or cand.box.volume <= own_volume:
            continue
        lo, hi = cand.box.min_corner, cand.box.max_corner
        (lx, ly), (hx, hy) = horizontal(lo, up), horizontal(hi, up)
        if not (lx - slack <= x <= hx + slack and ly - slack <= y <= hy + slack):
            continue
        if not vertical(lo, up) - 0.05 <= h <= vertical(hi, up) + margin:
            continue
        if best is None or cand.box.volume < best[0]:
            best = (cand.box.volume, cand)
    if best is None:
        return None
    return best[1].id, support_relation(graph, best[1], node.position, catalog)


def support_relation(
    graph: SceneGraph, receptacle: SceneNode, position: Vec3 | None, catalog: ObjectCatalog | None
) -> Relation:
    """Surfaces (tables, beds, shelves) hold things ``on`` them; containers (types in
    the config, or openable ones) hold them ``in``, unless the thing rests above
    the container's top (a mug on a closed fridge is on it).
    """
    info = catalog.info(receptacle.label) if catalog is not None else None
    container = receptacle.label in graph.config.container_types or (
        info is not None and info.openable
    )
    if not container:
        return Relation.ON
    if receptacle.box is not None and position is not None:
        top = vertical(receptacle.box.max_corner, graph.up_axis)
        return Relation.ON if vertical(position, graph.up_axis) >= top - 0.02 else Relation.IN
    return Relation.IN


def refresh_relations(
    graph: SceneGraph,
    node_id: str,
    catalog: ObjectCatalog | None = None,
    parent: tuple[str, Relation] | None = None,
    around: Sequence[tuple[float, SceneNode]] | None = None,
) -> None:
    """Recompute room, support (unless given) and near edges of a node after it moved.

    ``around``: receptacles within :func:`relation_radius` of the node, nearest first,
    where the caller asked for many nodes at once."""
    node = graph.node(node_id)
    if around is None:
        around = graph.within_radius(node.position, relation_radius(graph), (Layer.RECEPTACLE,))
    room = graph.locate_room(node.position)
    if room is not None:
        graph.set_room(node_id, room)
    support = parent if parent is not None else infer_support(graph, node, catalog, around)
    graph.set_support(
        node_id, support[0] if support else None, support[1] if support else Relation.ON
    )
    graph.remove_edges(node_id, (Relation.NEAR,))
    if node.layer == Layer.OBJECT:
        skip = support[0] if support else None
        # The 3 nearest receptacles within the near radius: a bounded radius query (a
        # k-nearest search grows its radius until it finds k, over the whole map when few
        # receptacles are known: quadratic in a large batch).
        near_m = graph.config.near_radius_m
        near = [other for d, other in around if d <= near_m][:3]
        for other in near:
            if other.id != skip:
                graph.add_edge(node_id, other.id, Relation.NEAR)


def relation_radius(graph: SceneGraph) -> float:
    """How far around a node :func:`refresh_relations` looks for receptacles."""
    return max(_SUPPORT_SEARCH_M, graph.config.near_radius_m)


def _merge(
    graph: SceneGraph,
    node: SceneNode,
    obs: ObjectObservation,
    t: float,
    catalog: ObjectCatalog | None = None,
) -> tuple[bool, bool]:
    cfg = graph.config
    dist = math.dist(node.position, obs.position)
    moved = dist > cfg.move_threshold_m
    union = _fragment_of(obs, node, catalog, graph.up_axis) if obs.object_id is None else None
    position: Vec3
    box: Box3D | None
    if union is not None:
        # Another part of the same furniture (furniture stays put): the box grows to hold
        # both parts, the position follows its centre.
        moved, position, box = False, union.center, union
    elif moved:
        position = obs.position
        # Without a fresh box the old one moves along; it must not stay where the thing was.
        box = obs.box
        if box is None and node.box is not None:
            box = Box3D(position, node.box.size)
    else:
        w = min(node.n_obs, _MAX_AVERAGED_OBS)
        position = _avg(node.position, obs.position, w)
        box = (
            obs.box
            if node.box is None or obs.box is None
            else Box3D(
                _avg(node.box.center, obs.box.center, w), _avg(node.box.size, obs.box.size, w)
            )
        )
    state = {**node.state, **obs.state}
    state_changed = state != dict(node.state)
    conf = min(1.0, node.confidence + cfg.confidence_gain * obs.confidence * (1 - node.confidence))
    named = node.label == UNKNOWN_LABEL and obs.label != UNKNOWN_LABEL
    changed = moved or state_changed or not node.present or named
    graph.replace_node(
        _checked_node(
            node,
            label=obs.label if named else node.label,
            layer=_layer(obs, catalog) if named else node.layer,
            position=position,
            box=box if box is not None else node.box,
            state=state,
            last_seen=t,
            last_changed=t if changed else node.last_changed,
            n_obs=node.n_obs + 1,
            confidence=conf,
            misses=0,
            present=True,
            embedding=obs.embedding if obs.embedding is not None else node.embedding,
            attrs=node.attrs
            if obs.name is None or node.attrs.get("name") == obs.name
            else {**node.attrs, "name": obs.name},
        )
    )
    return moved, state_changed


_FRAGMENT_GAP_M = 0.1
"""Parts of one piece of furniture seen apart touch or nearly do."""
_FRAGMENT_SIZE_SLACK = 1.5
"""Two parts together are at most this times the type's median size (plus the gap)."""


_NODE_FIELDS = tuple(f.name for f in dataclasses.fields(SceneNode))


def _checked_node(node: SceneNode, **changes: object) -> SceneNode:
    """``node`` with ``changes``, without running SceneNode's validation again.

    Every value here is a validated node's or observation's, or arithmetic on them that
    stays finite and in range (averages of positions, confidence in [0, 1], the batch's
    time, checked once in :func:`ingest`): re-validating each merged node was a third of
    a 10k-observation batch's time."""
    values = {name: getattr(node, name) for name in _NODE_FIELDS}
    values.update(changes)
    return trusted(SceneNode, **values)


def _avg(a: Vec3, b: Vec3, w: int) -> Vec3:
    return ((a[0] * w + b[0]) / (w + 1), (a[1] * w + b[1]) / (w + 1), (a[2] * w + b[2]) / (w + 1))


def _hidden(graph: SceneGraph, node_id: str) -> bool:
    """True when the node sits inside a container that is known to be closed."""
    support = graph.support_of(node_id)
    if support is None or support[1] != Relation.IN:
        return False
    return graph.node(support[0]).state.get("isOpen") is False


def ingest(
    graph: SceneGraph,
    batch: Sequence[ObjectObservation],
    t: float | None = None,
    view: ViewVolume | None = None,
    expected_ids: Iterable[str] | None = None,
    catalog: ObjectCatalog | None = None,
    absent_ids: Iterable[str] | None = None,
) -> IngestReport:
    """Fuse one batch of observations into ``graph`` (see the module doc)."""
    _validate(graph, batch)
    expected = set(expected_ids or ())
    absent = set(absent_ids or ())
    for node_id in expected | absent:
        graph.node(node_id)  # an unknown id fails here, before anything changes
    now = t if t is not None else max((o.timestamp for o in batch), default=0.0)
    now = check_finite("observation time", (now,))[0]

    hinted = {i: o.object_id for i, o in enumerate(batch) if o.object_id is not None}
    free = [i for i in range(len(batch)) if i not in hinted]
    assignment: dict[int, str] = {i: oid for i, oid in hinted.items() if oid in graph}
    assignment.update(_associate(graph, batch, free, set(assignment.values()), catalog))

    # Receptacles first, so objects of the same batch can be supported by them.
    order = sorted(
        range(len(batch)), key=lambda i: 0 if _layer(batch[i], catalog) == Layer.RECEPTACLE else 1
    )
    created: list[str] = []
    matched: list[str] = []
    moved: list[str] = []
    state_changed: list[str] = []
    node_ids: dict[int, str] = {}
    dirty: list[int] = []
    for i in order:
        obs = batch[i]
        if i in assignment:
            node_id = assignment[i]
            was_present = graph.node(node_id).present
            was_moved, was_changed = _merge(graph, graph.node(node_id), obs, now, catalog)
            matched.append(node_id)
            if was_moved:
                moved.append(node_id)
            if was_changed:
                state_changed.append(node_id)
            if (
                was_moved
                or obs.parent_id is not None
                or not was_present
                or graph.support_of(node_id) is None
            ):
                # Unsupported is asked again: the receptacle under it may have been seen
                # only in part when it was first seen (its box grows as more is seen).
                dirty.append(i)
        else:
            node_id = obs.object_id or graph.new_id(obs.label)
            graph.add_node(
                trusted(  # every value is the validated observation's (see _checked_node)
                    SceneNode,
                    id=node_id,
                    layer=_layer(obs, catalog),
                    label=obs.label,
                    position=obs.position,
                    box=obs.box,
                    state=dict(obs.state),
                    first_seen=now,
                    last_seen=now,
                    last_changed=now,
                    n_obs=1,
                    confidence=obs.confidence,
                    misses=0,
                    present=True,
                    embedding=obs.embedding,
                    attrs={"name": obs.name} if obs.name is not None else {},
                )
            )
            created.append(node_id)
            dirty.append(i)
        node_ids[i] = node_id
    # Receptacles stay put from here on (only edges change): one query for all.
    arounds = graph.within_radius_many(
        [graph.node(node_ids[i]).position for i in dirty],
        [relation_radius(graph)] * len(dirty),
        (Layer.RECEPTACLE,),
    )
    for i, around in zip(dirty, arounds, strict=True):
        obs = batch[i]
        parent = None
        if obs.parent_id is not None:
            rel = obs.relation or support_relation(
                graph, graph.node(obs.parent_id), graph.node(node_ids[i]).position, catalog
            )
            parent = (obs.parent_id, rel)
        refresh_relations(graph, node_ids[i], catalog, parent, around)

    seen = set(node_ids.values())
    if view is not None:
        candidates = graph.within_radius(view.origin, view.max_range_m, _THINGS)
        if candidates:
            pts = np.array([n.position for _d, n in candidates])
            inside = view.contains(pts)
            expected.update(n.id for (_d, n), ok in zip(candidates, inside, strict=True) if ok)
    missed: list[str] = []
    gone: list[str] = []
    for node_id in sorted((expected | absent) - seen):
        node = graph.node(node_id)
        if not node.present or _hidden(graph, node_id):
            continue
        # Looked for where it was believed and not there: gone at once, not decayed.
        conf = 0.0 if node_id in absent else node.confidence * graph.config.miss_decay
        if conf < graph.config.gone_threshold:
            graph.remove_edges(node_id, (Relation.IN, Relation.ON, Relation.NEAR))
            graph.update_node(
                node_id, confidence=conf, misses=node.misses + 1, present=False, last_changed=now
            )
            gone.append(node_id)
        else:
            graph.update_node(node_id, confidence=conf, misses=node.misses + 1)
            missed.append(node_id)
    return IngestReport(
        matched=tuple(matched),
        created=tuple(created),
        moved=tuple(moved),
        state_changed=tuple(state_changed),
        missed=tuple(missed),
        gone=tuple(gone),
        node_ids=tuple(node_ids[i] for i in range(len(batch))),
    )


def _layer(obs: ObjectObservation, catalog: ObjectCatalog | None) -> Layer:
    if obs.layer is not None:
        return Layer(obs.layer)
    return catalog.layer_of(obs.label) if catalog is not None else Layer.OBJECT
