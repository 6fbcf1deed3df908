"""Synthetic showcase sequences: a morphing target and a ghost of its first-frame appearance; a
small target with a look-alike in the next lane that crosses under it (Decoy) or, wearing its kit,
in front of it (Screen); a target walking behind a pillar (Pillar).

Also pins the eight original synthetic sequences (their ground truth and frames must not change
when sequences are added): fingerprints computed with the code before the showcase existed; and
the look-alike and pillar sequences, whose measured figures hold only for their frames.
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
ORIGINAL = tuple(spec for spec in SYNTHETIC_SPECS
                 if spec.ghost_pass is None and not spec.has_morph and not spec.lookalike and not spec.pillar_width)
LOOKALIKE = tuple(spec for spec in SYNTHETIC_SPECS if spec.lookalike)
PILLAR = tuple(spec for spec in SYNTHETIC_SPECS if spec.pillar_width)

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


# The same for the look-alike and pillar sequences, computed when they were added: the AUCs that
# the docs report for them were measured on exactly these frames.
NEW_FINGERPRINTS = {
    'Decoy': ([[91.425, 40.39, 20.0, 16.0], [100.417, 178.625, 20.0, 16.0], [235.83, 51.77, 20.0, 16.0]], [[116.75, 103.99, 107.15, 75.03, 85.42, 124.94], [116.37, 103.66, 106.89, 74.68, 84.43, 124.32], [116.21, 104.29, 106.74, 81.22, 83.53, 127.97]]),
    'Screen': ([[143.328, 196.014, 20.0, 16.0], [123.116, 39.445, 20.0, 16.0], [222.257, 181.066, 20.0, 16.0]], [[108.3, 113.27, 131.46, 97.89, 77.81, 126.12], [108.35, 113.11, 131.7, 115.22, 73.33, 128.28], [108.02, 112.52, 131.52, 99.48, 79.23, 126.74]]),
    'Pillar': ([[33.9, 83.567, 18.0, 40.0], [256.821, 87.299, 18.0, 40.0], [114.841, 81.689, 18.0, 40.0]], [[114.48, 109.03, 108.72, 83.76, 83.48, 64.35], [115.32, 109.78, 108.96, 81.72, 79.32, 61.5], [114.92, 109.22, 108.93, 84.38, 82.58, 63.05]]),
}


def _assert_fingerprint(spec: SyntheticSpec, boxes: list, means: list) -> None:
    seq = synthetic_sequence(spec)
    frames = (0, len(seq) // 2, len(seq) - 1)
    np.testing.assert_allclose(seq.ground_truth_rect[list(frames)], boxes, atol=2e-3, err_msg=spec.name)
    for index, expected in zip(frames, means):
        image = seq.image(index).astype(np.float64)
        x, y, w, h = seq.ground_truth_rect[index]
        box = image[int(y):int(y + h), int(x):int(x + w)]
        got = [*image.mean(axis=(0, 1)), *box.mean(axis=(0, 1))]
        np.testing.assert_allclose(got, expected, atol=0.05, err_msg=f"{spec.name} frame {index}")


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
        _assert_fingerprint(spec, *ORIGINAL_FINGERPRINTS[spec.name])
        plan = plan_sequence(spec)
        assert plan.ghost is None and not plan.ghost_opacity.any() and not plan.morph.any()
        assert plan.lookalike is None and plan.pillar_xw is None and not plan.hidden.any()


@pytest.mark.parametrize("spec", LOOKALIKE + PILLAR, ids=lambda s: s.name)
def test_new_sequences_unchanged(spec):
    _assert_fingerprint(spec, *NEW_FINGERPRINTS[spec.name])


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


# ------------------------------------------------------------- look-alike and pillar sequences

def _search_reach_px(size_wh) -> tuple[float, float]:
    """Half-sides (px) of SiamFC's score map and of its search image around a target of ``size_wh``:
    the exemplar (127 px) is the target plus half its mean side on every side, the search image
    255 px, the 17x17 score map +-64 search pixels."""
    w, h = size_wh
    exemplar = np.sqrt((w + (w + h) / 2) * (h + (w + h) / 2))
    return 64 / 127 * exemplar, 255 / 127 * exemplar / 2


def _object_boxes_xywh(track) -> np.ndarray:
    half = rotated_rounded_rect_half_extent(track.size_wh, track.angle, track.canvas_wh)
    return np.concatenate([track.center_xy - half + 0.5, 2.0 * half], axis=1)


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(first, last) frame of every run of True in ``mask``."""
    edges = np.diff(np.concatenate([[0], mask.astype(int), [0]]))
    return list(zip(np.nonzero(edges == 1)[0], np.nonzero(edges == -1)[0] - 1))


