"""The closed loop: subgoal → skills → execute on the body → sense into memory → critic.

The executive alone acts (through a :class:`~embodiment.body.Body`), senses, records
events and checks budgets, for every planner: a planner (``planners.base.Planner``, by
name from ``planners.registry``) only supplies a program of skills per predicate; the
critic decides from memory whether a predicate holds (``planners.critic``). A :class:`Scorer` — the
simulator's goal checker on its ground truth — may be given to score the episode; it is
told after every skill (ordered subgoals are credited when reached) and asked, after each
predicate, only to count how often the critic disagrees with it. It never steers.

Bounds: ``max_skills`` per episode, ``max_replans`` per predicate, and a loop guard that
abandons a plan when the same skill fails twice. Working memory keeps only the current
predicate's skill/result pairs; finished predicates are kept as one-line summaries
(HiAgent-style), which is what an LLM prompt would carry.
"""

from __future__ import annotations

import dataclasses
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from embodiment.affordances import Affordances
from embodiment.body import Body, BodyState
from embodiment.skills import Skill, StepResult
from embodiment.tasks import Predicate, Task, TaskFormatError
from memory_core import Event, Layer, Memory
from planners.base import PlanFailedError, Planner
from planners.critic import believed_count, satisfying
from planners.effects import skill_effects
from planners.observe import add_floor_plan, ingest_sensed, own_hands, perceive
from planners.referents import Referents
from planners.symbolic import SymbolicPlanner

__all__ = ["EpisodeResult", "ExecConfig", "Executive", "Scorer"]


class _BodyFaultError(Exception):
    """The body reported it can no longer act (``StepResult.fault``)."""


class Scorer(Protocol):
    """Scores an episode on ground truth, outside the loop (a simulator's goal checker)."""

    def update(self) -> None:
        """Called after every skill."""
        ...

    def success(self) -> bool: ...

    def goal_conditions(self) -> float: ...

    def count(self, pred: Predicate) -> int:
        """How many of the predicate's objects are there in truth."""
        ...


@dataclass(frozen=True, slots=True)
class ExecConfig:
    max_skills: int = 250
    max_replans: int = 2


@dataclass(frozen=True, slots=True)
class EpisodeResult:
    task_id: str
    scene: str
    success: bool
    """The scorer's verdict where one was given, else the critic's belief."""
    goal_conditions: float
    steps: int
    """Primitive actions (moves, turns, interactions)."""
    skills: int
    distance_m: float
    replans: int
    failed_skills: int
    memory_hits: int
    """Objects the planner found in memory without searching."""
    searches: int
    wall_s: float
    error: str = ""
    summaries: tuple[str, ...] = field(default_factory=tuple)
    critic_checks: int = 0
    """Predicates the critic judged when their programs ended."""
    critic_disagreements: int = 0
    """Of those, judged otherwise by the scorer (0 without a scorer)."""
    llm_calls: int = 0
    llm_tokens: int = 0


