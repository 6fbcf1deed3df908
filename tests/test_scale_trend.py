"""Faster scale adaptation (``scale_trend_frames``): the run of frames choosing the same side of the
unit scale, and a growing generated target whose size the tracker follows closer with it."""
from __future__ import annotations

import numpy as np
import pytest

from pytracking_siamot.parameters import SiamOTParams, TrackerParams
from pytracking_siamot.tracker.siamot import SiamOT
from pytracking_siamot.tracker.siamot.scale_trend import ScaleTrend
from runner_fakes import frames_of, small_synthetic_sequence

FAST = dict(device="cpu", engine="torch", precision="fp32", online_training=False)


def test_the_faster_rate_applies_from_the_nth_frame_in_a_row_on_one_side():
    trend = ScaleTrend(frames=3, damping=1.0, unit_index=1)
    # larger, larger, larger (3rd in a row: undamped), larger, unit (ends the run), larger
    got = [trend.size_factor(i, f, d) for i, f, d in
           [(2, 1.04, 1.02), (2, 1.04, 1.02), (2, 1.04, 1.02), (2, 1.04, 1.02), (1, 1.0, 1.0), (2, 1.04, 1.02)]]
    assert got == pytest.approx([1.02, 1.02, 1.04, 1.04, 1.0, 1.02])
    assert trend.faster == 2
    # a change of side starts a new run
    trend.reset()
    got = [trend.size_factor(i, f, d) for i, f, d in [(0, 0.96, 0.98), (0, 0.96, 0.98), (2, 1.04, 1.02),
                                                      (0, 0.96, 0.98), (0, 0.96, 0.98), (0, 0.96, 0.98)]]
    assert got == pytest.approx([0.98, 0.98, 1.02, 0.98, 0.98, 0.96])
    half = ScaleTrend(frames=1, damping=0.5, unit_index=1)
    assert half.size_factor(2, 1.04, 1.02) == pytest.approx(1.02)  # (1 - 0.5) + 0.5 * 1.04
    off = ScaleTrend(frames=0, damping=1.0, unit_index=1)
    assert [off.size_factor(2, 1.04, 1.02) for _ in range(5)] == [1.02] * 5
    with pytest.raises(ValueError, match="damping"):
        ScaleTrend(frames=2, damping=1.5, unit_index=1)


def test_the_option_is_declared_off_and_validated():
    assert SiamOTParams().scale_trend_frames == 0
    with pytest.raises(ValueError, match="scale_trend_damping"):
        SiamOTParams(scale_trend_damping=2.0)


def test_a_growing_target_is_followed_closer_in_size():
    sequence = small_synthetic_sequence(14, 3, image_wh=(320, 240), scale_peak=1.6)
    frames, gt = frames_of(sequence), sequence.ground_truth_rect
    areas = {}
    for name, overrides in {"off": {}, "on": {"scale_trend_frames": 2}}.items():
        tracker = SiamOT(TrackerParams(SiamOTParams(**FAST, **overrides)))
        tracker.initialize(frames[0], {"init_bbox": list(gt[0])})
        boxes = np.array([tracker.track(f)["target_bbox"] for f in frames[1:]])
        areas[name] = boxes[:, 2] * boxes[:, 3] / (gt[1:, 2] * gt[1:, 3])
        if name == "on":
            assert tracker.scale_trend.faster > 0
    peak = int(np.argmax(gt[1:, 2] * gt[1:, 3]))  # where the target is largest
    assert abs(np.log(areas["on"][peak])) < abs(np.log(areas["off"][peak])), areas
