"""loci_ros.goals: a goal whose answer comes late (as one lost in discovery would never
come) is sent again under its own id, runs once, and its result and feedback still arrive;
a refusal is a refusal, whether on the first send or on a resend."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest


class _Server:
    """An ExecuteSkill server on its own single-threaded executor: requests are handled one
    after the other, so a resent goal is only looked at once the first one is answered."""

    def __init__(self, name: str, on_goal: Callable[[int], bool]) -> None:
        import rclpy
        from loci_msgs.action import ExecuteSkill
        from rclpy.action.server import ActionServer, GoalResponse
        from rclpy.executors import SingleThreadedExecutor

        self.goal_calls = 0
        self.executions = 0
        self.node = rclpy.create_node(f"{name}_server")

        def goal_callback(_goal: Any) -> GoalResponse:
            self.goal_calls += 1
            ok = on_goal(self.goal_calls)
            return GoalResponse.ACCEPT if ok else GoalResponse.REJECT

        def execute(handle: Any) -> Any:
            self.executions += 1
            handle.publish_feedback(ExecuteSkill.Feedback(status=f"run {self.executions}"))
            time.sleep(0.2)  # the feedback is out well before the result
            handle.succeed()
            return ExecuteSkill.Result(success=True, error_message=handle.request.name)

        self.server = ActionServer(
            self.node, ExecuteSkill, name, execute, goal_callback=goal_callback
        )
        self.executor = SingleThreadedExecutor()
        self.executor.add_node(self.node)
        self.thread = threading.Thread(target=self.executor.spin, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.executor.shutdown()
        self.thread.join(timeout=5)
        self.server.destroy()
        self.node.destroy_node()


@pytest.fixture
def client_node(rclpy_context: None) -> Iterator[Any]:
    import rclpy

    node = rclpy.create_node("goals_test_client")
    yield node
    node.destroy_node()


def _run(node: Any, name: str, attempts: int = 3, answer_s: float = 0.5) -> tuple[Any, list[Any]]:
    import rclpy
    from loci_msgs.action import ExecuteSkill
    from loci_ros.goals import run_goal
    from rclpy.action.client import ActionClient

    client = ActionClient(node, ExecuteSkill, name)
    assert client.wait_for_server(timeout_sec=30)
    feedback: list[Any] = []

    def spin(future: Any, timeout_s: float) -> None:
        rclpy.spin_until_future_complete(node, future, timeout_sec=timeout_s)

    # Discovery settles both ways before the timed part: a goal lost here would be sent
    # again too, but this test is about the late answer below.
    time.sleep(0.5)
    answer = run_goal(
        client,
        ExecuteSkill,
        ExecuteSkill.Goal(name="sense"),
        spin,
        answer_timeout_s=answer_s,
        result_timeout_s=10.0,
        attempts=attempts,
        feedback_callback=feedback.append,
    )
    client.destroy()
    return answer, feedback


def _serve_and_run(
    node: Any, name: str, on_goal: Callable[[int], bool], **run: Any
) -> tuple[_Server, Any, list[Any]]:
    """Serve ``name`` with ``on_goal`` deciding, send one goal, close the server; the
    server is returned for its counts."""
    server = _Server(name, on_goal)
    try:
        answer, feedback = _run(node, name, **run)
    finally:
        server.close()
    return server, answer, feedback


@pytest.mark.parametrize("first_answer_s", [0.0, 0.8])
def test_a_late_answer_is_sent_again_and_runs_once(client_node: Any, first_answer_s: float) -> None:
    from action_msgs.msg import GoalStatus
    from loci_ros.goals import GoalAnswer

    name = f"late_{int(first_answer_s * 10)}"

    def on_goal(_call: int) -> bool:
        time.sleep(first_answer_s)
        return True

    server, answer, feedback = _serve_and_run(client_node, name, on_goal)
    assert isinstance(answer, GoalAnswer), answer
    assert answer.status == GoalStatus.STATUS_SUCCEEDED
    assert answer.result.success and answer.result.error_message == "sense"
    assert server.executions == 1
    # A resend under the same id is refused as a duplicate without asking the callback.
    assert server.goal_calls == 1
    assert [f.feedback.status for f in feedback] == ["run 1"]


@pytest.mark.parametrize("first_answer_s", [0.0, 0.8])
def test_a_refusal_is_reported_on_the_first_send_or_a_resend(
    client_node: Any, first_answer_s: float
) -> None:
    from loci_ros.goals import REFUSED

    name = f"refuse_{int(first_answer_s * 10)}"

    def on_goal(call: int) -> bool:
        if call == 1:
            time.sleep(first_answer_s)
        return False

    server, answer, _feedback = _serve_and_run(client_node, name, on_goal)
    assert answer == REFUSED
    assert server.executions == 0
    assert server.goal_calls == (1 if first_answer_s == 0 else 2)


def test_no_answer_at_all_is_a_reason_not_a_wait(client_node: Any) -> None:
    def on_goal(_call: int) -> bool:
        time.sleep(1.5)
        return False

    server = _Server("silent", on_goal)
    try:
        # Timed apart from the server's close, which waits out its slow callback.
        started = time.monotonic()
        answer, _feedback = _run(client_node, "silent", attempts=2, answer_s=0.3)
        waited = time.monotonic() - started
    finally:
        server.close()
    assert isinstance(answer, str) and "no answer to the goal after 2 sends" in answer
    assert waited < 1.5 + 0.5  # the 0.5 s settle in _run, two 0.3 s waits, slack