class Executive:
    def __init__(
        self,
        body: Body,
        memory: Memory,
        affordances: Affordances,
        config: ExecConfig | None = None,
        on_step: Callable[[Skill, StepResult], None] | None = None,
        planner: Callable[[], Planner] | None = None,
    ) -> None:
        """``planner`` makes the planner for an episode (default: the symbolic one)."""
        self.body, self.memory, self.aff = body, memory, affordances
        self.make_planner = planner or (lambda: SymbolicPlanner(body, memory, affordances))
        if memory.catalog is None:
            # Observations without a layer (perception's) are placed by the type facts.
            memory.catalog = affordances.catalog
        self.on_step = on_step
        self.config = config or ExecConfig()
        self.clock = float(len(memory.episodic))
        self.working: list[tuple[Skill, StepResult]] = []
        self.summaries: list[str] = []
        self.steps = 0
        self.distance_m = 0.0
        self.referents = Referents.with_type_facts(memory, affordances)

    def act(self, skill: Skill, episode: str, scorer: Scorer | None = None) -> StepResult:
        """Execute one skill on the body, sense into memory, record the event, report."""
        before = self.body.state()
        result = self.body.execute(self._with_hints(skill))
        self.clock += 1.0
        self.steps += result.primitive_steps
        self.distance_m += result.distance_m
        sensed = perceive(result.sensed, self.clock)
        sensed = own_hands(
            sensed, self.memory, result.skill, result.success, before, self.body.state()
        )
        result = dataclasses.replace(result, sensed=sensed)
        ingest_sensed(self.memory, sensed, self.clock)
        effects = skill_effects(result, before, self.memory, self.clock, self.aff)
        if effects:
            self.memory.observe(effects, t=self.clock)
        elif self._missing(skill, result, before):
            # Gone from where memory believed it: not taken for there again (someone moved
            # it); seen elsewhere it is there again.
            self.memory.observe([], t=self.clock, absent_ids=[skill.target or ""])
        if scorer is not None:
            scorer.update()
        self.working.append((skill, result))
        if self.on_step is not None:
            self.on_step(skill, result)
        pose = self.body.state().pose
        self.memory.record(
            Event(
                t=self.clock,
                episode_id=episode,
                action=skill.name,
                outcome="success" if result.success else "failure",
                objects=(skill.target,)
                if skill.target and not skill.target.startswith("point:")
                else (),
                room=self.memory.graph.locate_room(pose.position),
                pose=pose,
                text=result.error_message,
            )
        )
        return result

    def _missing(self, skill: Skill, result: StepResult, before: BodyState) -> bool:
        """Whether a failed skill on a movable thing shows it is not where memory believes:
        the body had just got to it (the previous skill, a navigation to it, succeeded) and
        neither that step nor this one sensed it. What the agent holds, and a failure the
        body calls a fault, say nothing of where things are."""
        target = skill.target
        graph = self.memory.graph
        if (
            result.success
            or result.fault
            or skill.name in ("navigate", "look_around", "drop")
            or target is None
            or target not in graph
            or target == before.held
            or not self.working
        ):
            return False
        if graph.node(target).layer != Layer.OBJECT:
            return False  # furniture stays put: the failure is about something else
        went, arrived = self.working[-1]
        return (
            went.name == "navigate"
            and went.target == target
            and arrived.success
            and graph.node(target).last_seen < self.clock - 1.0
        )

    def _with_hints(self, skill: Skill) -> Skill:
        """The skill with what memory believes its target is and where, so a body that
        does not share memory's ids can ground it."""
        graph = self.memory.graph
        if skill.target is None or skill.target not in graph:
            return skill
        node = graph.node(skill.target)
        where = node.box.center if node.box is not None else node.position
        size = node.box.size if node.box is not None else None
        return dataclasses.replace(skill, label=node.label, position=where, size=size)

    def _last_time(self) -> float:
        """The latest time this memory knows: its last event, or a later change in the
        scene graph (what another robot of a fleet saw, loaded from a shared store: this
        robot's sightings must be newer than what it has been told)."""
        episodic = self.memory.episodic
        last = episodic.events_since(len(episodic) - 1) if len(episodic) else []
        return max(last[-1].t if last else 0.0, self.memory.graph.latest_time())

    def _believed(self, pred: Predicate) -> int:
        return believed_count(pred, self.memory, self.body.state(), self.referents)

    def begin(self, task: Task) -> str:
        """Start an episode: reset counters, put the body's floor plan and what it senses
        now into memory. Returns the episode id."""
        self.steps, self.distance_m = 0, 0.0
        # A new instant: what this episode senses is newer than anything before it.
        self.clock = max(self.clock, self._last_time()) + 1.0
        episode = f"{task.task_id}@{self.clock:g}"
        self.memory.episodic.begin_episode(episode, task.instruction, self.clock, task.scene)
        self.memory.stm.set_task_context(task.object_types())
        add_floor_plan(self.memory, self.body.floor_plan())
        ingest_sensed(self.memory, self.body.look(), self.clock)
        return episode

    def run(self, task: Task, scorer: Scorer | None = None) -> EpisodeResult:
        if task.needs_goal:
            raise TaskFormatError(
                f"task {task.task_id} has only an instruction: an LLM must write its goal "
                "first (set LOCI_LLM_BASE_URL and LOCI_LLM_MODEL)"
            )
        start_wall = time.perf_counter()
        episode = self.begin(task)
        start = self.clock
        planner = self.make_planner()
        self.referents = planner.referents  # the critic reads the planner's bindings
        try:
            return self._episode(task, scorer, planner, episode, start, start_wall)
        finally:
            planner.close()

    def _episode(
        self,
        task: Task,
        scorer: Scorer | None,
        planner: Planner,
        episode: str,
        start: float,
        start_wall: float,
    ) -> EpisodeResult:
        skills = replans = failed = checks = disagreements = 0
        # error: the current predicate's failure; first_error: the first one left undone.
        error = first_error = ""
        believed_done: list[bool] = []
        faulted = False
        try:
            for subgoal in task.subgoals:
                for pred in subgoal:
                    if not task.ordered and self._believed(pred) == pred.count:
                        stale = [
                            n.id
                            for n in satisfying(
                                pred, self.memory, self.body.state(), self.referents
                            )
                            if n.last_seen < start
                        ]
                        if not stale:
                            continue
                        # Believed from before this episode: go and look before trusting it
                        # (objects move while the robot is away).
                        held = self.body.state().held
                        for node_id in stale:
                            if node_id != held and skills < self.config.max_skills:
                                went = self.act(Skill("navigate", node_id), episode, scorer)
                                skills += 1
                                if went.fault:
                                    raise _BodyFaultError(went.error_message)
                                graph = self.memory.graph
                                if (
                                    went.success
                                    and node_id in graph
                                    and graph.node(node_id).last_seen < self.clock
                                ):
                                    # Stood within reach facing where it was, and it is not
                                    # there (a closed container's content is exempt).
                                    self.memory.observe([], t=self.clock, absent_ids=[node_id])
                        if self._believed(pred) == pred.count:
                            continue
                    for attempt in range(self.config.max_replans + 1):
                        self.working = []
                        failures: Counter[Skill] = Counter()
                        program = planner.program(pred, task)
                        try:
                            skill = next(program)
                            while True:
                                if skills >= self.config.max_skills:
                                    raise PlanFailedError("skill budget exhausted")
                                result = self.act(skill, episode, scorer)
                                skills += 1
                                if result.fault:
                                    raise _BodyFaultError(result.error_message)
                                if not result.success:
                                    failed += 1
                                    failures[skill] += 1
                                    if failures[skill] >= 2:
                                        raise PlanFailedError(
                                            f"loop guard: {skill.name} keeps failing"
                                        )
                                skill = program.send(result)
                        except StopIteration:
                            pass
                        except PlanFailedError as exc:
                            error = str(exc)
                            if (
                                attempt < self.config.max_replans
                                and skills < self.config.max_skills
                            ):
                                replans += 1
                                continue
                        believed = self._believed(pred) == pred.count
                        checks += 1
                        if scorer is not None and believed != (scorer.count(pred) == pred.count):
                            disagreements += 1
                        if believed:
                            error = ""
                            break
                        if attempt < self.config.max_replans:
                            replans += 1
                    done = self._believed(pred) == pred.count
                    if done:
                        for name in pred.names:
                            self.referents.remember(name)
                    believed_done.append(done)
                    if not done and not first_error:
                        first_error = error or f"{pred.describe()}: not achieved"
                    status = "done" if done else "failed"
                    self.summaries.append(
                        f"{pred.describe()}: {status} in {len(self.working)} skills"
                    )
        except _BodyFaultError as fault:
            # The body cannot act any more: the episode ends here, with why.
            first_error, faulted = str(fault), True
        if scorer is not None:
            success, gc = scorer.success(), scorer.goal_conditions()
        else:
            # No ground truth (a robot): the critic's verdicts, predicate by predicate.
            success = all(believed_done) and not faulted
            gc = sum(believed_done) / len(believed_done) if believed_done else 0.0
        self.memory.episodic.end_episode(episode, self.clock, "success" if success else "failure")
        return EpisodeResult(
            task_id=task.task_id,
            scene=task.scene,
            success=success,
            goal_conditions=gc,
            steps=self.steps,
            skills=skills,
            distance_m=self.distance_m,
            replans=replans,
            failed_skills=failed,
            memory_hits=planner.memory_hits,
            searches=planner.searches,
            wall_s=time.perf_counter() - start_wall,
            error="" if success else first_error or error or "goal not met",
            summaries=tuple(self.summaries),
            critic_checks=checks,
            critic_disagreements=disagreements,
            llm_calls=planner.calls,
            llm_tokens=planner.tokens,
        )
