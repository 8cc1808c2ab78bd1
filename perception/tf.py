"""A TF buffer without ROS: time-stamped transforms, chains, interpolation.

Dynamic edges are interpolated between the two samples around the query time
(linear in translation, slerp in rotation); static edges hold forever. A query
outside a dynamic edge's samples by more than ``max_extrapolation_s``, or inside a
gap longer than ``max_gap_s``, raises :class:`TFError` (a TF gap), as tf2 does.
"""

from __future__ import annotations

import bisect
import itertools
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy.spatial.transform import Rotation, Slerp

from perception.errors import FrameError

__all__ = ["TFBuffer", "TFError", "make_transform"]


class TFError(FrameError):
    """No transform between two frames at the asked time (unknown frame or a gap)."""


def make_transform(
    translation: tuple[float, float, float], quaternion_xyzw: tuple[float, float, float, float]
) -> NDArray[np.float64]:
    m = np.eye(4)
    m[:3, :3] = Rotation.from_quat(quaternion_xyzw).as_matrix()
    m[:3, 3] = translation
    return m


@dataclass
class _Edge:
    static: bool
    times: list[float] = field(default_factory=list)
    trans: list[tuple[float, float, float]] = field(default_factory=list)
    quats: list[tuple[float, float, float, float]] = field(default_factory=list)


class TFBuffer:
    def __init__(self, max_extrapolation_s: float = 0.05, max_gap_s: float = 1.0) -> None:
        self.max_extrapolation_s = max_extrapolation_s
        self.max_gap_s = max_gap_s
        self._edges: dict[tuple[str, str], _Edge] = {}
        self._parent: dict[str, str] = {}

    def add(
        self,
        parent: str,
        child: str,
        t: float,
        translation: tuple[float, float, float],
        quaternion_xyzw: tuple[float, float, float, float],
        static: bool = False,
    ) -> None:
        if not parent or not child or parent == child:
            raise TFError(f"bad transform {parent!r} -> {child!r}")
        old = self._parent.get(child)
        if old is not None and old != parent:
            raise TFError(f"frame {child!r} has two parents: {old!r} and {parent!r}")
        self._parent[child] = parent
        edge = self._edges.setdefault((parent, child), _Edge(static))
        if static:
            edge.static, edge.times, edge.trans, edge.quats = (
                True,
                [t],
                [translation],
                [quaternion_xyzw],
            )
            return
        i = bisect.bisect_right(edge.times, t)
        edge.times.insert(i, t)
        edge.trans.insert(i, translation)
        edge.quats.insert(i, quaternion_xyzw)

    def dynamic_edges(self) -> list[tuple[str, str]]:
        return sorted(k for k, e in self._edges.items() if not e.static)

    def sample_times(self, parent: str, child: str) -> list[float]:
        return list(self._edges[(parent, child)].times)

    def root_of(self, frame: str) -> str:
        return self._path_to_root(frame)[-1]

    @property
    def frames(self) -> set[str]:
        return set(self._parent) | set(self._parent.values())

    def _edge_at(self, parent: str, child: str, t: float) -> NDArray[np.float64]:
        e = self._edges[(parent, child)]
        if e.static:
            return make_transform(e.trans[0], e.quats[0])
        times = e.times
        if t <= times[0] or t >= times[-1]:
            j = 0 if t <= times[0] else len(times) - 1
            if abs(t - times[j]) > self.max_extrapolation_s:
                raise TFError(
                    f"{parent} -> {child}: no data at t={t:.3f} "
                    f"(data from {times[0]:.3f} to {times[-1]:.3f})"
                )
            return make_transform(e.trans[j], e.quats[j])
        i = bisect.bisect_right(times, t)
        t0, t1 = times[i - 1], times[i]
        if t1 - t0 > self.max_gap_s:
            # A sample at (or within extrapolation reach of) t still holds across a gap.
            if min(t - t0, t1 - t) <= self.max_extrapolation_s:
                j = i - 1 if t - t0 <= t1 - t else i
                return make_transform(e.trans[j], e.quats[j])
            raise TFError(f"{parent} -> {child}: gap of {t1 - t0:.2f} s around t={t:.3f}")
        a = (t - t0) / (t1 - t0) if t1 > t0 else 0.0
        trans = (1 - a) * np.asarray(e.trans[i - 1]) + a * np.asarray(e.trans[i])
        rot = Slerp([0.0, 1.0], Rotation.from_quat([e.quats[i - 1], e.quats[i]]))([a])
        m = np.eye(4)
        m[:3, :3] = rot.as_matrix()[0]
        m[:3, 3] = trans
        return m

    def _path_to_root(self, frame: str) -> list[str]:
        path = [frame]
        while path[-1] in self._parent:
            path.append(self._parent[path[-1]])
            if len(path) > 256:
                raise TFError("TF tree has a cycle")
        return path

    def lookup(self, target: str, source: str, t: float) -> NDArray[np.float64]:
        """The transform taking points in ``source`` to ``target`` at time ``t``."""
        for f in (target, source):
            if f not in self.frames:
                raise TFError(f"unknown frame {f!r}")
        up_src = self._path_to_root(source)
        up_tgt = self._path_to_root(target)
        common = next((f for f in up_src if f in set(up_tgt)), None)
        if common is None:
            raise TFError(f"{source!r} and {target!r} are not connected")
        root_from_source = np.eye(4)
        for child, parent in itertools.pairwise(up_src):
            if child == common:
                break
            root_from_source = self._edge_at(parent, child, t) @ root_from_source
        root_from_target = np.eye(4)
        for child, parent in itertools.pairwise(up_tgt):
            if child == common:
                break
            root_from_target = self._edge_at(parent, child, t) @ root_from_target
        out: NDArray[np.float64] = np.linalg.inv(root_from_target) @ root_from_source
        return out

    def chain(self, target: str, source: str) -> list[str]:
        """Frames from ``source`` up to the common ancestor and down to ``target``."""
        up_src, up_tgt = self._path_to_root(source), self._path_to_root(target)
        common = next(f for f in up_src if f in set(up_tgt))
        down = up_tgt[: up_tgt.index(common)]
        return up_src[: up_src.index(common) + 1] + list(reversed(down))
