"""Geodesic-distance cases: habitat-lab's golden file (start, one or several ends, the
distance habitat-sim's PathFinder gave, ``Infinity`` where no path exists), read as typed
values to check a navmesh, or a planner's paths, against."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hsim.errors import HabitatDataError

__all__ = ["GeodesicCase", "load_geodesic_cases"]

Vec3 = tuple[float, float, float]


@dataclass(frozen=True, slots=True)
class GeodesicCase:
    start: Vec3
    ends: tuple[Vec3, ...]
    """The distance is to the nearest of these."""
    expected: float
    """Metres; ``math.inf`` where no path reaches any end."""

    @property
    def euclidean(self) -> float:
        """Straight-line distance to the nearest end (a geodesic is never shorter)."""
        return min(math.dist(self.start, e) for e in self.ends)


def _vec3(v: Any, where: str) -> Vec3:
    if (
        not isinstance(v, Sequence)
        or len(v) != 3
        or not all(isinstance(x, int | float) and not isinstance(x, bool) for x in v)
        or not all(math.isfinite(x) for x in v)
    ):
        raise HabitatDataError(f"{where} must be 3 finite numbers, got {v!r}")
    return (float(v[0]), float(v[1]), float(v[2]))


def load_geodesic_cases(path: str | Path) -> list[GeodesicCase]:
    """``single_end`` cases (``end``) and ``multi_end`` cases (``ends``), in file order."""
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise HabitatDataError(f"{p}: not a readable JSON file: {exc}") from exc
    if not isinstance(data, dict):
        raise HabitatDataError(f"{p}: expected an object with single_end / multi_end")
    cases = []
    for group in ("single_end", "multi_end"):
        for i, c in enumerate(data.get(group, [])):
            where = f"{p.name} {group}[{i}]"
            if not isinstance(c, dict):
                raise HabitatDataError(f"{where} is not an object")
            ends_raw = [c.get("end")] if group == "single_end" else c.get("ends")
            if not isinstance(ends_raw, list) or not ends_raw:
                raise HabitatDataError(f"{where} has no end")
            expected = c.get("expected")
            if (
                not isinstance(expected, int | float)
                or isinstance(expected, bool)
                or math.isnan(expected)
                or expected < 0
            ):
                raise HabitatDataError(f"{where}.expected must be a distance or Infinity")
            cases.append(
                GeodesicCase(
                    _vec3(c.get("start"), f"{where}.start"),
                    tuple(_vec3(e, f"{where}.end") for e in ends_raw),
                    float(expected),
                )
            )
    return cases
