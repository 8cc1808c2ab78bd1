"""Starting Loci's nodes as separate processes and talking to them, without `ros2 launch`
(launch and launch_ros have no PyPI wheels). Used by `loci run --ros`, the tests and the
ROS benchmark; the launch files in ``launch/`` start the same executables with the same
parameter files.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import rclpy
from ament_index_python.packages import get_package_prefix
from loci_msgs.action import ExecuteInstruction
from loci_msgs.srv import GetMemory, QueryMemory, ResetWorld
from rclpy.action.client import ActionClient
from rclpy.node import Node
from rclpy.utilities import ok

from loci_ros.goals import REFUSED, run_goal

__all__ = [
    "NODES",
    "PARAMS_DIR",
    "InstructionOutcome",
    "LociClient",
    "LociSystem",
    "sim_overrides",
]

NODES = ("sim_node", "memory_node", "planner_node", "perception_node")
PARAMS_DIR = Path(__file__).resolve().parents[4] / "launch" / "params"
"""The repository's launch/params (this module runs from the source tree's install)."""


PERCEIVED_TOPIC = "perception/observations"
"""Camera sensing in simulation: perception_node's per-frame reports, read by the planner."""


def sim_overrides(
    store: Path, data_root: Path, sensing: str = "gt", **extra: Mapping[str, Any]
) -> dict[str, dict[str, Any]]:
    """Parameters for the built-in simulator set-up (what sim.launch.py sets): a memory in
    AI2-THOR's convention kept in ``store``, the scene data for the sim node, the object-type
    facts and the simulator's reset service for the planner, camera sensing wired for
    ``sensing="rgbd"`` (run perception_node too), and per-node ``extra`` on top."""
    out: dict[str, dict[str, Any]] = {
        "memory_node": {"store_path": str(store), "world_convention": "ai2thor"},
        "sim_node": {"data_root": str(data_root)},
        "planner_node": {"facts_root": str(data_root), "reset_service": "reset_world"},
    }
    if sensing == "rgbd":
        # Every frame of a skill must reach perception, and its report the planner, which
        # fuses it and commits; the camera timer is off (frames only from skills).
        out["sim_node"].update(sensing="rgbd", camera_rate_hz=0.0, camera_reliable=True)
        out["perception_node"] = {"reliable_inputs": True, "output_topic": PERCEIVED_TOPIC}
        out["planner_node"]["observations_topic"] = PERCEIVED_TOPIC
    elif sensing != "gt":
        raise ValueError(f"sensing must be gt or rgbd, got {sensing!r}")
    for node, params in extra.items():
        out.setdefault(node, {}).update(params)
    return out


def _executable(node: str) -> str:
    return str(Path(get_package_prefix("loci_ros")) / "lib" / "loci_ros" / node)


@dataclass
class LociSystem:
    """The nodes as child processes; ``overrides`` are per-node parameters on top of the
    YAML files in ``params_dir``."""

    workdir: Path
    overrides: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    params_dir: Path = PARAMS_DIR
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Nodes run in workdir: relative paths in overrides would resolve from there.
        self.workdir = Path(self.workdir).resolve()

    def start(self, node: str) -> subprocess.Popen[bytes]:
        args = [
            _executable(node),
            "--ros-args",
            "--params-file",
            str(self.params_dir / f"{node}.yaml"),
        ]
        for key, value in self.overrides.get(node, {}).items():
            # Values are read as YAML: a string goes quoted (JSON is YAML), so "" and "1.0"
            # stay strings.
            if isinstance(value, bool):
                text = str(value).lower()
            elif isinstance(value, str):
                text = json.dumps(value)
            else:
                text = str(value)
            args += ["-p", f"{key}:={text}"]
        log = (self.workdir / f"{node}.log").open("ab")
        proc = subprocess.Popen(args, cwd=self.workdir, stdout=log, stderr=subprocess.STDOUT)
        self.procs[node] = proc
        return proc

    def start_all(self, nodes: tuple[str, ...] = NODES) -> None:
        for node in nodes:
            self.start(node)

    def kill(self, node: str, sig: int = signal.SIGKILL) -> int:
        proc = self.procs.pop(node)
        proc.send_signal(sig)
        return proc.wait(timeout=20)

    def log(self, node: str) -> str:
        path = self.workdir / f"{node}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def check_alive(self) -> None:
        for node, proc in self.procs.items():
            if proc.poll() is not None:
                raise RuntimeError(
                    f"{node} exited with {proc.returncode}:\n{self.log(node)[-3000:]}"
                )

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
        deadline = time.monotonic() + 10
        for proc in self.procs.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.procs.clear()

    def __enter__(self) -> LociSystem:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass(frozen=True)
