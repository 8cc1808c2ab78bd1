from __future__ import annotations

from pathlib import Path

import pytest

from memory_core import ConfigError, MemoryConfig, load_config

REPO = Path(__file__).resolve().parents[2]


def test_repo_config_loads() -> None:
    cfg = load_config(REPO / "configs/memory.yaml")
    assert isinstance(cfg, MemoryConfig)
    assert cfg.stm.policy == "adaptive" and cfg.scene_graph.up_axis == "y"


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("stm: {capacity: 0}", "capacity"),
        ("stm: {capcity: 3}", "unknown keys"),
        ("scene_graph: {up_axis: x}", "up_axis"),
        ("scene_graph: {association_gate_m: fast}", "number"),
        ("- a list", "mapping"),
        ("stm: [1, 2", "cannot read"),
    ],
)
def test_bad_config_is_named(tmp_path: Path, text: str, match: str) -> None:
    p = tmp_path / "c.yaml"
    p.write_text(text)
    with pytest.raises(ConfigError, match=match):
        load_config(p)
