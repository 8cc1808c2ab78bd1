"""A planner on a mirror of a world in another place (here: behind a JSON boundary, as
over ROS) acts exactly as on the world itself, and its memory changes travel as JSON
and merge into the memory it came from."""

from __future__ import annotations

import json
from typing import Any

from loci.episodes import run_in_world
from loci.main_job import default_first_task, second_task
from memory_core import Memory
from memory_core.transfer import (
    changes_from_json,
    changes_to_json,
    snapshot_from_json,
    snapshot_to_json,
)
from planners.observe import new_memory
from sim import SceneRegistry, Skill, StepResult
from sim.episode import make_world
from sim.remote import MirrorWorld
from sim.server import SimServer

SCENE = "procthor/houses_20/house_12"


def test_mirror_world_and_memory_transfer_match_in_process(registry: SceneRegistry) -> None:
    first = default_first_task(registry, SCENE, 0)
    # In process.
    world, memory = make_world(first, registry), new_memory()
    direct = run_in_world(world, memory, first, registry)
    # Through the boundary: the server owns the world, the planner works on a mirror and on
    # a copy of a memory owned elsewhere.
    server = SimServer(registry)
    state = json.loads(json.dumps(server.reset(first)))
    calls = 0

    def remote(skill: Skill) -> tuple[StepResult, dict[str, Any]]:
        nonlocal calls
        calls += 1
        result, after = server.execute(skill)
        return result, json.loads(json.dumps(after))

    sizes: list[int] = []

    def whole() -> dict[str, Any]:
        return json.loads(json.dumps(server.state()))

    def counted(skill: Skill) -> tuple[StepResult, dict[str, Any]]:
        result, after = remote(skill)
        sizes.append(len(after["objects"]))
        return result, after

    mirror = MirrorWorld(registry.load(SCENE), registry.affordances, counted, whole)
    mirror.follow(state)
    owner = new_memory()
    copy = new_memory()
    copy.restore(snapshot_from_json(snapshot_to_json(owner.snapshot())))
    via = run_in_world(mirror, copy, first, registry)
    assert (via.success, via.steps, via.skills, via.memory_hits) == (
        direct.success,
        direct.steps,
        direct.skills,
        direct.memory_hits,
    )
    assert calls == via.skills
    assert server.world is not None
    assert server.world.metadata() == world.metadata() == mirror.metadata()
    # Only what a skill changed travels: a few objects of the house's 89, most steps none.
    assert max(sizes) < 10 and sum(sizes) < via.skills * 2
    assert mirror.resyncs == 0
    # The copy's changes merged into the owner's memory give the in-process memory.
    changes = changes_from_json(changes_to_json(copy.pending_changes()))
    owner.apply_changes(changes)
    assert owner.snapshot() == memory.snapshot()
    # ...so the second task plans the same from either.
    second = second_task(world, memory, first, registry)
    assert second is not None
    a = run_in_world(world, memory, second, registry)
    mirror.follow(json.loads(json.dumps(server.reset(second, keep_state=True))))
    b = run_in_world(mirror, owner, second, registry)
    assert (a.success, a.steps, a.memory_hits) == (b.success, b.steps, b.memory_hits)
    # Someone else acts on the world: the mirror's next delta does not follow on from its
    # revision, so it fetches the whole state and stays exact.
    server.execute(Skill("navigate", next(iter(server.world.objects))))
    mirror.step(Skill("look_around"))
    assert mirror.resyncs == 1 and mirror.metadata() == server.world.metadata()
    assert a.steps < 200  # memory at work (705 steps from an empty memory)


def test_merge_keeps_what_the_owner_learned_meanwhile() -> None:
    from memory_core import Box3D, InvalidInputError, ObjectObservation

    def obs(label: str, x: float, oid: str) -> ObjectObservation:
        return ObjectObservation(
            label, (x, 0.5, 0.0), Box3D((x, 0.5, 0.0), (0.1, 0.1, 0.1)), object_id=oid
        )

    owner = Memory()
    owner.observe([obs("Apple", 0.0, "a")], t=1.0)
    base = owner.snapshot()
    copy = Memory()
    copy.restore(base)
    copy.observe([obs("Apple", 2.0, "a"), obs("Mug", 4.0, "m")], t=2.0)
    owner.observe([obs("Book", 8.0, "b")], t=2.5)  # perception, while the planner worked
    owner.apply_changes(copy.pending_changes())
    labels = {n.label: n.position[0] for n in owner.graph.nodes()}
    assert labels == {"Apple": 2.0, "Mug": 4.0, "Book": 8.0}
    bad = changes_to_json(copy.pending_changes()).replace('"nodes":[[', '"nodes":[[7,', 1)
    try:
        changes_from_json(bad)
    except InvalidInputError as exc:
        assert "malformed memory change set" in str(exc)
    else:
        raise AssertionError("a malformed change set was accepted")
