"""Ray for suites (``loci bench --cluster``): a suite's groups as Ray tasks.

``ray`` starts a local Ray cluster for the run, on loopback only, and shuts it down at
the end; ``ray://host:port`` connects to an existing cluster through Ray Client and only
disconnects at the end (never stopping a cluster it did not start). Ray is the optional
``ray`` extra, imported only here and only when a cluster is asked for.

Loopback: Ray binds its servers to the node's IP address, and a Linux head node takes the
machine's routable address even with ``ray.init(_node_ip_address="127.0.0.1")``.
``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0`` (read once, when ``ray`` is imported) makes the
node's address 127.0.0.1, and then every listener (GCS, raylet, workers, agents, the
driver) binds there; the address is checked after start and a cluster on anything else
is shut down at once.
"""

from __future__ import annotations

import importlib
import importlib.util
import ipaddress
import logging
import os
import secrets
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

from memory_core import LociError

__all__ = ["ClusterSpec", "RayCluster", "cluster_for", "parse_cluster", "ray_cluster"]

log = logging.getLogger(__name__)

T = TypeVar("T")

INSTALL_HINT = "pip install -e '.[ray]'"
LOCAL = "ray"
CLIENT_SCHEME = "ray://"
OBJECT_STORE_BYTES = 128 * 1024 * 1024
"""The local object store: a task's rows are kilobytes; Ray's default reserves 30% of the
machine's memory."""
# Unix socket paths (raylet, plasma store) live under the temp dir's session folder and
# are limited to ~107 characters, so the temp dir's base path must stay short.
_SHORT_BASE = 20
_CLIENT_ATTEMPTS = 3


@dataclass(frozen=True)
class ClusterSpec:
    """Where the Ray tasks run: ``address`` None is a local cluster of ``cpus`` CPUs
    (None: every core) started for the run; else a ``ray://host:port`` to connect to."""

    address: str | None = None
    cpus: int | None = None


def parse_cluster(value: str, workers: int | None = None) -> ClusterSpec:
    """``--cluster``'s value: ``ray`` (``workers``, when given, is the local cluster's CPUs)
    or ``ray://host:port``."""
    if value == LOCAL:
        return ClusterSpec(cpus=workers if workers and workers > 0 else None)
    if value.startswith(CLIENT_SCHEME):
        host, sep, port = value.removeprefix(CLIENT_SCHEME).rpartition(":")
        if host and sep and port.isdigit():
            return ClusterSpec(address=value)
    raise LociError(f"--cluster takes ray or ray://host:port, not {value!r}")


class RayCluster:
    """A connected Ray: calls go out as Ray tasks, results come back as they finish."""

    def __init__(self, ray: Any, worker_env: Mapping[str, str]) -> None:
        self._ray = ray
        # Set in each worker before a call: a local cluster's processes get their own
        # HOME, the episodes the user's (caches, as with local worker processes).
        self._worker_env = dict(worker_env)

    def map_unordered(self, fn: Callable[..., T], calls: Sequence[tuple[Any, ...]]) -> Iterator[T]:
        """``fn(*args)`` for every ``args`` as one Ray task each (one CPU), yielded in the
        order they finish; what is still pending when the caller stops is cancelled."""
        remote = self._ray.remote(num_cpus=1)(_call_with_env)
        pending = [remote.remote(self._worker_env, fn, args) for args in calls]
        try:
            while pending:
                done, pending = self._ray.wait(pending, num_returns=1)
                result: T = self._ray.get(done[0])
                yield result
        finally:
            for ref in pending:
                self._ray.cancel(ref, force=True)


def _call_with_env(env: Mapping[str, str], fn: Callable[..., T], args: tuple[Any, ...]) -> T:
    """What a Ray task runs (in a worker)."""
    os.environ.update(env)
    return fn(*args)


def cluster_for(
    value: str | None, workers: int | None = None
) -> AbstractContextManager[RayCluster | None]:
    """``loci bench --cluster VALUE``: a Ray cluster for the ``with`` block, or none
    without a value. A malformed value is an error at once, before anything starts."""
    if not value:
        return nullcontext()
    return ray_cluster(parse_cluster(value, workers))


