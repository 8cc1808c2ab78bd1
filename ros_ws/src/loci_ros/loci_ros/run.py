"""The one `main` every Loci node shares: init, build the node, run it, shut down."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import rclpy
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rclpy.utilities import try_shutdown

from memory_core import LociError

__all__ = ["run_node", "spin"]

N = TypeVar("N", bound=Node)


def spin(node: Node) -> int:
    rclpy.spin(node)
    return 0


def run_node(
    make: Callable[[], N], work: Callable[[N], int] = spin, args: list[str] | None = None
) -> None:
    """A node whose construction fails on bad parameters (a ``LociError``) exits 1 with the
    reason logged; otherwise the process exits with ``work``'s code (Ctrl-C: 0)."""
    rclpy.init(args=args)
    try:
        node = make()
    except LociError as exc:
        rclpy.logging.get_logger("loci").error(str(exc))
        try_shutdown()
        raise SystemExit(1) from exc
    code = 0
    try:
        code = work(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        code = 0
    finally:
        node.destroy_node()
        try_shutdown()
    if code:
        raise SystemExit(code)
