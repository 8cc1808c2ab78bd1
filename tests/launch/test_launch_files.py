"""Static checks of the launch files (launch and launch_ros have no PyPI wheels, so they
cannot be imported here; docker/ runs them under real `ros2 launch`): every package,
executable and parameter file they name exists, and every argument is described."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
LAUNCH = REPO / "launch"
FILES = ("robot.launch.py", "sim.launch.py", "replay.launch.py")
ALLOWED_IMPORTS = {"launch", "launch_ros", "os", "pathlib", "sys", "_common", "__future__"}


def _tree(name: str) -> ast.Module:
    return ast.parse((LAUNCH / name).read_text(), filename=name)


def _calls(tree: ast.Module, name: str) -> list[ast.Call]:
    return [
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.Call)
        and (getattr(n.func, "id", None) == name or getattr(n.func, "attr", None) == name)
    ]


def _constant(tree: ast.Module, name: str) -> object:
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in node.targets
        ):
            return ast.literal_eval(node.value)
    raise AssertionError(f"no {name} in the module")


def _console_scripts() -> set[str]:
    setup = (REPO / "ros_ws/src/loci_ros/setup.py").read_text()
    nodes = _constant(ast.parse(setup), "NODES")
    assert isinstance(nodes, tuple)
    for node in nodes:
        assert (REPO / f"ros_ws/src/loci_ros/loci_ros/{node}.py").is_file()
    return set(nodes)


def _packages() -> set[str]:
    names = set()
    for xml in (REPO / "ros_ws/src").glob("*/package.xml"):
        names.add(re.search(r"<name>(.+?)</name>", xml.read_text()).group(1))  # type: ignore[union-attr]
    return names


def test_common_nodes_exist_with_their_parameter_files() -> None:
    tree = ast.parse((LAUNCH / "_common.py").read_text())
    assert _constant(tree, "PACKAGE") in _packages()
    nodes = _constant(tree, "NODES")
    assert isinstance(nodes, dict)
    assert set(nodes) == _console_scripts()
    for executable, params in nodes.items():
        data = yaml.safe_load((LAUNCH / "params" / params).read_text())
        assert list(data) == [executable], f"{params} must hold {executable}'s parameters"
        assert isinstance(data[executable]["ros__parameters"], dict)
        # Every key is a parameter the node declares.
        source = (REPO / f"ros_ws/src/loci_ros/loci_ros/{executable}.py").read_text()
        for key in data[executable]["ros__parameters"]:
            assert f'"{key}"' in source, f"{params}: {executable} declares no {key!r}"
    site = yaml.safe_load((LAUNCH / "params/site.yaml").read_text())
    assert "/**" in site


@pytest.mark.parametrize("name", FILES)
def test_launch_file_names_only_what_exists(name: str) -> None:
    tree = _tree(name)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            mods = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module]
            for mod in mods:
                assert mod and mod.split(".")[0] in ALLOWED_IMPORTS, f"{name} imports {mod}"
    assert any(
        isinstance(n, ast.FunctionDef) and n.name == "generate_launch_description"
        for n in tree.body
    )
    executables = {
        c.args[0].value
        for c in _calls(tree, "loci_node")
        if c.args and isinstance(c.args[0], ast.Constant)
    }
    assert executables and executables <= _console_scripts()
    common = ast.parse((LAUNCH / "_common.py").read_text())
    declarations = _calls(tree, "DeclareLaunchArgument") + _calls(common, "DeclareLaunchArgument")
    declared = {c.args[0].value for c in declarations if isinstance(c.args[0], ast.Constant)}
    declared |= _topic_args(tree)  # declared in a loop over the TOPICS table
    assert {"use_sim_time", "params_file", "namespace"} <= declared
    for call in declarations:
        desc = next((k.value for k in call.keywords if k.arg == "description"), None)
        assert desc is not None, f"{name}: an argument without a description"
        if isinstance(desc, ast.Constant):
            assert str(desc.value).strip(), f"{name}: an empty description"
    text = (LAUNCH / name).read_text() + (LAUNCH / "_common.py").read_text()
    used = set(re.findall(r'LaunchConfiguration\("([a-z_]+)"\)', text))
    used |= _topic_args(tree)
    assert used <= declared, f"{name} uses undeclared arguments {used - declared}"


def _topic_args(tree: ast.Module) -> set[str]:
    try:
        topics = _constant(tree, "TOPICS")
    except AssertionError:
        return set()
    assert isinstance(topics, dict)
    return set(topics)
