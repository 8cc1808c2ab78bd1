"""planner_node: the closed-loop executive (``planners.executive``) as an action server.

Action ``execute_instruction`` (loci_msgs/ExecuteInstruction). For each goal: the world
is set up through ``reset_world`` (the sim node), the memory is fetched through
``get_memory`` (the memory node), the symbolic planner runs on a
``sim.remote.MirrorWorld`` whose skills go to ``execute_skill``, feedback follows
every skill, and the memory's changes are committed back through ``commit_memory`` every
``commit_every`` skills and at the end. With the same task and the same memory, the
outcome is the in-process executive's (tested).

``planner: llm`` puts ``planners.llm.LLMPlanner`` behind the same action: any
OpenAI-compatible server at ``llm_base_url``; the API key is read from the environment
variable named by ``llm_api_key_env`` (never a parameter). Either way the goal needs
task_json: the task's predicates are what the critic checks.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import orjson
from loci_msgs.action import ExecuteInstruction
from loci_msgs.srv import CommitMemory, ExecuteSkill, GetMemory, ResetWorld
from rclpy.action.server import ActionServer, CancelResponse, GoalResponse, ServerGoalHandle
from rclpy.callback_groups import MutuallyExclusiveCallbackGroup, ReentrantCallbackGroup
from rclpy.executors import MultiThreadedExecutor
from rclpy.node import Node

from loci_ros.params import declare
from loci_ros.run import run_node
from memory_core import LociError
from memory_core.transfer import changes_to_json, snapshot_from_json
from planners.executive import Executive
from planners.llm import LLMConfig
from planners.observe import new_memory
from planners.registry import PLANNERS, planner_factory
from sim import SceneRegistry, Skill, StepResult
from sim.body import BuiltinBody
from sim.remote import MirrorWorld
from sim.server import parse_task_json
from sim.tasks import WorldScorer

__all__ = ["PlannerNode", "main"]


class RemoteError(LociError):
    """A node the planner depends on did not answer or refused."""


class CanceledError(LociError):
    """The action client canceled the goal (checked after every skill)."""


class PlannerNode(Node):
    def __init__(self) -> None:
        super().__init__("planner_node")
        default_data = os.environ.get("LOCI_DATA_DIR", str(Path.cwd().parent / "shared" / "data"))
        self.data_root = declare(
            self, "data_root", default_data, "folder of the real scene data (the robot's map)"
        )
        self.timeout_s = declare(self, "service_timeout_s", 30.0, "wait for a service answer")
        self.commit_every = declare(
            self, "commit_every", 1, "commit memory changes every N skills (and at the end)"
        )
        self.keep_world = declare(
            self, "keep_world", True, "a task in the scene already loaded continues its world"
        )
        self.planner = declare(self, "planner", "symbolic", "symbolic | llm")
        self.llm = LLMConfig(
            base_url=declare(self, "llm_base_url", "", "OpenAI-compatible server (planner: llm)"),
            model=declare(self, "llm_model", "", "model name the server knows"),
            api_key=os.environ.get(
                declare(self, "llm_api_key_env", "LOCI_LLM_API_KEY", "env var with the key"),
                "none",
            ),
            timeout_s=declare(self, "llm_timeout_s", 30.0, "seconds per LLM request"),
        )
        if self.planner not in PLANNERS:
            raise RemoteError(f"planner must be one of {PLANNERS}, got {self.planner!r}")
        self.registry = SceneRegistry(self.data_root)
        self.mirrors: dict[str, MirrorWorld] = {}
        clients = MutuallyExclusiveCallbackGroup()
        self.reset_cli = self.create_client(ResetWorld, "reset_world", callback_group=clients)
        self.skill_cli = self.create_client(ExecuteSkill, "execute_skill", callback_group=clients)
        self.get_cli = self.create_client(GetMemory, "get_memory", callback_group=clients)
        self.commit_cli = self.create_client(CommitMemory, "commit_memory", callback_group=clients)
        self.busy = threading.Lock()
        self.server = ActionServer(
            self,
            ExecuteInstruction,
            "execute_instruction",
            self._execute,
            callback_group=ReentrantCallbackGroup(),
            goal_callback=self._on_goal,
            cancel_callback=lambda _goal: CancelResponse.ACCEPT,
        )

    def _call(self, client: Any, request: Any, attempts: int = 1) -> Any:
        """``attempts`` > 1 only for idempotent requests: a request sent while a restarted
        server is still being matched is lost, and only those may simply be sent again."""
        name = client.srv_name
        if not client.wait_for_service(timeout_sec=self.timeout_s):
            raise RemoteError(f"service {name} is not available")
        for _ in range(attempts):
            response = client.call(request, timeout_sec=self.timeout_s / attempts)
            if response is not None:
                return response
        raise RemoteError(f"service {name} did not answer within {self.timeout_s} s")

    def _remote_step(self, skill: Skill) -> tuple[StepResult, dict[str, Any]]:
        res = self._call(
            self.skill_cli,
            ExecuteSkill.Request(name=skill.name, target=skill.target or "", force=skill.force),
        )
        if not res.world_state_json:
            raise RemoteError(f"execute_skill gave no world state: {res.error_message}")
        result = StepResult(
            skill,
            res.success,
            res.error_message,
            res.primitive_steps,
            res.distance_m,
            tuple(res.seen),
        )
        return result, orjson.loads(res.world_state_json)

    def _state(self) -> dict[str, Any]:
        res = self._call(self.reset_cli, ResetWorld.Request(task_json="", keep_state=True))
        if not res.success:
            raise RemoteError(f"reset_world gave no state: {res.message}")
        state: dict[str, Any] = orjson.loads(res.world_state_json)
        return state

    def _on_goal(self, _request: ExecuteInstruction.Goal) -> GoalResponse:
        # A busy planner says no at once, instead of accepting a goal it would abort.
        if self.busy.locked():
            self.get_logger().warning("goal rejected: already executing an instruction")
            return GoalResponse.REJECT
        return GoalResponse.ACCEPT

    def _execute(self, goal: ServerGoalHandle) -> ExecuteInstruction.Result:
        result = ExecuteInstruction.Result()
        if not self.busy.acquire(blocking=False):
            goal.abort()
            result.summary = "refused: the planner is already executing an instruction"
            return result
        try:
            return self._run(goal, result)
        except LociError as exc:
            self.get_logger().error(str(exc))
            goal.abort()
            result.summary = f"error: {exc}"
            return result
        finally:
            self.busy.release()

    def _run(
        self, goal: ServerGoalHandle, result: ExecuteInstruction.Result
    ) -> ExecuteInstruction.Result:
        request = goal.request
        if not request.task_json:
            raise RemoteError("the symbolic planner needs task_json (docs/tasks.md)")
        task = parse_task_json(request.task_json)
        reset = self._call(
            self.reset_cli,
            ResetWorld.Request(task_json=request.task_json, keep_state=self.keep_world),
        )
        if not reset.success:
            raise RemoteError(f"reset_world refused the task: {reset.message}")
        mirror = self.mirrors.get(reset.scene)
        if mirror is None:
            spec = self.registry.load(reset.scene)
            mirror = MirrorWorld(spec, self.registry.affordances, self._remote_step, self._state)
            self.mirrors[reset.scene] = mirror
        mirror.follow(orjson.loads(reset.world_state_json))
        fetched = self._call(self.get_cli, GetMemory.Request(), attempts=6)
        memory = new_memory()
        memory.restore(snapshot_from_json(fetched.snapshot_json))
        revision = fetched.revision
        skills = 0

        def commit() -> None:
            nonlocal revision
            changes = memory.pending_changes()
            res = self._call(
                self.commit_cli,
                CommitMemory.Request(base_revision=revision, changes_json=changes_to_json(changes)),
            )
            if not res.success:
                raise RemoteError(f"commit_memory refused: {res.message}")
            memory.mark_committed(changes)
            revision = res.revision

        summaries: list[str] = []

        def on_step(skill: Skill, step: StepResult) -> None:
            nonlocal skills
            skills += 1
            feedback = ExecuteInstruction.Feedback(
                subgoal=summaries[-1] if summaries else task.instruction,
                step=mirror.steps_taken,
                skill=f"{skill.name} {skill.target or ''}".strip(),
                skill_success=step.success,
            )
            goal.publish_feedback(feedback)
            if self.commit_every > 0 and skills % self.commit_every == 0:
                commit()
            if goal.is_cancel_requested:
                raise CanceledError(f"canceled after {skills} skills")

        start_steps = mirror.steps_taken
        try:
            # Still a mirror of the simulator's world behind the body interface: the
            # scorer reads the mirror (a robot body over actions is the next step).
            body, scorer = BuiltinBody(mirror), WorldScorer(task, mirror)
            aff = self.registry.affordances
            make = planner_factory(self.planner, body, memory, aff, self.llm)
            executive = Executive(body, memory, aff, on_step=on_step, planner=make)
            summaries = executive.summaries  # the executive appends as predicates finish
            outcome = executive.run(task, scorer)
        except CanceledError as exc:
            commit()  # what was seen before the cancel is still true
            goal.canceled()
            result.steps, result.skills = mirror.steps_taken - start_steps, skills
            result.summary = str(exc)
            self.get_logger().info(f"{task.task_id}: {exc}")
            return result
        commit()
        result.success = outcome.success
        result.steps = outcome.steps
        result.skills = outcome.skills
        result.goal_conditions = outcome.goal_conditions
        result.memory_hits = outcome.memory_hits
        result.summary = "; ".join(outcome.summaries) or outcome.error
        if outcome.success:
            goal.succeed()
        else:
            goal.abort()
        self.get_logger().info(
            f"{task.task_id}: {'success' if outcome.success else 'failure'}, "
            f"{outcome.steps} steps, {outcome.skills} skills"
        )
        return result


def _spin_threaded(node: PlannerNode) -> int:
    # Service answers must arrive while a goal's callback waits for them.
    executor = MultiThreadedExecutor(num_threads=4)
    executor.add_node(node)
    executor.spin()
    return 0


def main(args: list[str] | None = None) -> None:
    run_node(PlannerNode, _spin_threaded, args)


if __name__ == "__main__":
    main()
