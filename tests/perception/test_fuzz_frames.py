"""Property-based fuzzing of perception's entrances (Hypothesis; bounded, in `make test`):
any depth image, instance mask, labels, camera and pose give observations or a
FrameError naming the problem, never another exception; what comes out is finite."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from memory_core import LociError
from perception import FrameError, PinholeIntrinsics, decode_depth, observations_from_frame
from perception.segment import SegmenterConfig, segment_frame, unknown_observations

FUZZ = settings(
    max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)

floats = st.floats(allow_nan=True, allow_infinity=True, width=32)
shapes = st.tuples(st.integers(1, 24), st.integers(1, 24))


@st.composite
def frames(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, PinholeIntrinsics, np.ndarray]:
    h, w = draw(shapes)
    depth = draw(hnp.arrays(np.float32, (h, w), elements=floats))
    mask = draw(hnp.arrays(np.uint16, (h, w), elements=st.integers(0, 5)))
    kh, kw = draw(st.sampled_from([(h, w), (h, w), (h + 1, w)]))  # sometimes the wrong size
    k = PinholeIntrinsics(
        kw,
        kh,
        draw(st.floats(-1e4, 1e4).filter(lambda v: abs(v) > 1e-3)),
        draw(st.floats(-1e4, 1e4).filter(lambda v: abs(v) > 1e-3)),
        draw(st.floats(-100, 100)),
        draw(st.floats(-100, 100)),
    )
    pose = draw(
        st.one_of(
            st.just(np.eye(4)),
            hnp.arrays(np.float64, (4, 4), elements=st.floats(allow_nan=True, width=64)),
        )
    )
    return depth, mask, k, pose


labels = st.dictionaries(
    st.integers(0, 6), st.one_of(st.text(max_size=8), st.sampled_from(["Apple", "", "a\nb"]))
)


@FUZZ
@given(frames(), labels)
def test_any_frame_gives_observations_or_a_frame_error(frame, names) -> None:  # type: ignore[no-untyped-def]
    depth, mask, k, pose = frame
    try:
        result = observations_from_frame(depth, mask, names, k, pose)
    except (FrameError, LociError):
        return
    for o in result.observations:
        assert all(math.isfinite(v) for v in o.position)


@FUZZ
@given(frames())
def test_any_frame_segments_or_gives_a_frame_error(frame) -> None:  # type: ignore[no-untyped-def]
    depth, _mask, k, pose = frame
    cfg = SegmenterConfig(stride=1, normal_step=1, min_cells=2, up_axis="z")
    try:
        seg = segment_frame(depth, k, pose, cfg)
        observations = unknown_observations(depth, k, pose, seg, config=cfg)
    except (FrameError, LociError):
        return
    for o in observations:
        assert all(math.isfinite(v) for v in o.position)


@FUZZ
@given(hnp.arrays(np.uint16, st.tuples(st.integers(1, 16), st.integers(1, 16))), st.floats())
def test_any_raw_depth_decodes_or_gives_a_frame_error(raw: np.ndarray, scale: float) -> None:
    try:
        depth = decode_depth(raw, "16UC1", scale)
    except FrameError:
        return
    finite = depth[np.isfinite(depth)]
    assert np.all((finite >= 0.1) & (finite <= 10.0))
