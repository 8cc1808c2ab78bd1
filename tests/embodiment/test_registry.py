"""Bodies by name; planners meet bodies only at the embodiment layer."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from embodiment import BodyError, UnknownBodyError, body_factory, body_names, register_body
from sim.body import BuiltinBody

REPO = Path(__file__).resolve().parents[2]


def test_builtin_is_registered_and_unknown_names_are_clear_errors(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert {"builtin", "ai2thor"} <= set(body_names())
    assert body_factory("builtin") is BuiltinBody
    assert body_factory("ai2thor").__name__ == "Ai2ThorBody"
    with pytest.raises(UnknownBodyError, match="unknown body 'gazebo'"):
        body_factory("gazebo")
    from embodiment import registry

    monkeypatch.setattr(registry, "_BODIES", dict(registry._BODIES))
    register_body("broken", "no_such_module:Body")
    with pytest.raises(BodyError, match="not available"):
        body_factory("broken")


@pytest.mark.parametrize(
    "package",
    [
        "planners",
        "embodiment",
        "memory_core",
        # The ai2thor body runs on real AI2-THOR: only thor-backend is the simulator's.
        "thor/body.py",
        "thor/scoring.py",
        "thor/setup.py",
        "thor/scenes.py",
        "thor/protocol.py",
    ],
)
def test_package_imports_no_simulator(package: str) -> None:
    """The loop (planners), the seam (embodiment) and the AI2-THOR body never import the
    built-in simulator."""
    root = REPO / package
    for path in sorted(root.rglob("*.py") if root.is_dir() else [root]):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] not in ("sim", "loci", "loci_ros", "rclpy"), (
                    f"{path.relative_to(REPO)} imports {name}"
                )
