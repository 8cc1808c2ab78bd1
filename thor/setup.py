"""Starting AI2-THOR's Controller, and setting a task's scene up through AI2-THOR's own
actions (as ALFRED's and the rearrangement challenge's code do)."""

from __future__ import annotations

import logging
import os
import shlex
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from embodiment.camera import HORIZON_DEG
from embodiment.tasks import Task, check_types_exist
from thor.body import Ai2ThorBody
from thor.errors import ThorError
from thor.scenes import build_scene_name

__all__ = ["apply_task_init", "backend_command", "start_controller", "stop_controller"]

log = logging.getLogger(__name__)

RGBD_SIZE = (320, 240)
"""Frames for perception: the built-in body's size, so both bodies see alike."""


def backend_command(data: Path | None = None) -> str:
    """``loci thor-backend`` as the Controller's ``local_executable_path`` (run by this
    interpreter, so no PATH or virtual environment is needed)."""
    cmd = [sys.executable, "-m", "loci.cli", "thor-backend"]
    if data is not None:
        cmd += ["--data-dir", str(Path(data).resolve())]
    return shlex.join(cmd)


def start_controller(
    scene: str,
    sensing: str = "gt",
    executable: str | None = None,
    **params: Any,
) -> Any:
    """An ``ai2thor.controller.Controller`` on ``scene``. ``executable``: a backend to start
    (``loci thor-backend``, or a local AI2-THOR build); None lets ai2thor fetch its own
    Unity build (a machine with a display or GPU and the network)."""
    try:
        from ai2thor.controller import Controller
    except ImportError as exc:
        raise ThorError(
            "the ai2thor body needs the `ai2thor` package: pip install -e '.[ai2thor]'"
        ) from exc
    rgbd = sensing == "rgbd"
    width, height = RGBD_SIZE if rgbd else (300, 300)
    args: dict[str, Any] = {
        "scene": build_scene_name(scene),
        "width": width,
        "height": height,
        "gridSize": 0.25,
        "visibilityDistance": 1.5,
        "fieldOfView": 90,
        "renderDepthImage": rgbd,
        "renderInstanceSegmentation": rgbd,
        # Ground truth needs no frames: every action goes without rendering.
        "headless": not rgbd,
        # A dead backend is an error at once (the Controller's own timeout would spin a core
        # for its whole length); a hung one is the body's watchdog's.
        "server_timeout": None,
        # ai2thor launches through X even for a backend that needs none; any name will do.
        "x_display": os.environ.get("DISPLAY") or ":0",
        **params,
    }
    if executable is not None:
        args["local_executable_path"] = executable
    try:
        return Controller(**args)
    except Exception as exc:
        raise ThorError(f"AI2-THOR controller did not start: {type(exc).__name__}: {exc}") from exc


def apply_task_init(body: Ai2ThorBody, task: Task) -> None:
    """The task's initial changes as AI2-THOR actions: SetObjectPoses, SetObjectToggles,
    OpenObject with an openness, TeleportFull; then the agent looks 30 degrees down."""
    init = task.init
    steps: list[tuple[str, dict[str, Any]]] = []
    if init.get("moves"):
        raise ThorError("task init 'moves' has no AI2-THOR action (use object_poses)")
    if init.get("object_poses"):
        steps.append(("SetObjectPoses", {"objectPoses": list(init["object_poses"])}))
    if init.get("object_toggles"):
        steps.append(("SetObjectToggles", {"objectToggles": list(init["object_toggles"])}))
    for entry in init.get("openness") or []:
        steps.append(
            (
                "OpenObject",
                {
                    "objectId": str(entry["objectId"]),
                    "openness": float(entry["openness"]),
                    "forceAction": True,
                },
            )
        )
    agent = init.get("agent")
    if isinstance(agent, Mapping):
        steps.append(
            (
                "TeleportFull",
                {
                    "x": float(agent["x"]),
                    "y": float(agent.get("y", body.metadata["agent"]["position"]["y"])),
                    "z": float(agent["z"]),
                    "rotation": {"x": 0.0, "y": float(agent.get("rotation", 0)), "z": 0.0},
                    "horizon": HORIZON_DEG,
                    "standing": True,
                },
            )
        )
    else:
        pos = body.metadata["agent"]["position"]
        rot = body.metadata["agent"]["rotation"]
        steps.append(
            (
                "TeleportFull",
                {**pos, "rotation": rot, "horizon": HORIZON_DEG, "standing": True},
            )
        )
    for action, args in steps:
        ok, err = body.step(action, **args)
        if not ok:
            raise ThorError(f"task set-up failed on {action}: {err}")
    check_types_exist(task, {str(o["objectType"]) for o in body.metadata.get("objects") or []})


def stop_controller(controller: Any) -> None:
    """Stop a Controller whose backend may have died: ai2thor's ``FifoServer.stop`` closes
    its pipe to the backend, which flushes what is still buffered and raises
    ``BrokenPipeError`` when nobody reads (a race: only when bytes are left)."""
    try:
        controller.stop()
    except OSError as exc:
        log.warning("stopping an AI2-THOR controller whose backend is gone: %s", exc)
        # The pipe is closed all the same (a buffered file closes its descriptor when the
        # flush fails); stopping again runs the rest: the other pipe, the build's lock.
        controller.stop()
