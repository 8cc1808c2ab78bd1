"""`loci bench --cluster`: a suite's groups as Ray tasks, rows as with --workers.

The local cluster must listen on loopback only and leave no process behind; a cluster
that was already running (``ray://``) is used and left running. Ray is the optional
``ray`` extra: without it these tests are skipped, unless LOCI_REQUIRE_RAY=1 (make test)
makes that a failure.
"""

from __future__ import annotations

import importlib.util
import ipaddress
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import loci.bench
from loci.cli import main

# Two lifelong sequences whole and the start of a third (sequences are one Ray task each,
# run in order in one world), in two memory modes, one cluster for both.
ARGS = ["bench", "--suite", "lifelong", "--limit", "12", "--memory", "full,ltm"]
TIMING = {"wall_s"}


def _need(module: str) -> None:
    if importlib.util.find_spec(module) is None:
        reason = f"--cluster needs {module} (pip install -e '.[ray]')"
        if os.environ.get("LOCI_REQUIRE_RAY") == "1":
            pytest.fail(f"LOCI_REQUIRE_RAY=1 but {reason}")
        pytest.skip(reason)


def _rows(path: Path) -> dict[str, list[dict[str, Any]]]:
    """Every run's rows, timing fields left out."""
    runs = json.loads(path.read_text())["runs"]
    return {
        name: [{k: v for k, v in row.items() if k not in TIMING} for row in run["tasks"]]
        for name, run in runs.items()
    }


@pytest.fixture(scope="module")
def local_rows(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict[str, Any]]]:
    out = tmp_path_factory.mktemp("local") / "w2.json"
    assert main([*ARGS, "--workers", "2", "--quiet", "--json", str(out)]) == 0
    rows = _rows(out)
    assert set(rows) == {"full", "ltm"} and all(len(r) == 12 for r in rows.values())
    return rows


def _psutil() -> ModuleType:
    """psutil, without importing ray: loci's local cluster must be the first to import ray
    in a process. Ray ships a copy (its thirdparty_files) where none is installed."""
    if importlib.util.find_spec("psutil") is None:
        spec = importlib.util.find_spec("ray")
        assert spec is not None and spec.submodule_search_locations
        sys.path.append(str(Path(next(iter(spec.submodule_search_locations))) / "thirdparty_files"))
    return importlib.import_module("psutil")


def _descendants(psutil: ModuleType, pid: int) -> list[Any]:
    try:
        return list(psutil.Process(pid).children(recursive=True))
    except psutil.NoSuchProcess:
        return []


def _is_loopback(ip: str) -> bool:
    addr = ipaddress.ip_address(ip.split("%")[0])
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return addr.ipv4_mapped.is_loopback  # a dual-stack socket's [::ffff:127.0.0.1]
    return addr.is_loopback


def _listening(psutil: ModuleType, procs: list[Any]) -> list[tuple[int, str, str]]:
    """(pid, name, address) of every TCP listener and bound UDP socket of ``procs``."""
    found = []
    for proc in procs:
        try:
            conns = proc.net_connections(kind="inet")
            name = proc.name()
        except psutil.NoSuchProcess:
            continue
        for c in conns:
            if c.type == socket.SOCK_STREAM and c.status != psutil.CONN_LISTEN:
                continue
            found.append((proc.pid, name, f"{c.laddr.ip}:{c.laddr.port}"))
    return found


def _alive(psutil: ModuleType, procs: list[Any], wait_s: float) -> list[str]:
    deadline = time.monotonic() + wait_s
    while True:
        alive = []
        for proc in procs:
            try:
                if proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
                    alive.append(f"{proc.pid} {proc.name()}")
            except psutil.NoSuchProcess:
                pass
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.2)


def _temp_dirs() -> set[Path]:
    return {*Path(tempfile.gettempdir()).glob("loci-ray-*"), *Path("/tmp").glob("loci-ray-*")}