def test_lookalike_and_pillar_fields_are_checked():
    spec = SyntheticSpec("Plain", seed=3)
    assert not spec.lookalike and spec.pillar_width == 0.0
    plan = plan_sequence(spec)
    assert plan.lookalike is None and plan.pillar_xw is None and not plan.hidden.any()
    with pytest.raises(ValueError, match="pillar_width"):
        SyntheticSpec("Bad", seed=3, pillar_width=-1.0)
    with pytest.raises(ValueError, match="choose one"):
        SyntheticSpec("Bad", seed=3, lookalike=True, pillar_width=20.0)
    with pytest.raises(ValueError, match="need lookalike=True"):
        SyntheticSpec("Bad", seed=3, lookalike_in_front=True)


def test_new_sequences_are_in_the_dataset_with_their_attributes():
    assert len(LOOKALIKE) >= 1 and len(PILLAR) >= 1
    names = get_dataset("synthetic").names()
    for spec in LOOKALIKE:
        assert spec.name in names and {"BC", "LR"} <= set(spec.attributes) and "FM" not in spec.attributes
        assert ("OCC" in spec.attributes) == spec.lookalike_in_front
    for spec in PILLAR:
        assert spec.name in names and "OCC" in spec.attributes
    assert names[:len(ORIGINAL) + len(SHOWCASE)] == [spec.name for spec in ORIGINAL + SHOWCASE]


@pytest.mark.parametrize("spec", LOOKALIKE + PILLAR, ids=lambda s: s.name)
def test_new_sequences_render_deterministically(spec):
    seq = synthetic_sequence(spec)
    again = synthetic_sequence(dataclasses.replace(spec))
    np.testing.assert_array_equal(seq.ground_truth_rect, again.ground_truth_rect)
    middle = spec.num_frames // 2
    first = seq.image(middle)
    seq.image(0)
    np.testing.assert_array_equal(seq.image(middle), first)  # order does not matter
    np.testing.assert_array_equal(again.image(middle), first)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(seq)).image(middle), first)


@pytest.mark.parametrize("spec", LOOKALIKE, ids=lambda s: s.name)
def test_lookalike_joins_runs_beside_crosses_and_leaves(spec):
    seq = synthetic_sequence(spec)
    plan = seq.frame_loader.plan
    gt = seq.ground_truth_rect
    n = spec.num_frames
    map_reach, search_half = _search_reach_px(spec.target_wh)
    centre = plan.target.center_xy
    offset = plan.lookalike.center_xy - centre
    distance = np.linalg.norm(offset, axis=1)
    # Small and fast for its size: LR by OTB's rule, a third of its length per frame, below FM.
    assert np.all(gt[:, 2] * gt[:, 3] < 400)
    motion = np.linalg.norm(np.diff(centre, axis=0), axis=1)
    assert motion.mean() > max(spec.target_wh) / 3.5 and motion.max() < 20
    # The first frame is unambiguous: the look-alike is beyond the search image.
    assert np.abs(offset[0]).max() > search_half + max(spec.target_wh)
    # Beside it in a lane (centres 20 +-3 px apart: its nearer half inside the score map's reach) ...
    beside = [range(int(0.27 * n), int(0.45 * n)), range(int(0.56 * n), int(0.74 * n))]
    for frames in beside:
        assert np.all(np.abs(distance[frames] - 20.0) <= 3.0)
        assert np.all(distance[frames] - min(spec.target_wh) / 2 < map_reach)
    # ... on one side of its track, then on the other: the look-alike crosses the target's path.
    velocity = np.gradient(centre, axis=0)
    side = np.sign(velocity[:, 0] * offset[:, 1] - velocity[:, 1] * offset[:, 0])  # left or right of its heading
    assert np.all(side[beside[0]] == side[beside[0][0]]) and np.all(side[beside[1]] == -side[beside[0][0]])
    crossing = int(np.argmin(distance[beside[0][-1]:beside[1][0]])) + beside[0][-1]
    assert distance[crossing] < 5.0
    lookalike_box = _object_boxes_xywh(plan.lookalike)
    assert np.all(np.abs(lookalike_box[:, 2:] - gt[:, 2:]) < 1e-9), "the same size as the target"
    # It pulls away at the end, out of the search image again.
    assert np.abs(offset[-1]).max() > search_half


