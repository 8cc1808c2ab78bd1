"""One episode of the closed loop on a body, scored on its simulator's ground truth.

The loop gets the built-in world only as a :class:`~sim.body.BuiltinBody` (the world
itself is seen by the scorer alone), and AI2-THOR only through its Controller.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from embodiment.affordances import Affordances
from embodiment.approach import ApproachNavigation
from embodiment.body import Body, FloorPlan, RGBDFrame
from embodiment.scoring import StateScorer
from embodiment.skills import Skill, StepResult
from embodiment.tap import FrameTap
from embodiment.tasks import Task, walkthrough_task
from memory_core import Layer, LociError, Memory, ObjectObservation
from planners.executive import EpisodeResult, Executive, Scorer
from planners.llm import LLMConfig
from planners.observe import new_memory
from planners.referents import holds_identities
from planners.registry import planner_factory
from planners.symbolic import SymbolicPlanner
from sim.body import BuiltinBody
from sim.episode import walkthrough_world
from sim.registry import SceneRegistry
from sim.tasks import WorldScorer
from sim.world import World
from thor.errors import ThorError

if TYPE_CHECKING:
    from thor.body import Ai2ThorBody

__all__ = [
    "NAVIGATION_MODES",
    "remember_furniture",
    "run_in_world",
    "run_on_body",
    "run_on_thor",
    "walk_through",
]

NAVIGATION_MODES = ("sim", "poses")


def run_in_world(
    world: World,
    memory: Memory,
    task: Task,
    registry: SceneRegistry,
    on_step: Callable[[Skill, StepResult], None] | None = None,
    llm: LLMConfig | None = None,
    sensing: str = "gt",
    navigation: str = "poses",
    fallback: LLMConfig | None = None,
    on_frame: Callable[[RGBDFrame], None] | None = None,
) -> EpisodeResult:
    """Run ``task`` with the symbolic planner (or, with ``llm``, the LLM planner; with
    ``fallback``, the symbolic planner handing what it gives up on to the LLM planner).
    ``on_frame`` is handed every RGB-D frame the task's body senses (not the walkthrough's).

    ``navigation``: ``sim`` goes to objects and rooms by the simulator's own rule (true
    footprints, the task's interaction poses); ``poses`` by poses computed from memory and
    the map (:class:`~embodiment.approach.ApproachNavigation`), as a robot's nav2 does and
    as ``planner_node`` does over ROS.
    """
    if navigation not in NAVIGATION_MODES:
        raise LociError(f"navigation must be one of {NAVIGATION_MODES}, got {navigation!r}")

    def body_in(w: World) -> Body:
        builtin = BuiltinBody(w, sensing)
        return ApproachNavigation(builtin, builtin.reach_m) if navigation == "poses" else builtin

    seen = None
    goal_room = walkthrough_world(task, registry)
    if goal_room is not None:
        seen = walk_through(body_in(goal_room), task, registry.affordances, memory.graph.up_axis)
        remember_furniture(memory, seen, registry.affordances)
    body = body_in(world)
    return run_on_body(
        FrameTap(body, on_frame) if on_frame is not None else body,
        memory,
        task,
        registry.affordances,
        WorldScorer(task, world),
        on_step,
        llm,
        walkthrough=seen,
        fallback=fallback,
    )


def remember_furniture(memory: Memory, seen: Memory, affordances: Affordances) -> None:
    """What of the walkthrough the task's memory may keep: furniture, which a rearrangement
    does not move (where things stood, and what was open, is the goal's, not the task's)."""
    # Seen with identities (ground-truth sensing), furniture keeps them, so the task's own
    # sightings land on the same nodes; perception's nodes are matched by place instead.
    identities = holds_identities(seen.graph.nodes())
    furniture = [
        ObjectObservation(
            n.label,
            n.position,
            box=n.box,
            layer=Layer.RECEPTACLE,
            object_id=n.id if identities else None,
            name=str(n.attrs["name"]) if identities and "name" in n.attrs else None,
        )
        for n in seen.graph.nodes(Layer.RECEPTACLE)
        if n.present and not affordances.pickupable(n.label)
    ]
    if furniture:
        memory.observe(furniture, t=0.0)


WALKTHROUGH_POINTS = 6
"""Frontier points the walkthrough looks around at (after its start). A bound for time:
on rearrange-val's first tasks, rgbd took about 2.6 s a task with 12, 1.1 s with 6, 0.36 s
without a walkthrough."""


def walk_through(body: Body, task: Task, affordances: Affordances, up_axis: str) -> Memory:
    """The walkthrough phase of a rearrangement: the agent explores the room as the goal
    has it (``body`` acts in that room) and remembers what it sees, in a memory of its own:
    the task's memory must not believe the goal already met. Its steps are not the task's
    (the challenge counts the phases apart) and are not reported."""
    seen = new_memory(up_axis)
    executive = Executive(body, seen, affordances)
    episode = executive.begin(task)
    program = SymbolicPlanner(body, seen, affordances, max_explore=WALKTHROUGH_POINTS).explore()
    try:
        skill = next(program)
        while True:
            skill = program.send(executive.act(skill, episode))
    except StopIteration:
        pass
    return seen


def run_on_body(
    body: Body,
    memory: Memory,
    task: Task,
    affordances: Affordances,
    scorer: Scorer,
    on_step: Callable[[Skill, StepResult], None] | None = None,
    llm: LLMConfig | None = None,
    walkthrough: Memory | None = None,
    fallback: LLMConfig | None = None,
) -> EpisodeResult:
    """The closed loop on any body, scored from outside by ``scorer``; ``walkthrough``:
    what the agent saw of the room as the goal has it, if it walked through it;
    ``fallback``: the LLM planner's endpoint for what the symbolic planner gives up on."""
    make = planner_factory(
        "llm" if llm is not None else "symbolic",
        body,
        memory,
        affordances,
        llm,
        walkthrough,
        fallback if llm is None else None,
    )
    executive = Executive(body, memory, affordances, on_step=on_step, planner=make)
    return executive.run(task, scorer)


