"""``loci thor-backend``: the process ``ai2thor.controller.Controller`` starts as its Unity.

The controller makes two named pipes and passes their paths in the environment
(``AI2THOR_FIFO_SERVER_PIPE_PATH``: replies, ``AI2THOR_FIFO_CLIENT_PIPE_PATH``: actions), the
window size as Unity arguments (``-screen-width W -screen-height H``), and logs what the
process prints under ``~/.ai2thor/log``. The order of opening matters: the reply pipe first,
the ready message, then the action pipe (the controller opens its ends in that order; the
other order deadlocks both sides).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

from sim.registry import SceneRegistry
from thor.backend import DEFAULT_SIZE, ThorBackend
from thor.errors import ThorError
from thor.protocol import read_action, write_reply

__all__ = ["CLIENT_PIPE_ENV", "SERVER_PIPE_ENV", "screen_size", "serve", "serve_from_env"]

log = logging.getLogger(__name__)

SERVER_PIPE_ENV = "AI2THOR_FIFO_SERVER_PIPE_PATH"
CLIENT_PIPE_ENV = "AI2THOR_FIFO_CLIENT_PIPE_PATH"


def screen_size(argv: Sequence[str]) -> tuple[int, int]:
    """Unity's ``-screen-width``/``-screen-height`` arguments (300x300 when absent, as in a
    headless launch)."""
    size = {"-screen-width": DEFAULT_SIZE, "-screen-height": DEFAULT_SIZE}
    for flag in size:
        if flag in argv:
            i = list(argv).index(flag)
            try:
                size[flag] = int(argv[i + 1])
            except (IndexError, ValueError):
                raise ThorError(f"{flag} needs a whole number") from None
    return size["-screen-width"], size["-screen-height"]


def serve(backend: ThorBackend, server_pipe: Path, client_pipe: Path) -> int:
    """Answer actions until the controller closes its pipe; the number answered."""
    answered = 0
    with server_pipe.open("wb") as out:
        ready = backend.ready()
        write_reply(out, ready.metadata, 0, ready.images)
        with client_pipe.open("rb") as inp:
            while True:
                action = read_action(inp)
                if action is None:
                    log.info("the controller closed its pipe after %d actions", answered)
                    return answered
                sequence_id = action.pop("sequenceId", 0)
                reply = backend.handle(action)
                try:
                    write_reply(out, reply.metadata, int(sequence_id), reply.images)
                except BrokenPipeError:
                    log.info("the controller went away after %d actions", answered)
                    return answered
                answered += 1


def serve_from_env(data: Path, argv: Sequence[str]) -> int:
    """Serve the pipes the controller named in the environment."""
    try:
        server_pipe, client_pipe = os.environ[SERVER_PIPE_ENV], os.environ[CLIENT_PIPE_ENV]
    except KeyError as exc:
        raise ThorError(
            f"{exc.args[0]} is not set: thor-backend is started by "
            "ai2thor.controller.Controller(local_executable_path=...)"
        ) from None
    width, height = screen_size(argv)
    backend = ThorBackend(SceneRegistry(data), width, height)
    return serve(backend, Path(server_pipe), Path(client_pipe))
