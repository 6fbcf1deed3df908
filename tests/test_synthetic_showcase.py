"""Synthetic showcase sequences: a morphing target and a ghost of its first-frame appearance.

Also pins the eight original synthetic sequences (their ground truth and frames must not change
when sequences are added): fingerprints computed with the code before the showcase existed.
"""
from __future__ import annotations

import dataclasses
import pickle

import cv2
import numpy as np
import pytest

from evaluation.datasets import SYNTHETIC_SPECS, get_dataset
from evaluation.datasets.synthetic import (SyntheticSpec, plan_sequence, rotated_rounded_rect_half_extent,
                                           synthetic_sequence)

SHOWCASE = tuple(spec for spec in SYNTHETIC_SPECS if spec.ghost_pass is not None)
ORIGINAL = tuple(spec for spec in SYNTHETIC_SPECS if spec.ghost_pass is None and not spec.has_morph)

# Per original sequence, for frames (0, n // 2, n - 1): the ground-truth boxes (3 decimals) and,
# per frame, the mean RGB of the frame and of its ground-truth box (2 decimals). Computed with
# the code before the morph/ghost fields existed; a tolerance, not a byte hash, so that last-ulp
# differences of another CPU's maths library do not fail the test (any real change moves these
# numbers by far more: a different random stream redraws the whole scene).
ORIGINAL_FINGERPRINTS = {
    'Cruise': ([[166.093, 124.47, 46.0, 38.0], [29.98, 183.846, 46.0, 38.0], [78.639, 102.797, 46.0, 38.0]], [[110.87, 112.09, 110.66, 120.76, 112.46, 57.91], [108.19, 110.93, 111.86, 123.4, 115.2, 61.22], [109.54, 111.38, 111.22, 123.72, 113.66, 58.46]]),
    'Zoom': ([[127.168, 126.067, 34.0, 28.0], [63.486, 13.713, 81.351, 66.995], [51.937, 132.229, 41.067, 33.82]], [[105.76, 109.64, 119.19, 107.67, 90.77, 91.72], [104.88, 106.11, 117.63, 107.87, 91.75, 91.43], [105.53, 109.36, 117.59, 106.17, 89.26, 91.58]]),
    'Flicker': ([[134.35, 92.083, 46.0, 38.0], [242.989, 115.069, 46.0, 38.0], [157.525, 176.611, 46.0, 38.0]], [[123.18, 104.46, 103.13, 89.85, 86.58, 103.82], [55.0, 48.77, 46.23, 40.29, 38.79, 47.07], [121.05, 110.25, 102.12, 87.97, 84.44, 103.05]]),
    'Spin': ([[114.266, 128.731, 54.0, 34.0], [74.273, 136.406, 58.72, 58.689], [144.81, 46.886, 54.0, 34.0]], [[104.87, 101.25, 104.31, 73.67, 79.07, 92.32], [104.32, 100.49, 104.08, 92.55, 103.58, 99.91], [106.45, 102.38, 103.76, 72.42, 77.29, 91.33]]),
    'Eclipse': ([[152.666, 116.225, 48.0, 40.0], [197.303, 32.487, 48.0, 40.0], [48.813, 135.064, 48.0, 40.0]], [[120.31, 115.7, 107.49, 128.21, 97.51, 68.59], [119.65, 116.0, 104.27, 126.96, 98.33, 69.47], [120.41, 116.9, 102.05, 126.36, 97.51, 70.1]]),
    'Twins': ([[169.286, 91.373, 44.0, 38.0], [266.693, 15.66, 44.0, 38.0], [225.576, 195.764, 44.0, 38.0]], [[110.01, 92.23, 113.95, 58.81, 76.67, 91.37], [109.71, 90.95, 114.18, 60.92, 78.15, 92.18], [109.3, 92.34, 116.55, 60.66, 76.82, 90.21]]),
    'Dash': ([[106.202, 80.095, 46.0, 38.0], [150.184, 102.26, 46.0, 38.0], [156.201, 155.479, 46.0, 38.0]], [[115.5, 118.36, 108.67, 103.02, 114.28, 70.65], [113.9, 117.33, 109.19, 104.05, 113.91, 70.32], [114.88, 116.72, 109.24, 104.67, 114.89, 69.57]]),
    'Storm': ([[142.443, 102.884, 40.0, 32.0], [160.628, 127.206, 106.071, 99.262], [124.348, 122.936, 47.491, 37.993]], [[106.23, 111.95, 109.7, 93.07, 74.45, 79.04], [64.25, 65.47, 63.18, 55.26, 56.56, 56.92], [107.3, 112.77, 106.61, 92.44, 74.33, 80.25]]),
}