def run_on_thor(
    controller: Any,
    memory: Memory,
    task: Task,
    registry: SceneRegistry,
    fresh: bool = True,
    sensing: str = "gt",
    on_step: Callable[[Skill, StepResult], None] | None = None,
    llm: LLMConfig | None = None,
    fallback: LLMConfig | None = None,
) -> tuple[EpisodeResult, Ai2ThorBody]:
    """Run ``task`` on AI2-THOR's Controller (``--body ai2thor``), scored on the final
    event's metadata. ``fresh``: reset to the task's scene first (a lifelong sequence's
    later tasks carry the scene over). Navigation is by poses (the body goes to points).
    The floor plan (rooms, doors) comes from the scene's data, as a robot is given its
    building's map; everything about objects comes from the Controller."""
    from thor.body import Ai2ThorBody
    from thor.scenes import build_scene_name
    from thor.scoring import thor_scene
    from thor.setup import apply_task_init

    spec = registry.load(task.scene)
    plan = FloorPlan(spec.name, spec.rooms, spec.doors)

    def reset() -> None:
        try:
            controller.reset(scene=build_scene_name(task.scene))
        except Exception as exc:
            raise ThorError(f"AI2-THOR reset to {task.scene} failed: {exc}") from exc

    seen = None
    walk = walkthrough_task(task)
    if walk is not None:
        # The room as the goal leaves it, in the same Controller; then the task's own room.
        if not fresh:
            raise ThorError(f"{task.task_id}: a walkthrough needs a fresh scene, not a carried one")
        reset()
        goal_room = Ai2ThorBody(controller, sensing, plan)
        apply_task_init(goal_room, walk)
        walker = ApproachNavigation(goal_room, goal_room.reach_m)
        seen = walk_through(walker, task, registry.affordances, memory.graph.up_axis)
        remember_furniture(memory, seen, registry.affordances)
    if fresh:
        reset()
    body = Ai2ThorBody(controller, sensing, plan)
    apply_task_init(body, task)
    scorer = StateScorer(task, lambda: thor_scene(body.metadata, body.history))
    navigator = ApproachNavigation(body, body.reach_m)
    result = run_on_body(
        navigator,
        memory,
        task,
        registry.affordances,
        scorer,
        on_step,
        llm,
        walkthrough=seen,
        fallback=fallback,
    )
    return result, body
