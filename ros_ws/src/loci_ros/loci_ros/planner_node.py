"""planner_node: the closed-loop executive (``planners.executive``) as an action server.

Action ``execute_instruction`` (loci_msgs/ExecuteInstruction). It loads no scene and
mirrors no world: it plans on the memory node's memory (``get_memory``, committed back
through ``commit_memory`` every ``commit_every`` skills and at the end) and acts through a
robot body over actions (:class:`loci_ros.ros_body.RosBody`): nav2's ``navigate_to_pose``
to poses computed from memory and ``/map`` (:class:`embodiment.approach.ApproachNavigation`),
``execute_skill`` for everything else. Feedback follows every skill; a cancel is honoured
after the skill in progress; a busy planner rejects a new goal in the goal callback.

Where the body is a simulator, ``reset_service`` (``reset_world``) sets its world up for
the goal's task first; on a robot leave it empty. ``planner: llm`` puts the LLM planner
behind the same action: any OpenAI-compatible server at ``llm_base_url``; the API key is
read from the environment variable named by ``llm_api_key_env`` (never a parameter).
Either way the goal needs task_json: the task's predicates are what the critic checks.
Object-type facts (what can be picked up, opened, put where) are read from
``facts_root`` (the AI2-THOR metadata tables; no scene is read from it).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import orjson
from loci_msgs.action import ExecuteInstruction
from loci_msgs.srv import CommitMemory, GetMemory, ResetWorld
from rclpy.action.server import ActionServer, CancelResponse, GoalResponse, ServerGoalHandle
from rclpy.callback_groups import MutuallyExclusiveCallbackGroup, ReentrantCallbackGroup
from rclpy.executors import MultiThreadedExecutor
from rclpy.node import Node

from embodiment.affordances import Affordances
from embodiment.approach import ApproachNavigation
from embodiment.body import floor_plan_from_json
from embodiment.skills import Skill, StepResult
from embodiment.tasks import parse_task_json
from loci_ros.params import declare
from loci_ros.ros_body import RosBody
from loci_ros.run import run_node
from memory_core import LociError
from memory_core.transfer import changes_to_json, snapshot_from_json
from planners.executive import Executive
from planners.llm import LLMConfig
from planners.observe import new_memory
from planners.registry import PLANNERS, planner_factory

__all__ = ["PlannerNode", "main"]


class RemoteError(LociError):
    """A node the planner depends on did not answer or refused."""


class CanceledError(LociError):
    """The action client canceled the goal (checked after every skill)."""


class PlannerNode(Node):
    def __init__(self) -> None:
        super().__init__("planner_node")
        default_facts = os.environ.get("LOCI_DATA_DIR", str(Path.cwd().parent / "shared" / "data"))
        facts_root = declare(
            self, "facts_root", default_facts, "folder of the object-type facts (AI2-THOR tables)"
        )
        self.timeout_s = declare(self, "service_timeout_s", 30.0, "wait for a service answer")
        self.skill_timeout_s = declare(self, "skill_timeout_s", 120.0, "wait for one skill")
        self.commit_every = declare(
            self, "commit_every", 1, "commit memory changes every N skills (and at the end)"
        )
        self.reset_service = declare(
            self, "reset_service", "", "simulation: service that sets the world up for a task"
        )
        self.keep_world = declare(
            self, "keep_world", True, "a task in the scene already loaded continues its world"
        )
        self.up_axis = declare(self, "up_axis", "y", "the memory's up axis (y: AI2-THOR's)")
        self.reach_m = declare(self, "reach_m", 1.5, "how far the robot's arm reaches (m)")
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
        if self.up_axis not in ("y", "z"):
            raise RemoteError(f"up_axis must be 'y' or 'z', got {self.up_axis!r}")
        self.affordances = Affordances.load(facts_root)
        observations = declare(
            self,
            "observations_topic",
            "",
            "camera sensing: where perception_node reports each frame's observations",
        )
        self.body = RosBody(
            f"{self.get_name()}_body",
            self.up_axis,
            self.skill_timeout_s,
            observations_topic=observations,
        )
        plan_file = declare(
            self, "floor_plan_file", "", "the building's rooms and doors (JSON), on a robot"
        )
        if plan_file:
            try:
                self.body.plan = floor_plan_from_json(orjson.loads(Path(plan_file).read_bytes()))
            except (OSError, orjson.JSONDecodeError, LociError) as exc:
                raise RemoteError(f"floor_plan_file {plan_file}: {exc}") from exc
        clients = MutuallyExclusiveCallbackGroup()
        self.reset_cli = (
            self.create_client(ResetWorld, self.reset_service, callback_group=clients)
            if self.reset_service
            else None
        )
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

    def destroy_node(self) -> None:
        self.body.close()
        super().destroy_node()

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
            raise RemoteError("the planner needs task_json (docs/tasks.md)")
        task = parse_task_json(request.task_json)
        if self.reset_cli is not None:
            reset = self._call(
                self.reset_cli,
                ResetWorld.Request(task_json=request.task_json, keep_state=self.keep_world),
            )
            if not reset.success:
                raise RemoteError(f"{self.reset_service} refused the task: {reset.message}")
            self.body.reset()  # the world may be a new one: pose, hold and map read again
            if reset.floor_plan_json:
                try:
                    self.body.plan = floor_plan_from_json(orjson.loads(reset.floor_plan_json))
                except (orjson.JSONDecodeError, LociError) as exc:
                    raise RemoteError(f"{self.reset_service} sent a bad floor plan: {exc}") from exc
        fetched = self._call(self.get_cli, GetMemory.Request(), attempts=6)
        memory = new_memory(self.up_axis)
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
        steps = 0

        def on_step(skill: Skill, step: StepResult) -> None:
            nonlocal skills, steps
            skills += 1
            steps += step.primitive_steps
            # Kept on the result as they happen: a goal that ends in an error (the memory
            # node gone mid-task) still says how far it got.
            result.steps, result.skills = steps, skills
            if not step.success:
                self.get_logger().info(f"{skill.name} {skill.target}: {step.error_message}")
            feedback = ExecuteInstruction.Feedback(
                subgoal=summaries[-1] if summaries else task.instruction,
                step=steps,
                skill=f"{skill.name} {skill.target or ''}".strip(),
                skill_success=step.success,
            )
            goal.publish_feedback(feedback)
            if self.commit_every > 0 and skills % self.commit_every == 0:
                commit()
            if goal.is_cancel_requested:
                raise CanceledError(f"canceled after {skills} skills")

        try:
            body = ApproachNavigation(self.body, self.reach_m)
            aff = self.affordances
            make = planner_factory(self.planner, body, memory, aff, self.llm)
            executive = Executive(body, memory, aff, on_step=on_step, planner=make)
            summaries = executive.summaries  # the executive appends as predicates finish
            # No scorer: the critic's verdicts decide (a simulator scores outside the loop).
            outcome = executive.run(task)
        except CanceledError as exc:
            commit()  # what was seen before the cancel is still true
            goal.canceled()
            result.steps, result.skills = steps, skills
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
            f"{task.task_id}: {'success' if outcome.success else 'failure'} (critic), "
            f"{outcome.skills} skills"
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
