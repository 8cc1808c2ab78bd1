"""habitat-sim sensor observations -> :class:`embodiment.RGBDFrame`.

What a habitat-sim agent's sensors return (RGBA ``uint8``, depth ``float32`` in metres
with 0 where nothing was hit, semantic ``uint32`` ids) and the agent's state are turned
into one frame for ``perception``: the camera from the sensor's resolution and
horizontal field of view (habitat-sim's pinhole: square pixels, principal point at the
centre), its pose through :func:`hsim.convert.world_from_camera`, semantic ids into
instance masks named by the labels the caller knows (the scene's semantic annotations
or the objects it added).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from embodiment import RGBDFrame
from hsim.convert import DEFAULT_SENSOR_HEIGHT_M, world_from_camera
from hsim.errors import HabitatDataError
from memory_core import PinholeIntrinsics

__all__ = ["HabitatCamera", "frame_from_observations", "instances_from_semantic"]


@dataclass(frozen=True, slots=True)
class HabitatCamera:
    """One camera as habitat-sim's ``CameraSensorSpec`` describes it."""

    width: int = 640
    height: int = 480
    hfov_deg: float = 90.0
    position: tuple[float, float, float] = (0.0, DEFAULT_SENSOR_HEIGHT_M, 0.0)
    """On the agent, metres (habitat-sim wants it as ``magnum.Vector3``)."""
    orientation: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 1.0)

    def intrinsics(self) -> PinholeIntrinsics:
        # habitat-sim's projection: fx = fy = (w / 2) / tan(hfov / 2), centre (w/2, h/2)
        # in continuous pixel coordinates, i.e. w/2 - 0.5 for pixel centres.
        return PinholeIntrinsics.from_fov(self.width, self.height, self.hfov_deg)


def instances_from_semantic(
    semantic: NDArray[np.integer], labels: Mapping[int, str]
) -> tuple[NDArray[np.int32], tuple[str, ...]]:
    """Per pixel an index into the returned labels (-1 where the id has no label)."""
    ids = np.asarray(semantic)
    if ids.ndim != 2:
        raise HabitatDataError(f"a semantic image is 2-D, got shape {ids.shape}")
    present = [int(i) for i in np.unique(ids) if int(i) in labels]
    index = np.full(ids.shape, -1, dtype=np.int32)
    for k, sid in enumerate(present):
        index[ids == sid] = k
    return index, tuple(labels[i] for i in present)


def frame_from_observations(
    observations: Mapping[str, NDArray[np.generic]],
    agent_position: Sequence[float],
    agent_rotation: Sequence[float],
    camera: HabitatCamera,
    labels: Mapping[int, str] | None = None,
    t: float = 0.0,
    depth_key: str = "depth_sensor",
    color_key: str = "color_sensor",
    semantic_key: str = "semantic_sensor",
) -> RGBDFrame:
    """One frame from one agent step's observations (depth required; colour and
    semantic used when present, the semantic only with ``labels``)."""
    if depth_key not in observations:
        raise HabitatDataError(f"no depth observation {depth_key!r} (have {sorted(observations)})")
    depth = np.asarray(observations[depth_key], dtype=np.float32)
    if depth.shape != (camera.height, camera.width):
        raise HabitatDataError(
            f"depth is {depth.shape[1]}x{depth.shape[0]}, the camera {camera.width}x{camera.height}"
        )
    # habitat-sim writes 0 where the ray hit nothing; Loci's frames say NaN (REP 118).
    depth = np.where(depth > 0.0, depth, np.nan).astype(np.float32)
    rgb = None
    if color_key in observations:
        rgba = np.asarray(observations[color_key])
        if rgba.ndim != 3 or rgba.shape[2] not in (3, 4) or rgba.dtype != np.uint8:
            raise HabitatDataError(
                f"colour must be HxWx3 or HxWx4 uint8, got {rgba.shape} {rgba.dtype}"
            )
        rgb = np.ascontiguousarray(rgba[:, :, :3])
    instance = None
    names: tuple[str, ...] = ()
    if labels is not None and semantic_key in observations:
        instance, names = instances_from_semantic(
            np.asarray(observations[semantic_key], dtype=np.int64), labels
        )
    return RGBDFrame(
        depth=depth,
        intrinsics=camera.intrinsics(),
        world_from_camera=world_from_camera(
            agent_position, agent_rotation, camera.position, camera.orientation
        ),
        t=t,
        instance=instance,
        labels=names,
        rgb=rgb,
    )
