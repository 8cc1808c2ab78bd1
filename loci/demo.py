"""Memory demo on a real ProcTHOR house (what ``loci run`` does until the planner lands).

It builds the scene graph from the house file, lets an agent "see" a few
changes (an object moved, a fridge opened, something missing), records the
episode, answers queries, saves everything to a SQLite store in the run folder,
reloads it and checks the reload is identical.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from loci.runfolder import save_memory
from memory_core import (
    Event,
    Layer,
    Memory,
    MemoryConfig,
    ObjectCatalog,
    ObjectObservation,
    Pose,
    Relation,
    SQLiteStore,
)
from memory_core.embedding import label_text
from memory_core.importers import import_procthor_house

__all__ = ["DemoResult", "run_demo"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DemoResult:
    store_path: Path
    nodes: int
    edges: int
    reload_identical: bool
    context_tokens: int
    full_dump_tokens: int


def run_demo(
    house: Path, data_dir: Path, out_dir: Path, config: MemoryConfig, say: Callable[[str], None]
) -> DemoResult:
    catalog = ObjectCatalog.from_ai2thor_metadata(data_dir / "ai2thor_object_metadata")
    graph = import_procthor_house(house, catalog, config.scene_graph)
    mem = Memory(config, catalog=catalog, graph=graph)
    say(
        f"house {house.name}: {len(graph)} nodes, {graph.count_edges()} edges "
        + "("
        + ", ".join(f"{r.value} {graph.count_edges(r)}" for r in Relation if graph.count_edges(r))
        + ")"
    )
    for room in graph.nodes(Layer.ROOM):
        say(f"  {room.id:<8} {room.label:<11} {len(graph.in_room(room.id)):3d} things")

    # --- the agent acts and sees: a small object moves onto another surface
    movable = [n for n in graph.nodes(Layer.OBJECT) if graph.support_of(n.id)]
    surfaces = [
        n
        for n in graph.nodes(Layer.RECEPTACLE)
        if n.box is not None
        and catalog.info(n.label) is not None
        and not catalog.info(n.label).openable  # type: ignore[union-attr]
        and graph.contents(n.id)
    ]
    thing = movable[0]
    old = graph.support_of(thing.id)
    target = next(s for s in surfaces if old is None or s.id != old[0])
    assert target.box is not None
    top = target.box.max_corner[1]
    new_pos = (target.position[0], top + 0.05, target.position[2])
    mem.episodic.begin_episode(
        "demo-1", f"put the {thing.label} on the {target.label}", 0.0, house.stem
    )
    mem.record(
        Event(
            1.0,
            "demo-1",
            "pickup",
            "success",
            (thing.id,),
            graph.room_of(thing.id),
            Pose(thing.position),
        )
    )
    report = mem.observe(
        [ObjectObservation(thing.label, new_pos, object_id=thing.id, timestamp=2.0)], t=2.0
    )
    mem.record(
        Event(
            2.0,
            "demo-1",
            "put",
            "success",
            (thing.id, target.id),
            graph.room_of(target.id),
            Pose(new_pos),
        )
    )
    mem.episodic.end_episode("demo-1", 2.0, "success")
    say(
        f"moved {thing.id}: {old[0] if old else 'floor'} -> {graph.support_of(thing.id)}; "
        f"report moved={list(report.moved)}"
    )

    # --- queries
    label = thing.label
    say(f"query label={label!r}: {[n.id for n in graph.find_by_label(label)]}")
    say(f"query on {target.id}: {[n.id for n in graph.contents(target.id)]}")
    near = graph.nearest(new_pos, k=3)
    say("query 3 nearest to the new spot: " + ", ".join(f"{n.id} ({d:.2f} m)" for d, n in near))
    say(f"query changed since t=1: {[n.id for n in graph.changed_since(1.0)]}")
    rooms = graph.nodes(Layer.ROOM)
    for a in rooms:
        for b in rooms:
            if a.id < b.id:
                path = graph.room_path(a.id, b.id)
                say(
                    f"query path {a.id} -> {b.id}: "
                    + (" -> ".join(path.rooms) + f" via {path.doors}" if path else "no door path")
                )
    say(
        f"recall object {label}: {[f'{e.action}@t={e.t:g}' for e in mem.episodic.by_object(label)]}"
    )
    ctx = mem.context(
        f"bring the {label_text(label)} to the {label_text(target.label)}", agent_room=rooms[0].id
    )
    say(
        f"planning context: {ctx.tokens} tokens vs {ctx.full_dump_tokens} for a full dump "
        f"({ctx.ratio:.0%})"
    )
    for line in ctx.text.splitlines():
        say(f"  | {line}")

    # --- persist, reload, compare
    store_path = save_memory(mem, out_dir / "memory.db")
    again = Memory(config, catalog=catalog)
    with SQLiteStore(store_path) as store:
        again.load(store)
    same = again.snapshot() == mem.snapshot()
    say(f"saved to {store_path} ({store_path.stat().st_size} bytes); reload identical: {same}")
    return DemoResult(
        store_path, len(graph), graph.count_edges(), same, ctx.tokens, ctx.full_dump_tokens
    )