class InstructionOutcome:
    accepted: bool
    success: bool
    steps: int
    skills: int
    goal_conditions: float
    memory_hits: int
    summary: str
    feedback: int
    skill_log: tuple[str, ...] = ()
    """Each feedback's skill ("name target") and its success, in order."""


class LociClient:
    """An rclpy node that sends instructions and queries (one per process)."""

    def __init__(self, name: str = "loci_client") -> None:
        if not ok():
            rclpy.init()
        self.node: Node = rclpy.create_node(name)
        self.action = ActionClient(self.node, ExecuteInstruction, "execute_instruction")
        self.query_cli = self.node.create_client(QueryMemory, "query_memory")
        self.get_cli = self.node.create_client(GetMemory, "get_memory")
        self.reset_cli = self.node.create_client(ResetWorld, "reset_world")

    def wait_ready(self, timeout_s: float = 60.0, system: LociSystem | None = None) -> None:
        """Wait for the planner's action and the memory's and simulator's services."""
        self.wait_ready_services(
            ("execute_instruction", "query_memory", "reset_world"), timeout_s, system
        )

    def wait_ready_services(
        self, names: tuple[str, ...], timeout_s: float = 60.0, system: LociSystem | None = None
    ) -> None:
        endpoints: dict[str, Any] = {
            "execute_instruction": self.action.wait_for_server,
            "query_memory": self.query_cli.wait_for_service,
            "get_memory": self.get_cli.wait_for_service,
            "reset_world": self.reset_cli.wait_for_service,
        }
        deadline = time.monotonic() + timeout_s
        for name in names:
            while not endpoints[name](timeout_sec=0.5):
                if system is not None:
                    system.check_alive()
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{name} did not come up within {timeout_s} s")

    def call(self, client: Any, request: Any, timeout_s: float = 30.0, attempts: int = 1) -> Any:
        """Call a service; idempotent requests may be sent ``attempts`` times, since a
        request sent while a restarted server is still being matched is lost."""
        if not client.wait_for_service(timeout_sec=timeout_s):
            raise TimeoutError(f"{client.srv_name} is not available")
        for _ in range(attempts):
            future = client.call_async(request)
            rclpy.spin_until_future_complete(self.node, future, timeout_sec=timeout_s / attempts)
            if future.done():
                return future.result()
            client.remove_pending_request(future)
        raise TimeoutError(f"{client.srv_name} did not answer within {timeout_s} s")

    def query(self, kind: str, text: str = "", k: int = 0) -> QueryMemory.Response:
        request = QueryMemory.Request(kind=kind, text=text, k=k)
        return self.call(self.query_cli, request, attempts=5)

    def world_state(self, task_json: str = "", keep_state: bool = True) -> ResetWorld.Response:
        """Set the simulator up for a task, or (no task) read its current state. Only a
        read is idempotent, so only a read is sent again if its request was lost (seen once
        in a fresh-clone `make test`: reset_world did not answer a read within 30 s)."""
        return self.call(
            self.reset_cli,
            ResetWorld.Request(task_json=task_json, keep_state=keep_state),
            attempts=1 if task_json else 5,
        )

    def memory_snapshot(self) -> GetMemory.Response:
        return self.call(self.get_cli, GetMemory.Request(), attempts=5)

    def execute(
        self, task_json: str, instruction: str = "", timeout_s: float = 600.0
    ) -> InstructionOutcome:
        if not self.action.wait_for_server(timeout_sec=30.0):
            raise TimeoutError("execute_instruction is not available")
        feedback: list[Any] = []
        answer = run_goal(
            self.action,
            ExecuteInstruction,
            ExecuteInstruction.Goal(instruction=instruction, task_json=task_json),
            self._spin,
            answer_timeout_s=10.0,
            result_timeout_s=timeout_s,
            feedback_callback=feedback.append,
        )
        if isinstance(answer, str):
            if answer == REFUSED:
                return InstructionOutcome(False, False, 0, 0, 0.0, 0, "goal rejected", 0)
            raise TimeoutError(f"execute_instruction: {answer}")
        r = answer.result
        return InstructionOutcome(
            True,
            bool(r.success),
            int(r.steps),
            int(r.skills),
            float(r.goal_conditions),
            int(r.memory_hits),
            str(r.summary),
            len(feedback),
            tuple(
                f"{f.feedback.skill} {'ok' if f.feedback.skill_success else 'failed'}"
                for f in feedback
            ),
        )

    def _spin(self, future: Any, timeout_s: float) -> None:
        rclpy.spin_until_future_complete(self.node, future, timeout_sec=timeout_s)

    def close(self) -> None:
        self.node.destroy_node()
