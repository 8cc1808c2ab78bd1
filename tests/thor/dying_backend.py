"""A test backend for ai2thor's Controller: ``loci thor-backend`` that exits abruptly at
its Nth action, once (a marker file says it has died already; later starts serve
normally). ``python dying_backend.py DATA MARKER N``."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from sim.registry import SceneRegistry
from thor.backend import Reply, ThorBackend
from thor.serve import CLIENT_PIPE_ENV, SERVER_PIPE_ENV, screen_size, serve


class _Dying(ThorBackend):
    def __init__(self, registry: SceneRegistry, size: tuple[int, int], marker: Path, n: int):
        super().__init__(registry, *size)
        self.marker, self.n = marker, n

    def handle(self, action: dict[str, Any]) -> Reply:
        if self.actions + 1 >= self.n and not self.marker.exists():
            self.marker.touch()
            os._exit(3)  # no reply, no goodbye
        return super().handle(action)


def main() -> int:
    data, marker, n = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
    backend = _Dying(SceneRegistry(data), screen_size(sys.argv), marker, n)
    serve(backend, Path(os.environ[SERVER_PIPE_ENV]), Path(os.environ[CLIENT_PIPE_ENV]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