@contextmanager
def ray_cluster(spec: ClusterSpec) -> Iterator[RayCluster]:
    """A Ray cluster for the ``with`` block: started (local) or connected (``ray://``);
    shut down or disconnected at its end."""
    if spec.address is None:
        with _local_cluster(spec.cpus or os.cpu_count() or 1) as cluster:
            yield cluster
        return
    ray = _import_ray(spec.address)
    if importlib.util.find_spec("grpc") is None:
        raise LociError(f"--cluster {spec.address} needs Ray Client (grpcio): {INSTALL_HINT}")
    for attempt in range(_CLIENT_ATTEMPTS):
        try:
            ray.init(address=spec.address, logging_level=logging.WARNING, log_to_driver=True)
            break
        except ConnectionError as exc:  # Ray Client gives up after ~30 s
            # The cluster answered, but the server it starts for this client died at start
            # (seen on a loaded machine, not again on the next try): asked again.
            if "client server failed" in str(exc) and attempt + 1 < _CLIENT_ATTEMPTS:
                log.warning("Ray client server did not start at %s; trying again", spec.address)
                time.sleep(1.0)
                continue
            raise LociError(f"no Ray cluster answers at {spec.address}: {exc}") from exc
    try:
        yield RayCluster(ray, {})
    finally:
        ray.shutdown()  # a Ray Client connection: this disconnects, the cluster stays up


@contextmanager
def _local_cluster(cpus: int) -> Iterator[RayCluster]:
    base = tempfile.gettempdir()
    temp_dir = Path(
        tempfile.mkdtemp(prefix="loci-ray-", dir=base if len(base) <= _SHORT_BASE else "/tmp")
    )
    home = temp_dir / "home"
    home.mkdir()
    user_home = os.environ.get("HOME")
    try:
        with _environ(_local_environment()):
            ray = _import_ray_for_local()
            # Only the processes started here (GCS, raylet, agents, and through the raylet
            # the workers) see this HOME: Ray keeps nothing of ours in the user's ~/.ray.
            with _environ({"HOME": str(home)}):
                ray.init(
                    address="local",  # always a new cluster, never one RAY_ADDRESS names
                    num_cpus=cpus,
                    include_dashboard=False,
                    object_store_memory=OBJECT_STORE_BYTES,
                    logging_level=logging.WARNING,
                    # Episodes' warnings reach the user as with local worker processes.
                    log_to_driver=True,
                    _temp_dir=str(temp_dir),
                )
            try:
                _check_loopback(ray)
                log.info("local Ray cluster: %d CPUs, %s", cpus, temp_dir)
                yield RayCluster(ray, {"HOME": user_home} if user_home else {})
            finally:
                ray.shutdown()
    finally:
        shutil.rmtree(temp_dir, ignore_errors=True)


@cache
def _auth_token() -> str:
    """One token per process: Ray's native side keeps the first token it reads (a second
    local cluster with another token fails to start: tried), so every local cluster of
    this process gets the same one."""
    return secrets.token_hex(32)


def _local_environment() -> dict[str, str]:
    """What the local cluster's processes (and this one, while it runs) need."""
    return {
        # Loopback only: read when ray is imported (see the module's docstring).
        "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
        "RAY_USAGE_STATS_ENABLED": "0",
        # Token auth, as Ray does by default, but the token given here: Ray would
        # otherwise write one to ~/.ray/auth_token and warn about it.
        "RAY_AUTH_MODE": "token",
        "RAY_AUTH_TOKEN": _auth_token(),
    }


def _check_loopback(ray: Any) -> None:
    address = str(ray.util.get_node_ip_address())
    if not ipaddress.ip_address(address).is_loopback:
        raise LociError(
            f"the local Ray cluster took the address {address}, not loopback (Ray did not "
            "follow RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0); it is shut down"
        )


_ray_imported_here = False
"""Whether this module imported ray, under the local cluster's environment."""


def _import_ray_for_local() -> Any:
    """Ray, imported under :func:`_local_environment`: Ray reads the loopback setting and
    the token mode once, when it is imported, so a ray imported before by anything else
    would start a cluster on the routable address that this process cannot talk to."""
    global _ray_imported_here
    if sys.modules.get("ray") is not None and not _ray_imported_here:
        raise LociError(
            "--cluster ray must import ray itself (it sets Ray's environment first: "
            "loopback only, its own token), but ray was already imported in this process"
        )
    ray = _import_ray(LOCAL)
    _ray_imported_here = True
    return ray


def _import_ray(cluster: str) -> Any:
    """Ray, imported here only: the extra is optional. Typed Any, so that type checking
    needs no ray installed; the few calls made on it are Ray's public API."""
    try:
        return importlib.import_module("ray")
    except ImportError as exc:
        raise LociError(f"--cluster {cluster} needs Ray: {INSTALL_HINT}") from exc


@contextmanager
def _environ(values: Mapping[str, str]) -> Iterator[None]:
    """``values`` in ``os.environ`` for the block (child processes inherit them), the
    previous values back after it."""
    before = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in before.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old
