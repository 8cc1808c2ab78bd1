"""The local server wrapper reports a dead server by its exit code and output.

The server here is a real process on 127.0.0.1 that answers ``/v1/models`` and then
dies on the first completion, as the natively built llama.cpp did on another CPU.
"""

from __future__ import annotations

import contextlib
import os
import platform
import re
import shutil
import subprocess
import sys
import textwrap
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from planners.local_llm import LocalServerError, free_port, local_server

_DYING_SERVER = textwrap.dedent(
    """
    import os, sys
    from http.server import BaseHTTPRequestHandler, HTTPServer

    class H(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_GET(self):
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b'{"data": []}')

        def do_POST(self):
            sys.stderr.write("general protection fault in libggml-cpu.so.0\\n")
            sys.stderr.flush()
            os._exit(139)

    HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
    """
)


def _server_argv(tmp_path: Path, port: int) -> list[str]:
    script = tmp_path / "server.py"
    script.write_text(_DYING_SERVER, encoding="utf-8")
    return [sys.executable, str(script), str(port)]


def test_death_during_use_names_exit_code_and_output(tmp_path: Path) -> None:
    port = free_port()
    with (
        pytest.raises(LocalServerError, match=r"exited with code 139: .*protection fault"),
        local_server(_server_argv(tmp_path, port), port, ready_timeout_s=20) as url,
    ):
        urllib.request.urlopen(f"{url}/models", timeout=5).read()
        with pytest.raises((urllib.error.URLError, ConnectionError)):
            urllib.request.urlopen(
                urllib.request.Request(f"{url}/chat/completions", data=b"{}"), timeout=5
            )


def _post_and_ignore_failure(url: str) -> None:
    # What the LLM planner does: count an invalid answer and go on.
    with contextlib.suppress(urllib.error.URLError, ConnectionError):
        urllib.request.urlopen(urllib.request.Request(url, data=b"{}"), timeout=5)


def test_death_is_reported_even_when_the_caller_swallowed_the_error(tmp_path: Path) -> None:
    port = free_port()
    with (
        pytest.raises(LocalServerError, match="exited with code 139"),
        local_server(_server_argv(tmp_path, port), port, ready_timeout_s=20) as url,
    ):
        _post_and_ignore_failure(f"{url}/chat/completions")


def test_a_server_that_never_starts_says_why(tmp_path: Path) -> None:
    port = free_port()
    argv = [sys.executable, "-c", "import sys; print('no model file'); sys.exit(2)"]
    with (
        pytest.raises(LocalServerError, match="exited with code 2: no model file"),
        local_server(argv, port, ready_timeout_s=20),
    ):
        pass


def test_a_healthy_server_is_stopped_without_error(tmp_path: Path) -> None:
    port = free_port()
    with local_server(_server_argv(tmp_path, port), port, ready_timeout_s=20) as url:
        assert urllib.request.urlopen(f"{url}/models", timeout=5).read() == b'{"data": []}'


def _ggml_cpu_library() -> Path | None:
    import importlib.util

    spec = importlib.util.find_spec("llama_cpp")
    if spec is None or spec.origin is None:
        return None
    found = sorted((Path(spec.origin).parent / "lib").glob("libggml-cpu*.so*"))
    return found[0] if found else None


@pytest.mark.skipif(
    platform.machine() != "x86_64" or shutil.which("objdump") is None,
    reason="checks the x86-64 build with objdump",
)
def test_installed_llama_cpp_is_built_without_native_cpu_instructions() -> None:
    """A native build on a CPU with AVX-512/AMX crashed on another machine: the installed
    library must use nothing beyond AVX2 (no zmm registers, no AMX tiles)."""
    lib = _ggml_cpu_library()
    if lib is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI must install llama-cpp-python (the llm-local extra)")
        pytest.skip("llama-cpp-python not installed")
    asm = subprocess.run(
        ["objdump", "-d", "--no-show-raw-insn", str(lib)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "ymm" in asm, "expected an AVX2 build (ymm registers)"
    assert "zmm" not in asm, f"{lib} uses AVX-512 (zmm registers): a native build"
    assert not re.search(r"\b(ldtilecfg|tileloadd|tdpb\w+)\b", asm), f"{lib} uses AMX"
