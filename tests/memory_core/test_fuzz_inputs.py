"""Property-based fuzzing of memory's entrances (Hypothesis; bounded, in `make test`):
whatever an observation, a stored row or a change set holds, the answer is a value or a
LociError naming the problem, never another exception, and a refused batch changes
nothing the memory holds."""

from __future__ import annotations

import contextlib
import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from memory_core import (
    Box3D,
    InvalidInputError,
    Layer,
    LociError,
    Memory,
    ObjectObservation,
    SceneNode,
)
from memory_core.store import codec
from memory_core.transfer import changes_from_json, snapshot_from_json

FUZZ = settings(
    max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)

numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.sampled_from([1e300, -1e300, 1e7, 1e-300, 0.0, -0.0]),
)
anything = st.recursive(
    st.one_of(st.none(), st.booleans(), numbers, st.text(max_size=20)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
vec3 = st.one_of(st.tuples(numbers, numbers, numbers), anything)
labels = st.one_of(
    st.text(max_size=30), st.sampled_from(["Apple", "", "unknown", "\ud800", "a\x00b"]), anything
)


def _observation(draw: Any) -> ObjectObservation:
    box = draw(st.one_of(st.none(), st.tuples(vec3, vec3)))
    return ObjectObservation(
        label=draw(labels),
        position=draw(vec3),
        box=Box3D(*box) if box is not None else None,
        state=draw(st.one_of(st.dictionaries(st.text(max_size=8), anything, max_size=3), anything)),
        confidence=draw(st.one_of(numbers, anything)),
        timestamp=draw(st.one_of(numbers, anything)),
        object_id=draw(st.one_of(st.none(), st.text(max_size=10), anything)),
        embedding=draw(st.one_of(st.none(), st.lists(numbers, max_size=4).map(tuple), anything)),
    )


@FUZZ
@given(st.data())
def test_observations_are_values_or_clear_refusals(data: st.DataObject) -> None:
    memory = Memory()
    memory.observe([ObjectObservation("Mug", (0.0, 0.9, 0.0), object_id="mug")], t=1.0)
    before = memory.snapshot()
    try:
        batch = [_observation(data.draw) for _ in range(data.draw(st.integers(1, 3)))]
    except LociError:
        return  # refused at the door, with its reason
    for obs in batch:
        assert all(math.isfinite(v) for v in obs.position)
    try:
        memory.observe(batch, t=2.0)
    except LociError:
        assert memory.snapshot() == before  # a refused batch changes nothing
        return
    memory.context("bring the mug")
    memory.graph.nearest((0.0, 0.0, 0.0), 3)


@FUZZ
@given(
    st.one_of(st.text(max_size=10), anything),
    st.one_of(st.sampled_from(["object", "receptacle", "room"]), anything),
    labels,
    vec3,
    anything,
    st.one_of(st.none(), st.binary(max_size=40)),
)
def test_stored_rows_load_or_are_quarantined(
    node_id: Any, layer: Any, label: Any, pos: Any, data: Any, blob: bytes | None
) -> None:
    """A row as a damaged or foreign store may hold it: ``node_problem`` says what is wrong
    (the row is quarantined) or the node loads."""
    try:
        emb = codec.decode_embedding(blob)
    except (TypeError, ValueError):
        return  # the store quarantines an undecodable row on this error
    why = codec.node_problem(node_id, layer, label, pos, data, emb)
    if why is None:
        node = codec.node_from(node_id, layer, label, pos, data, emb)
        assert node.id == node_id


@FUZZ
@given(anything)
def test_change_sets_and_snapshots_from_json_are_values_or_clear_refusals(value: Any) -> None:
    import json

    try:
        text = json.dumps(value)
    except (ValueError, TypeError):
        return
    for parse in (changes_from_json, snapshot_from_json):
        with contextlib.suppress(LociError):
            parse(text)


@FUZZ
@given(st.dictionaries(st.sampled_from(["nodes", "edges", "events", "episodes", "graph_meta",
                                        "stm_entries", "stm_meta", "removed_nodes",
                                        "edge_nodes"]), anything, max_size=5))  # fmt: skip
def test_change_sets_with_known_keys_and_garbage_values_are_refused_clearly(
    value: dict[str, Any],
) -> None:
    import json

    with contextlib.suppress(LociError):
        changes_from_json(json.dumps(value))


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d["edges"].append(["a", [1, 2], "on", None]),
        lambda d: d["edges"].append(["a", "b", "beside", None]),
        lambda d: d.__setitem__("stm", [[{"x": 1}, d["stm"][0][1]]]),
        lambda d: d["stm"][0][1].__setitem__("t", None),
        lambda d: d["stm"][0][1].__setitem__("acc", "3"),
        lambda d: d["stm"][0][1].__setitem__("cnt", -1),
        lambda d: d["stm"][0][1].__setitem__("rec", ["x"]),
        lambda d: d["stm"][0][1].__setitem__("st", {"k": [1]}),
    ],
)
def test_malformed_edges_and_short_term_entries_are_refused_before_merging(mutate: Any) -> None:
    """Found by the ROS fuzz suite: an edge endpoint that is not an id, or a short-term
    entry with a null time or a string counter, was taken in; the first made the commit
    raise TypeError half-way (memory_node died), the second poisoned every later
    context query. Both are refused whole, and memory is unchanged."""
    import orjson

    from memory_core.transfer import changes_to_json

    mem = Memory()
    mem.observe([ObjectObservation("Apple", (1.0, 0.9, 1.0))], t=1.0)
    d = orjson.loads(changes_to_json(mem.pending_changes()))
    mutate(d)
    other = Memory()
    other.observe([ObjectObservation("Mug", (2.0, 0.9, 1.0))], t=1.0)
    before = other.snapshot()
    with pytest.raises(InvalidInputError):
        other.apply_changes(changes_from_json(orjson.dumps(d)))
    assert other.snapshot() == before


_GOOD_ROW = codec.node_to(
    SceneNode(
        "Mug#1",
        Layer.OBJECT,
        "Mug",
        (1.0, 0.9, 2.0),
        box=Box3D((1.0, 0.9, 2.0), (0.1, 0.1, 0.1)),
        state={"isDirty": True, "colour": "red", "fill": 0.5},
        attrs={"name": "blue mug"},
    )
)


@FUZZ
@given(
    st.sampled_from([*_GOOD_ROW, "pos", "b0", "b1"]),
    st.one_of(numbers, anything, st.lists(numbers, min_size=2, max_size=4)),
)
def test_the_quick_check_of_stored_rows_never_passes_what_the_full_one_refuses(
    field: str, value: Any
) -> None:
    """Loading checks a stored row the quick way first; whatever it passes, the full
    check passes too (a real row with one field replaced by anything)."""
    import copy

    d = copy.deepcopy(_GOOD_ROW)
    pos: Any = (1.0, 0.9, 2.0)
    if field == "pos":
        pos = value
    elif field in ("b0", "b1"):
        d["b"][int(field[1])] = value
    else:
        d[field] = value
    if codec._plainly_good(
        "Mug#1", "object", "Mug", pos if isinstance(pos, tuple | list) else (), d
    ):
        assert codec.node_problem("Mug#1", "object", "Mug", pos, d, ()) is None
