"""Sending an action goal so that a goal or its answer lost in discovery is not a lost task.

``wait_for_server`` says the client has matched the server's endpoints; it does not say the
server has matched the client's. A goal sent in that window (a node just started, a loaded
machine) can be dropped, or its answer can: rclpy then waits forever on the goal future. CI
saw it once (the planner never heard of the first instruction; the client waited 30 s).

So a goal goes out with a goal id of our own, and is sent again under the same id when no
answer comes. The server refuses a second goal with an id it already holds, so a resent
goal never runs twice; a refused resend may therefore mean "already running", and the
result request (answered at once with STATUS_UNKNOWN for an id the server does not hold)
tells the two apart.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from action_msgs.msg import GoalStatus
from rclpy.action.client import ActionClient, ClientGoalHandle
from rclpy.task import Future
from unique_identifier_msgs.msg import UUID

__all__ = ["REFUSED", "GoalAnswer", "run_goal"]

REFUSED = "the server refused the goal"

Spin = Callable[[Future, float], None]
"""Spin the client's executor until the future is done or the seconds have passed."""


@dataclass(frozen=True)
class GoalAnswer:
    status: int
    """action_msgs/GoalStatus (STATUS_SUCCEEDED, STATUS_ABORTED, ...)."""
    result: Any


def run_goal(
    client: ActionClient,
    action_type: Any,
    goal: Any,
    spin: Spin,
    *,
    answer_timeout_s: float,
    result_timeout_s: float,
    attempts: int = 3,
    feedback_callback: Callable[[Any], None] | None = None,
) -> GoalAnswer | str:
    """Send ``goal`` and wait for its result; the reason as a string where there is none
    (refused, no answer after ``attempts`` sends of ``answer_timeout_s`` each, no result
    within ``result_timeout_s``, after which the goal is canceled)."""
    goal_id = UUID(uuid=list(uuid.uuid4().bytes))
    handle: ClientGoalHandle | None = None
    for attempt in range(attempts):
        sent = client.send_goal_async(goal, feedback_callback, goal_uuid=goal_id)
        spin(sent, answer_timeout_s)
        if not sent.done():
            continue
        answer = sent.result()
        if answer is not None and answer.accepted:
            handle = answer
        elif attempt == 0:
            return REFUSED
        else:
            # Refused as a duplicate of an earlier send whose answer was lost, or refused
            # outright: the result request below tells which.
            accepted = action_type.Impl.SendGoalService.Response(accepted=True)
            handle = ClientGoalHandle(client, goal_id, accepted)
        break
    if handle is None:
        return f"no answer to the goal after {attempts} sends of {answer_timeout_s:g} s"
    done = handle.get_result_async()
    deadline = time.monotonic() + result_timeout_s
    spin(done, max(0.0, deadline - time.monotonic()))
    if not done.done():
        handle.cancel_goal_async()
        return f"no result within {result_timeout_s:g} s (goal canceled)"
    response = done.result()
    if int(response.status) == GoalStatus.STATUS_UNKNOWN:
        return REFUSED
    return GoalAnswer(int(response.status), response.result)
