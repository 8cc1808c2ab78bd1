"""habitat-lab's geodesic goldens (van-gogh-room, habitat-sim's PathFinder) read as typed
cases: every distance at least the straight line, no path kept as infinity."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from hsim.errors import HabitatDataError
from hsim.geodesic import load_geodesic_cases

GOLDEN = (
    Path(__file__).resolve().parents[3]
    / "shared/data/habitat/habitat_lab_test_data/test/data"
    / "test-sim-geodesic-distance-test-golden.json"
)


def test_the_goldens_read_with_infinity_kept() -> None:
    cases = load_geodesic_cases(GOLDEN)
    assert len(cases) == 20
    assert sum(len(c.ends) == 1 for c in cases) == 10
    assert sum(math.isinf(c.expected) for c in cases) == 3  # 2 single, 1 multi
    assert cases[0].expected == pytest.approx(1.4678621292114258)
    for c in cases:
        if math.isfinite(c.expected):
            assert c.expected >= c.euclidean - 1e-4  # a path is never shorter than a line


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("[1, 2]", "expected an object"),
        ('{"single_end": [{"start": [0, 0], "end": [0, 0, 0], "expected": 1}]}', "start"),
        ('{"single_end": [{"start": [0, 0, 0], "end": [0, 0, 0], "expected": NaN}]}', "expected"),
        ('{"multi_end": [{"start": [0, 0, 0], "ends": [], "expected": 1}]}', "no end"),
        ("{", "not a readable JSON"),
    ],
)
def test_a_bad_golden_file_is_refused(tmp_path: Path, text: str, problem: str) -> None:
    p = tmp_path / "g.json"
    p.write_text(text)
    with pytest.raises(HabitatDataError, match=problem):
        load_geodesic_cases(p)