def test_cluster_option_errors(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    base = ["bench", "--suite", "alfred-seen", "--limit", "1", "--quiet"]
    assert main([*base, "--cluster", "spark"]) == 2
    assert "--cluster takes ray or ray://host:port, not 'spark'" in capsys.readouterr().err
    assert main([*base, "--cluster", "ray://nohost"]) == 2
    assert "--cluster takes ray or ray://host:port" in capsys.readouterr().err
    assert main([*base, "--cluster", "ray", "--body", "ai2thor"]) == 2
    assert "--cluster runs the builtin body only" in capsys.readouterr().err
    # ray imported by something else first: Ray has read its environment already.
    if importlib.util.find_spec("ray") is not None:
        code = "import sys, ray; from loci.cli import main; sys.exit(main(sys.argv[1:]))"
        done = subprocess.run(
            [sys.executable, "-c", code, *base, "--cluster", "ray"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 2, done.stderr[-2000:]
        assert "ray was already imported in this process" in done.stderr
    # Without the extra: a clear error naming it (None in sys.modules fails the import).
    monkeypatch.setitem(sys.modules, "ray", None)
    assert main([*base, "--cluster", "ray"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("loci: error: --cluster ray needs Ray: pip install -e '.[ray]'")


def test_local_cluster_rows_loopback_and_shutdown(
    local_rows: dict[str, list[dict[str, Any]]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``--cluster ray --workers 2``: the rows of ``--workers 2``; while it runs, every
    process Ray started (and this one, the driver) listens on loopback only; after it,
    none of them is left and its temp dir is gone."""
    _need("ray")
    psutil = _psutil()
    me = os.getpid()
    before = {p.pid for p in _descendants(psutil, me)}  # a session's servers, if any
    own_before = set(_listening(psutil, [psutil.Process(me)]))
    dirs_before = _temp_dirs()
    seen: dict[int, Any] = {}
    commands: dict[int, str] = {}
    listeners: set[tuple[int, str, str]] = set()

    def watch(done: int, total: int) -> None:
        # Called in the driver while the cluster is up, after each finished group.
        for proc in _descendants(psutil, me):
            if proc.pid not in before and proc.pid not in seen:
                seen[proc.pid] = proc
                commands[proc.pid] = _cmdline(proc)
        listeners.update(_listening(psutil, [*seen.values(), psutil.Process(me)]))

    monkeypatch.setattr(loci.bench, "print_progress", watch)
    out = tmp_path / "ray.json"
    assert main([*ARGS, "--cluster", "ray", "--workers", "2", "--json", str(out)]) == 0
    assert _rows(out) == local_rows

    # Ray's own processes and its workers (named for what they run: ray::IDLE...).
    assert any("raylet" in c for c in commands.values()), commands
    assert any(c.startswith("ray::") for c in commands.values()), commands
    assert listeners, "no listener found: the check saw nothing"
    outside = sorted(entry for entry in listeners if not _is_loopback(entry[2].rpartition(":")[0]))
    assert not outside, f"Ray listens beyond loopback: {outside}"

    assert not _alive(psutil, list(seen.values()), wait_s=10.0)
    assert set(_listening(psutil, [psutil.Process(me)])) <= own_before
    assert _temp_dirs() <= dirs_before


def _cmdline(proc: Any) -> str:
    try:
        return " ".join(proc.cmdline())
    except Exception:  # gone since: not a worker to count
        return ""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def existing_cluster() -> Iterator[tuple[str, dict[str, str], Any]]:
    """A user's cluster: ``ray start --head`` on loopback with Ray Client's port, its own
    token, HOME and temp dir. Yields (address, the environment to reach it, the process)."""
    _need("ray")
    _need("grpc")
    psutil = _psutil()
    temp = Path(tempfile.mkdtemp(prefix="lr", dir="/tmp"))  # short: unix socket paths
    (temp / "home").mkdir()
    port = _free_port()
    env = {
        **os.environ,
        "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
        "RAY_USAGE_STATS_ENABLED": "0",
        "RAY_AUTH_MODE": "token",
        "RAY_AUTH_TOKEN": os.urandom(32).hex(),
    }
    ray_cli = Path(sys.executable).with_name("ray")
    head = subprocess.Popen(
        [
            str(ray_cli),
            "start",
            "--head",
            "--port=0",
            f"--ray-client-server-port={port}",
            "--num-cpus=2",
            "--include-dashboard=false",
            f"--temp-dir={temp}",
            "--block",
        ],
        env={**env, "HOME": str(temp / "home")},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_port(port, head, 60.0)
        yield f"ray://127.0.0.1:{port}", env, head
    finally:
        procs = _descendants(psutil, head.pid)
        head.terminate()
        try:
            head.wait(timeout=40)
        except subprocess.TimeoutExpired:
            head.kill()
            head.wait()
        for proc in procs:  # none should be left; never leave one running
            if proc.is_running():
                proc.kill()
        shutil.rmtree(temp, ignore_errors=True)


def _wait_for_port(port: int, proc: subprocess.Popen[bytes], wait_s: float) -> None:
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        assert proc.poll() is None, "ray start --head exited"
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.3)
    pytest.fail(f"Ray Client's port {port} did not open in {wait_s} s")


def test_existing_cluster_is_used_and_left_running(
    local_rows: dict[str, list[dict[str, Any]]],
    existing_cluster: tuple[str, dict[str, str], Any],
    tmp_path: Path,
) -> None:
    address, env, head = existing_cluster
    psutil = _psutil()
    running = [p for p in _descendants(psutil, head.pid) if "raylet" in _cmdline(p)]
    assert running
    out = tmp_path / "client.json"
    command = [sys.executable, "-m", "loci.cli", *ARGS, "--cluster", address]
    done = subprocess.run(
        [*command, "--quiet", "--json", str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert _rows(out) == local_rows
    # Disconnected, not shut down: the user's cluster (its raylet) is still up.
    time.sleep(1.0)
    assert head.poll() is None and all(p.is_running() for p in running)
