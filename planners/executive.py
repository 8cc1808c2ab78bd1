"""The closed loop: subgoal → skills → execute → observe into memory → check → repair.

Bounds: ``max_skills`` per episode, ``max_replans`` per predicate, and a loop
guard that abandons a plan when the same skill fails twice. The critic checks a
predicate on the world after its program ends (the simulator's goal checker;
a robot would check its observations instead — not modelled here). Working
memory keeps only the current predicate's skill/result pairs; finished
predicates are kept as one-line summaries (HiAgent-style), which is what an LLM
prompt would carry.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from memory_core import Event, Memory, Pose
from planners.observe import observe
from planners.symbolic import PlanFailedError, SymbolicPlanner
from sim.affordances import Affordances
from sim.tasks import GoalChecker, Task
from sim.world import Skill, StepResult, World

__all__ = ["EpisodeResult", "ExecConfig", "Executive"]


@dataclass(frozen=True, slots=True)
class ExecConfig:
    max_skills: int = 250
    max_replans: int = 2


@dataclass(frozen=True, slots=True)
class EpisodeResult:
    task_id: str
    scene: str
    success: bool
    goal_conditions: float
    steps: int
    """Primitive AI2-THOR actions (moves, turns, interactions)."""
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


class Executive:
    def __init__(
        self,
        world: World,
        memory: Memory,
        affordances: Affordances,
        config: ExecConfig | None = None,
        on_step: Callable[[Skill, StepResult], None] | None = None,
    ) -> None:
        self.world, self.memory, self.aff = world, memory, affordances
        self.on_step = on_step
        self.config = config or ExecConfig()
        self.clock = float(len(memory.episodic))
        self.working: list[tuple[Skill, StepResult]] = []
        self.summaries: list[str] = []

    def _act(self, skill: Skill, episode: str) -> StepResult:
        result = self.world.step(skill)
        self.clock += 1.0
        observe(self.world, self.memory, self.clock, list(result.seen))
        self.working.append((skill, result))
        if self.on_step is not None:
            self.on_step(skill, result)
        x, z = self.world.agent_xz
        self.memory.record(
            Event(
                t=self.clock,
                episode_id=episode,
                action=skill.name,
                outcome="success" if result.success else "failure",
                objects=(skill.target,)
                if skill.target and not skill.target.startswith("point:")
                else (),
                room=self.world.agent_room,
                pose=Pose((x, self.world.spec.agent_height, z)),
                text=result.error_message,
            )
        )
        return result

    def run(self, task: Task) -> EpisodeResult:
        start_wall = time.perf_counter()
        start_steps, start_dist = self.world.steps_taken, self.world.distance_m
        episode = f"{task.task_id}@{self.clock:g}"
        self.memory.episodic.begin_episode(episode, task.instruction, self.clock, task.scene)
        self.memory.stm.set_task_context(task.object_types())
        observe(self.world, self.memory, self.clock)
        planner = SymbolicPlanner(self.world, self.memory, self.aff)
        checker = GoalChecker(task)
        skills = replans = failed = 0
        error = ""
        for subgoal in task.subgoals:
            for pred in subgoal:
                if pred.satisfied(self.world) == pred.count and not task.ordered:
                    continue
                for attempt in range(self.config.max_replans + 1):
                    self.working = []
                    failures: Counter[Skill] = Counter()
                    program = planner.program(pred)
                    try:
                        skill = next(program)
                        while True:
                            if skills >= self.config.max_skills:
                                raise PlanFailedError("skill budget exhausted")
                            result = self._act(skill, episode)
                            skills += 1
                            checker.update(self.world)
                            if not result.success:
                                failed += 1
                                failures[skill] += 1
                                if failures[skill] >= 2:
                                    raise PlanFailedError(f"loop guard: {skill.name} keeps failing")
                            skill = program.send(result)
                    except StopIteration:
                        pass
                    except PlanFailedError as exc:
                        error = str(exc)
                        if attempt < self.config.max_replans and skills < self.config.max_skills:
                            replans += 1
                            continue
                    if pred.satisfied(self.world) == pred.count:
                        error = ""
                        break
                    if attempt < self.config.max_replans:
                        replans += 1
                status = "done" if pred.satisfied(self.world) == pred.count else "failed"
                self.summaries.append(f"{pred.describe()}: {status} in {len(self.working)} skills")
        success = checker.success(self.world)
        self.memory.episodic.end_episode(episode, self.clock, "success" if success else "failure")
        return EpisodeResult(
            task_id=task.task_id,
            scene=task.scene,
            success=success,
            goal_conditions=checker.goal_conditions(self.world),
            steps=self.world.steps_taken - start_steps,
            skills=skills,
            distance_m=self.world.distance_m - start_dist,
            replans=replans,
            failed_skills=failed,
            memory_hits=planner.search.memory_hits,
            searches=planner.search.searches,
            wall_s=time.perf_counter() - start_wall,
            error=error if not success else "",
            summaries=tuple(self.summaries),
        )