@pytest.mark.parametrize("spec", LOOKALIKE, ids=lambda s: s.name)
def test_lookalike_has_the_target_colours_and_crosses_under_or_over_it(spec):
    seq = synthetic_sequence(spec)
    plan = seq.frame_loader.plan
    distance = np.linalg.norm(plan.lookalike.center_xy - plan.target.center_xy, axis=1)
    crossing = int(np.argmin(distance))
    image, visible = seq.frame_loader.render(crossing)
    x, y, w, h = seq.ground_truth_rect[crossing]
    ys, xs = np.nonzero(visible > 0.5)
    if spec.lookalike_in_front:  # most of the target is hidden, not all of it
        assert 0 < xs.size < 0.5 * w * h and plan.occluded[crossing] and not plan.hidden[crossing]
    else:  # the whole target shows
        assert abs(xs.min() - x) <= 1 and abs(xs.max() - (x + w - 1)) <= 1
        assert abs(ys.min() - y) <= 1 and abs(ys.max() - (y + h - 1)) <= 1
        assert not plan.occluded.any()
    loader = seq.frame_loader
    loader.render(0)
    target_texture, target_alpha = loader._assets.target
    lookalike_texture, lookalike_alpha = loader._assets.lookalike
    np.testing.assert_array_equal(target_alpha, lookalike_alpha)
    inside = (target_alpha > 0.99)[..., None]
    hues = [_hue_histogram(texture * inside) for texture in (target_texture, lookalike_texture)]
    assert np.minimum(*hues).sum() > 0.75, "the target's colours in about its proportions"
    for texture, alpha in loader._assets.distractors:  # closer in colour than the other objects
        assert np.minimum(hues[0], _hue_histogram(texture * (alpha > 0.99)[..., None])).sum() < np.minimum(*hues).sum()
    same = np.all(target_texture == lookalike_texture, axis=-1)[inside[..., 0]].mean()
    if spec.lookalike_kit:  # field and stripes shared: they differ only where either has a spot
        assert 0.5 < same < 1.0
    else:
        assert same < 0.05 and _ncc(target_texture * inside, lookalike_texture * inside) < 0.85


@pytest.mark.parametrize("spec", PILLAR, ids=lambda s: s.name)
def test_pillar_hides_the_target_for_a_few_frames_per_pass(spec):
    seq = synthetic_sequence(spec)
    plan = seq.frame_loader.plan
    gt = seq.ground_truth_rect
    width, height = spec.image_wh
    pillar_x, pillar_w = plan.pillar_xw
    assert max(spec.target_wh[0], 10.0) < pillar_w < 0.15 * width, "thin, but wider than the target"
    hidden_runs, occluded_runs = _runs(plan.hidden), _runs(plan.occluded)
    assert len(hidden_runs) == len(occluded_runs) == 2, "two passes, each behind the pillar"
    for (first, last), (o_first, o_last) in zip(hidden_runs, occluded_runs):
        assert 3 <= last - first + 1 <= 6 and o_first < first and last < o_last < spec.num_frames - 10
        # It comes out on the other side of the pillar from where it went in.
        assert np.sign(gt[o_first - 1, 0] + gt[o_first - 1, 2] / 2 - pillar_x) == \
            -np.sign(gt[o_last + 1, 0] + gt[o_last + 1, 2] / 2 - pillar_x)
        for i in (first, (first + last) // 2, last):
            image, visible = seq.frame_loader.render(i)
            assert visible.max() <= 0.5, f"frame {i}: no target pixel shows"
        image, visible = seq.frame_loader.render(o_first - 1)
        assert visible.max() > 0.99
    np.testing.assert_array_equal(seq.target_visible, ~plan.hidden)
    # The pillar spans the frame's height and does not move.
    image, _ = seq.frame_loader.render(0)
    layer, alpha = seq.frame_loader._assets.pillar
    assert np.all(alpha[:, int(round(pillar_x))] == 1.0) and np.all(alpha[:, 0] == 0.0)
    np.testing.assert_array_equal(alpha[0], alpha[-1])
