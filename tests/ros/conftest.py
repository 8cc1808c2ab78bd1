"""The ROS 2 layer's tests run real nodes over real DDS (Fast DDS, loopback only).

They need the workspace built and sourced (`make test` does both: ros_ws/build.sh, then
ros_ws/env.sh). Where it is not (a bare `pytest`), they are skipped with the reason, unless
LOCI_REQUIRE_ROS=1 (set by `make test`), which makes a missing ROS set-up a failure.
"""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import DATA


def _ros_missing() -> str | None:
    if not os.environ.get("FASTRTPS_DEFAULT_PROFILES_FILE"):
        return "the ROS environment is not sourced (source ros_ws/env.sh)"
    try:
        import loci_msgs.msg  # noqa: F401
        import loci_ros.system  # noqa: F401
        import rclpy  # noqa: F401
    except ImportError as exc:
        return f"ROS 2 packages not importable: {exc}"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = _ros_missing()
    if reason is None:
        return
    if os.environ.get("LOCI_REQUIRE_ROS") == "1":
        raise pytest.UsageError(f"LOCI_REQUIRE_ROS=1 but {reason}")
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session", autouse=True)
def own_domain() -> Iterator[None]:
    """This test run's own ROS_DOMAIN_ID: concurrent runs on one machine never meet."""
    old = os.environ.get("ROS_DOMAIN_ID")
    os.environ["ROS_DOMAIN_ID"] = str(random.SystemRandom().randint(1, 200))
    yield
    if old is None:
        os.environ.pop("ROS_DOMAIN_ID", None)
    else:
        os.environ["ROS_DOMAIN_ID"] = old


@pytest.fixture(scope="session")
def rclpy_context() -> Iterator[None]:
    import rclpy

    if not rclpy.ok():
        rclpy.init()
    yield
    rclpy.try_shutdown()


def sim_overrides(
    workdir: Path, sensing: str = "gt", **extra: dict[str, object]
) -> dict[str, dict[str, object]]:
    """The simulator set-up with its store in ``workdir`` and the real scene data."""
    from loci_ros.system import sim_overrides as overrides

    return overrides(workdir / "memory.db", DATA, sensing, **extra)