def _ghost_boxes_xywh(plan) -> np.ndarray:
    ghost = plan.ghost
    half = rotated_rounded_rect_half_extent(ghost.size_wh, ghost.angle, ghost.canvas_wh)
    return np.concatenate([ghost.center_xy - half + 0.5, 2.0 * half], axis=1)


def _patch(image: np.ndarray, box_xywh: np.ndarray, size_wh: tuple[int, int]) -> np.ndarray:
    """The box's pixels resized to ``size_wh``, float64 RGB."""
    x, y, w, h = (int(round(v)) for v in box_xywh)
    crop = image[max(y, 0):y + h, max(x, 0):x + w]
    return cv2.resize(crop, size_wh, interpolation=cv2.INTER_AREA).astype(np.float64)


def _ncc(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a - a.mean(), b - b.mean()
    return float((a * b).sum() / np.sqrt((a * a).sum() * (b * b).sum()))


def _hue_histogram(patch: np.ndarray) -> np.ndarray:
    hsv = cv2.cvtColor(patch.astype(np.uint8), cv2.COLOR_RGB2HSV)
    saturated = hsv[..., 1] > 60  # grey rim and corners carry no hue
    hist = np.bincount(hsv[..., 0][saturated] // 10, minlength=18).astype(np.float64)
    return hist / max(hist.sum(), 1.0)


@pytest.fixture(scope="module")
def showcase():
    assert 2 <= len(SHOWCASE) <= 3, "the showcase sequences are those with a ghost"
    return {spec.name: synthetic_sequence(spec) for spec in SHOWCASE}


def test_original_sequences_unchanged():
    assert [spec.name for spec in SYNTHETIC_SPECS[:8]] == list(ORIGINAL_FINGERPRINTS)
    assert [spec.name for spec in ORIGINAL] == list(ORIGINAL_FINGERPRINTS)
    for spec in ORIGINAL:
        seq = synthetic_sequence(spec)
        boxes, means = ORIGINAL_FINGERPRINTS[spec.name]
        frames = (0, len(seq) // 2, len(seq) - 1)
        np.testing.assert_allclose(seq.ground_truth_rect[list(frames)], boxes, atol=2e-3, err_msg=spec.name)
        for index, expected in zip(frames, means):
            image = seq.image(index).astype(np.float64)
            x, y, w, h = seq.ground_truth_rect[index]
            box = image[int(y):int(y + h), int(x):int(x + w)]
            got = [*image.mean(axis=(0, 1)), *box.mean(axis=(0, 1))]
            np.testing.assert_allclose(got, expected, atol=0.05, err_msg=f"{spec.name} frame {index}")
        plan = seq.frame_loader.plan
        assert plan.ghost is None and not plan.ghost_opacity.any() and not plan.morph.any()


def test_new_fields_default_to_nothing():
    spec = SyntheticSpec("Plain", seed=3, num_frames=60)
    assert not spec.has_morph and spec.ghost_pass is None
    with pytest.raises(ValueError, match="morph_span"):
        SyntheticSpec("Bad", seed=3, morph_span=(0.5, 0.4))
    with pytest.raises(ValueError, match="ghost_pass"):
        SyntheticSpec("Bad", seed=3, ghost_pass=1.0)
    with pytest.raises(ValueError, match="too early"):
        plan_sequence(SyntheticSpec("Early", seed=3, num_frames=60, ghost_pass=0.2))


def test_showcase_specs_are_in_the_dataset_and_flagged(showcase):
    dataset = get_dataset("synthetic")
    for spec in SHOWCASE:
        assert spec.name in dataset.names() and spec.has_morph
        assert 100 <= spec.num_frames <= 150 and "BC" in spec.attributes
        assert ("IV" in spec.attributes) == bool(spec.morph_hue_deg)
        assert ("DEF" in spec.attributes) == spec.morph_texture
    kinds = {(bool(spec.morph_hue_deg), spec.morph_texture) for spec in SHOWCASE}
    assert len(kinds) == len(SHOWCASE), "each showcase sequence morphs differently"


@pytest.mark.parametrize("spec", SHOWCASE, ids=lambda s: s.name)
def test_showcase_renders_deterministically(spec, showcase):
    seq = showcase[spec.name]
    again = synthetic_sequence(dataclasses.replace(spec))
    np.testing.assert_array_equal(seq.ground_truth_rect, again.ground_truth_rect)
    late = int(spec.ghost_pass * (spec.num_frames - 1))
    first = seq.image(late)
    for index in (3, 40, 0):
        seq.image(index)
    np.testing.assert_array_equal(seq.image(late), first)  # order does not matter
    np.testing.assert_array_equal(again.image(late), first)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(seq)).image(late), first)


@pytest.mark.parametrize("spec", SHOWCASE, ids=lambda s: s.name)
def test_showcase_ghost_stays_clear_of_the_target(spec, showcase):
    seq = showcase[spec.name]
    plan = seq.frame_loader.plan
    gt = seq.ground_truth_rect
    width, height = spec.image_wh
    assert np.all(gt[:, :2] >= -0.5) and np.all(gt[:, 0] + gt[:, 2] <= width + 0.5)
    assert np.all(gt[:, 1] + gt[:, 3] <= height + 0.5)
    ghost = _ghost_boxes_xywh(plan)
    shown = plan.ghost_opacity > 0
    assert not shown[0] and shown[-1] and plan.ghost_opacity.max() == 1.0
    gap_x = np.maximum(ghost[:, 0] - (gt[:, 0] + gt[:, 2]), gt[:, 0] - (ghost[:, 0] + ghost[:, 2]))
    gap_y = np.maximum(ghost[:, 1] - (gt[:, 1] + gt[:, 3]), gt[:, 1] - (ghost[:, 1] + ghost[:, 3]))
    assert np.all(np.maximum(gap_x, gap_y) > 0), "the ghost's box never overlaps the target's"
    # It comes close, after the morph is done: its centre within the reach of a SiamFC score map
    # (+-64 px of a 255 px search image whose exemplar, 127 px, is the target plus context).
    closest = int(round(spec.ghost_pass * (spec.num_frames - 1)))
    w, h = spec.target_wh
    reach = 64 / 127 * np.sqrt((w + (w + h) / 2) * (h + (w + h) / 2))
    offset = plan.ghost.center_xy[closest] - plan.target.center_xy[closest]
    assert np.abs(offset).max() < 0.9 * reach and max(gap_x[closest], gap_y[closest]) < 6.0
    assert plan.morph[closest] == 1.0 and plan.morph[np.argmax(shown)] > 0.9
    assert plan.morph[0] == 0.0


@pytest.mark.parametrize("spec", SHOWCASE, ids=lambda s: s.name)
def test_ghost_looks_like_the_first_frame_target_not_the_morphed_one(spec, showcase):
    seq = showcase[spec.name]
    plan = seq.frame_loader.plan
    size = tuple(int(v) for v in seq.ground_truth_rect[0, 2:])
    closest = int(round(spec.ghost_pass * (spec.num_frames - 1)))
    first = _patch(seq.image(0), seq.ground_truth_rect[0], size)
    ghost = _patch(seq.image(closest), _ghost_boxes_xywh(plan)[closest], size)
    morphed = _patch(seq.image(closest), seq.ground_truth_rect[closest], size)
    assert _ncc(ghost, first) > 0.85
    assert _ncc(morphed, first) < 0.5
    if spec.morph_hue_deg:
        overlap = np.minimum  # histogram intersection, 1 = same hue distribution
        assert overlap(_hue_histogram(ghost), _hue_histogram(first)).sum() > 0.8
        assert overlap(_hue_histogram(morphed), _hue_histogram(first)).sum() < 0.5


@pytest.mark.parametrize("spec", SHOWCASE, ids=lambda s: s.name)
def test_a_first_frame_template_prefers_the_ghost_an_updated_one_the_target(spec, showcase):
    """The scenario itself, without a network: at the pass, the first-frame patch correlates better
    with the ghost than with the target; the target's patch from a few frames earlier the other way round."""
    seq = showcase[spec.name]
    plan = seq.frame_loader.plan
    size = tuple(int(v) for v in seq.ground_truth_rect[0, 2:])
    closest = int(round(spec.ghost_pass * (spec.num_frames - 1)))
    image = seq.image(closest)
    at_ghost = _patch(image, _ghost_boxes_xywh(plan)[closest], size)
    at_target = _patch(image, seq.ground_truth_rect[closest], size)
    first_frame = _patch(seq.image(0), seq.ground_truth_rect[0], size)
    recent = _patch(seq.image(closest - 10), seq.ground_truth_rect[closest - 10], size)
    assert _ncc(first_frame, at_ghost) > _ncc(first_frame, at_target) + 0.3
    assert _ncc(recent, at_target) > _ncc(recent, at_ghost) + 0.3
