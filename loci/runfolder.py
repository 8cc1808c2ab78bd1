"""Run folders that never overwrite a user's earlier run.

A run folder is claimed before anything runs: a new folder, or an empty one, gets a
marker file created with ``O_EXCL``, so of two runs started on one folder at once
exactly one proceeds; a folder that already holds anything is refused. The memory is
written under a temporary name and renamed into place only when the save succeeded,
so a failed save never leaves an empty or half-written ``memory.db``.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from memory_core import LociError, Memory, SQLiteStore, StoreError

__all__ = ["MARKER", "claim_new_file", "claim_run_folder", "save_memory"]

MARKER = ".loci-run"


def claim_run_folder(out: Path | None, root: Path = Path("runs")) -> Path:
    """Claim ``out`` (or a new ``root/<timestamp>`` folder) for one run; raise
    :class:`LociError` if it holds anything already or another run claimed it."""
    if out is None:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        for n in range(1, 1000):
            candidate = root / (stamp if n == 1 else f"{stamp}-{n}")
            try:
                candidate.mkdir(parents=True)
            except FileExistsError:
                continue
            _mark(candidate)
            return candidate
        raise LociError(f"cannot find a free run folder under {root}")
    if out.exists() and not out.is_dir():
        raise LociError(f"--out {out} exists and is not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise LociError(f"cannot create run folder {out}: {exc}") from exc
    held = sorted(p.name for p in out.iterdir() if p.name != MARKER)
    if held or (out / MARKER).exists():
        what = ", ".join(held[:4]) + (" ..." if len(held) > 4 else "") or "another run's marker"
        raise LociError(
            f"--out {out} already holds a run ({what}); choose a new folder or remove it"
        )
    _mark(out)
    return out


def _mark(folder: Path) -> None:
    try:
        fd = os.open(folder / MARKER, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        raise LociError(f"run folder {folder} was claimed by another run") from None
    except OSError as exc:
        raise LociError(f"cannot write to run folder {folder}: {exc}") from exc
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(f"pid {os.getpid()}\n")


def claim_new_file(path: Path, what: str) -> Path:
    """Create ``path`` empty, exclusively: refuse an existing file (``what`` names the
    option in the error) instead of overwriting it."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        raise LociError(f"{what} {path} exists; choose a new file or remove it") from None
    except OSError as exc:
        raise LociError(f"cannot create {what} {path}: {exc}") from exc
    os.close(fd)
    return path


def save_memory(memory: Memory, path: Path) -> Path:
    """Write ``memory`` as a new SQLite store at ``path`` (which must not exist), atomically."""
    if path.exists():
        raise LociError(f"{path} exists; refusing to overwrite a memory")
    partial = path.with_name(f".{path.name}.partial-{os.getpid()}")
    try:
        with SQLiteStore(partial) as store:
            memory.save(store)
        # link, not rename: fails instead of replacing a store that appeared meanwhile.
        os.link(partial, path)
    except FileExistsError:
        raise LociError(f"{path} appeared while saving; the memory was not written") from None
    except (OSError, StoreError) as exc:
        raise LociError(f"cannot save the memory to {path}: {exc}") from exc
    finally:
        for leftover in (partial, *partial.parent.glob(f"{partial.name}-*")):
            leftover.unlink(missing_ok=True)
    return path
