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
    assert "builtin" in body_names()
    assert body_factory("builtin") is BuiltinBody
    with pytest.raises(UnknownBodyError, match="unknown body 'gazebo'"):
        body_factory("gazebo")
    from embodiment import registry

    monkeypatch.setattr(registry, "_BODIES", dict(registry._BODIES))
    register_body("broken", "no_such_module:Body")
    with pytest.raises(BodyError, match="not available"):
        body_factory("broken")


@pytest.mark.parametrize("package", ["planners", "embodiment", "memory_core"])
def test_package_imports_no_simulator(package: str) -> None:
    """The loop (planners) and the seam (embodiment) never import the simulator."""
    for path in sorted((REPO / package).rglob("*.py")):
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
