"""The adapter's sample gate (``adapter_gate_*``): the look-alike ratio and the displacement on
generated maps, the method's wiring on a tiny network (a gated confident frame stores no sample), and
the tracker on a generated sequence (a gate that never fires changes nothing; one that always fires
stops all training)."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from pytracking_siamot.online.functions import displacement_in_sizes, lookalike_ratio
from pytracking_siamot.online.method import Frame
from pytracking_siamot.parameters import SiamOTParams
from pytracking_siamot.tracker.siamot import SiamOT
from test_adapter_suspension import _thresholds
from test_drift_guard import _bump, _method
from test_tracker import ADAPTER_TEST_SETTINGS, changing, make_params, run


def test_lookalike_ratio_on_generated_maps():
    one = _bump(17, (8.0, 8.0), 2.0) - 1.0
    assert lookalike_ratio(one, 2.0) == 0.0  # one peak: nothing looks like it
    twins = _bump(17, (4.0, 4.0), 2.0) + _bump(17, (12.0, 12.0), 1.2) + 0.5
    assert lookalike_ratio(twins, 2.0) == pytest.approx(0.6, abs=1e-3)
    assert lookalike_ratio(twins, 12.0) == 0.0  # the other peak lies within the radius (8 * sqrt 2 cells)
    # the higher one is the peak wherever it is; equal peaks give 1
    swapped = _bump(17, (4.0, 4.0), 1.2) + _bump(17, (12.0, 12.0), 2.0)
    assert lookalike_ratio(swapped, 2.0) == pytest.approx(0.6, abs=1e-3)
    assert lookalike_ratio(_bump(17, (4.0, 4.0), 1.0) + _bump(17, (4.0, 12.0), 1.0), 2.0) == pytest.approx(1.0)
    assert lookalike_ratio(torch.full((17, 17), 3.0), 2.0) == 0.0
    # a shoulder of the peak (no local maximum) is no look-alike
    shoulder = _bump(17, (8.0, 8.0), 2.0, sigma=1.0) + _bump(17, (8.0, 8.0), 1.0, sigma=4.0)
    assert lookalike_ratio(shoulder, 2.0) == 0.0


def test_displacement_in_target_sizes():
    assert displacement_in_sizes((3.0, 4.0), (20.0, 20.0), 8) == pytest.approx(2.0)  # 40 px for a 20 px target
    assert displacement_in_sizes((0.5, 0.0), (10.0, 40.0), 8) == pytest.approx(0.2)  # sqrt(10 * 40) = 20
    assert displacement_in_sizes(np.zeros(2), (20.0, 20.0), 8) == 0.0
    assert displacement_in_sizes((1.0, 0.0), (0.0, 20.0), 8) == math.inf


def test_the_settings_are_off_by_default_and_validated():
    s = SiamOTParams()
    assert (s.adapter_gate_ratio, s.adapter_gate_motion, s.adapter_gate_clean_frames) == (1.0, 0.0, 0)
    for bad in ({"adapter_gate_ratio": 1.5}, {"adapter_gate_ratio": -0.1}, {"adapter_gate_motion": -1.0},
                {"adapter_gate_radius": -1.0}, {"adapter_gate_clean_frames": -1}, {"adapter_gate_clean_frames": 1.5}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            SiamOTParams(**bad)


def _confident_frames(**settings):
    """A started method and two frames of the first frame's search features: tracked on the map's
    centre (no move) and one cell to the right, both confident (asserted with the gate off)."""
    method, zf, xf = _method(**settings)
    base = method.network.score(zf, xf)[0, 0]
    still = Frame(base[None, None], xf, 0, np.zeros(2), zf, False, crop_at_target=lambda: None)
    moved = Frame(base[None, None], xf, 0, np.array([1.0, 0.0]), zf, False, crop_at_target=lambda: None)
    return method, base, still, moved


def _stored(method, frame) -> bool:
    before = len(method.trainer.samples)
    method.update(frame)
    return len(method.trainer.samples) == before + 1


@pytest.fixture(scope="module")
def thresholds() -> dict[str, float]:
    settings = _thresholds()
    settings["adapter_train_every"] = 1000  # no training event: the memory only grows
    return settings


def test_an_ambiguous_confident_frame_stores_no_sample(thresholds):
    off, base, still, _ = _confident_frames(**thresholds)
    assert _stored(off, still) and off.gated == 0
    stride = off.network.net.total_stride
    radius = max(2.0, 0.5 * 20.0 / stride)  # the first frame's target is 20 x 20 px (test_drift_guard)
    ratio = lookalike_ratio(base, radius)
    assert 0.05 < ratio < 0.95  # the random tiny network's map has a look-alike to gate on
    below, _, still, _ = _confident_frames(adapter_gate_ratio=ratio - 0.02, **thresholds)
    assert not _stored(below, still) and below.gated == 1
    above, _, still, _ = _confident_frames(adapter_gate_ratio=ratio + 0.02, **thresholds)
    assert _stored(above, still) and above.gated == 0


def test_a_jump_stores_no_sample_and_clean_frames_must_follow(thresholds):
    off, _, _, moved = _confident_frames(**thresholds)
    assert _stored(off, moved)
    step = displacement_in_sizes(moved.displacement_cells, (20.0, 20.0), off.network.net.total_stride)
    method, _, still, moved = _confident_frames(adapter_gate_motion=0.9 * step, **thresholds)
    assert not _stored(method, moved) and _stored(method, still)
    loose, _, _, moved = _confident_frames(adapter_gate_motion=1.1 * step, **thresholds)
    assert _stored(loose, moved)
    # two clean frames after a jump store nothing; the third stores; a jump restarts the count
    waiting, _, still, moved = _confident_frames(adapter_gate_motion=0.9 * step, adapter_gate_clean_frames=2,
                                                 **thresholds)
    assert [_stored(waiting, f) for f in (moved, still, still, still, moved, still, still, still)] == \
        [False, False, False, True, False, False, False, True]
    assert waiting.gated == 6


def test_on_a_generated_sequence_a_gate_that_never_fires_changes_nothing_and_one_that_always_fires_stops_training():
    frames, gt = changing(9, seed=1)
    default_boxes, default_out = run(SiamOT(make_params(online=True, **ADAPTER_TEST_SETTINGS)), frames, gt[0])
    assert any(o["trained"] for o in default_out)
    never = SiamOT(make_params(online=True, adapter_gate_motion=1e6, adapter_gate_ratio=1.0 - 1e-9,
                               adapter_gate_radius=100.0, **ADAPTER_TEST_SETTINGS))
    never_boxes, never_out = run(never, frames, gt[0])
    np.testing.assert_array_equal(never_boxes, default_boxes)
    assert [o["trained"] for o in never_out] == [o["trained"] for o in default_out]
    always = SiamOT(make_params(online=True, adapter_gate_ratio=0.0, adapter_gate_radius=0.0,
                                **ADAPTER_TEST_SETTINGS))
    _, always_out = run(always, frames, gt[0])
    assert not any(o["trained"] for o in always_out)
