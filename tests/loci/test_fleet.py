"""Two robots in one house share a memory on a real PostgreSQL server: the second robot's
`loci run` starts from what the first one saw and needs fewer steps for its task than the
same run without it. (Each run starts from the house as built: what the first robot
moved is back in place for the second, so the second robot's task is another seed's, one
that does not depend on what the first moved.)"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

from loci.cli import main
from memory_core.store.postgres import PostgresStore


def _run(out: Path, *extra: str) -> tuple[int, str]:
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = main(["run", "--out", str(out), *extra])
    return code, printed.getvalue()


def _steps(printed: str) -> int:
    match = re.search(r"^task 1: success, (\d+) steps", printed, re.MULTILINE)
    assert match, printed
    return int(match.group(1))


def test_a_second_robot_uses_what_the_first_saw(tmp_path: Path, pg_url: str) -> None:
    code, first = _run(tmp_path / "r1", "--store", pg_url, "--robot", "r1")
    assert code == 0, first
    code, second = _run(tmp_path / "r2", "--seed", "1", "--store", pg_url, "--robot", "r2")
    assert code == 0, second
    code, solo = _run(tmp_path / "solo", "--seed", "1")
    assert code == 0, solo
    alone, with_fleet = _steps(solo), _steps(second)
    # Measured 2026-12-04 on the default house: 965 steps alone, 64 with the fleet's memory.
    assert with_fleet < alone / 2, (alone, with_fleet)
    store = PostgresStore(pg_url, "auditor")
    nodes = store.load().nodes
    assert nodes and store.provenance(nodes[0].id)
    robots = {s.robot for n in nodes for s in store.provenance(n.id)}
    assert robots == {"r1", "r2"}
    store.close()


def test_a_lifelong_sqlite_store_carries_memory_to_the_next_run(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/life.db"
    code, first = _run(tmp_path / "a", "--store", url)
    assert code == 0, first
    code, second = _run(tmp_path / "b", "--seed", "1", "--store", url)
    assert code == 0, second
    code, solo = _run(tmp_path / "c", "--seed", "1")
    assert code == 0, solo
    assert _steps(second) < _steps(solo) / 2


def test_an_unreachable_store_is_a_clear_error(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    code = main(
        [
            "run",
            "--out",
            str(tmp_path / "x"),
            "--store",
            f"postgresql://nobody@/none?host={tmp_path}&connect_timeout=2",
        ]
    )
    assert code == 2
    assert "loci: error: cannot connect to" in capsys.readouterr().err


def test_loci_replay_writes_into_a_fleet_store(tmp_path: Path, pg_url: str) -> None:
    """The real Nav2 TurtleBot bag replayed into the fleet's store: the trajectory is the
    replaying robot's own episode; another robot does not load it as its own."""
    from tests.conftest import DATA

    bag = DATA / "ros_bags/evo_testdata/nav2_turtlebot.mcap"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = main(["replay", str(bag), "--store", pg_url, "--robot", "turtlebot"])
    assert code == 0, printed.getvalue()
    mine = PostgresStore(pg_url, "turtlebot")
    theirs = PostgresStore(pg_url, "other")
    assert len(mine.load().events) > 100
    assert theirs.load().events == ()
    mine.close()
    theirs.close()
