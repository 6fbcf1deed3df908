"""``scale_search_every``: SiamFC's scale search on every k-th frame, one crop at the current size on the
frames between (generated frames).

The backbone's batch is counted by wrapping ``tracker.network.score_images``: ``scale_num`` crops on the
frames whose index since ``initialize`` (frame 0) is a multiple of k, one crop on the others.
"""
from __future__ import annotations

import numpy as np
import pytest

from evaluation.tracker import Tracker
from pytracking_siamot.boxes import iou_xywh, xywh_to_cxcywh
from pytracking_siamot.online.method import Frame
from pytracking_siamot.parameters import SiamOTParams, TrackerParams, parse_overrides
from pytracking_siamot.tracker.siamot import SiamOT
from pytracking_siamot.tracker.siamot.cropping import crop_square, normalize_image
from runner_fakes import frames_of, small_synthetic_sequence

# The torch engine in float32: no quantisation or engine compilation in these tests.
FAST = dict(device="cpu", engine="torch", precision="fp32")


def make_tracker(online: bool = False, **overrides) -> SiamOT:
    return SiamOT(TrackerParams(SiamOTParams(online_training=online, **FAST, **overrides)))


def synthetic(n_frames: int = 12, seed: int = 0) -> tuple[list[np.ndarray], np.ndarray]:
    """Frames (RGB uint8) and ``(N, 4)`` xywh ground truth of the shared synthetic generator: a textured
    target moving over clutter and growing 25 % by mid-sequence (as in ``test_tracker``)."""
    sequence = small_synthetic_sequence(n_frames, seed, image_wh=(320, 240), scale_peak=1.25)
    return frames_of(sequence), sequence.ground_truth_rect


def track(tracker: SiamOT, frames: list[np.ndarray], init_xywh: np.ndarray
          ) -> tuple[np.ndarray, list[dict], list[list[tuple[int, int]]]]:
    """Boxes (frame 0 = ``init_xywh``), the outputs of frames 1.., and per tracked frame the
    ``(batch, side)`` of each search batch the backbone scored."""
    score_images = tracker.network.score_images
    calls: list[tuple[int, int]] = []

    def counted(exemplar_features, search):
        calls.append((int(search.shape[0]), int(search.shape[-1])))
        return score_images(exemplar_features, search)

    tracker.network.score_images = counted
    try:
        tracker.initialize(frames[0], {"init_bbox": list(init_xywh)})
        outputs, per_frame = [], []
        for frame in frames[1:]:
            calls.clear()
            outputs.append(tracker.track(frame))
            per_frame.append(list(calls))
    finally:
        del tracker.network.score_images  # the class's method again
    return np.array([init_xywh] + [o["target_bbox"] for o in outputs]), outputs, per_frame


@pytest.fixture(scope="module")
def every2() -> dict[bool, SiamOT]:
    """online_training -> a tracker with ``scale_search_every=2``."""
    return {online: make_tracker(online, scale_search_every=2) for online in (False, True)}


def test_every_frame_is_the_default() -> None:
    # The default's boxes are those of the code before the setting: the result files of the default
    # and the baseline on real sequences compared byte for byte (docs/speed.md).
    assert SiamOTParams().scale_search_every == 1
    frames, gt = synthetic(5)
    _, _, calls = track(make_tracker(), frames, gt[0])
    assert all(c[0] == (3, 255) for c in calls), calls


@pytest.mark.parametrize("online", [False, True], ids=["baseline", "online"])
def test_every_second_frame_searches_the_scales_and_the_others_one_crop(every2, online: bool) -> None:
    tracker = every2[online]
    frames, gt = synthetic(9)
    seen: list[Frame] = []
    update = tracker.method.update
    tracker.method.update = lambda frame: (seen.append(frame), update(frame))[1]
    try:
        _, _, calls = track(tracker, frames, gt[0])
    finally:
        del tracker.method.update
    for index, (frame_calls, frame) in enumerate(zip(calls, seen), start=1):
        crops = 3 if index % 2 == 0 else 1
        assert frame_calls[0] == (crops, 255), (index, frame_calls)  # the search batch comes first
        # the online method sees the crops searched, and scale index 0 when there is one
        assert frame.responses.shape[0] == crops and frame.search_features.shape[0] == crops
        assert 0 <= frame.scale_index < crops


@pytest.mark.parametrize("online", [False, True], ids=["baseline", "online"])
def test_one_crop_frames_keep_the_size_and_the_target_is_followed(every2, online: bool) -> None:
    frames, gt = synthetic(12)
    boxes, outputs, _ = track(every2[online], frames, gt[0])
    for index in range(1, len(frames), 2):  # one-crop frames: the size of the frame before
        np.testing.assert_array_equal(boxes[index, 2:], boxes[index - 1, 2:])
    assert any(not np.array_equal(boxes[i, 2:], boxes[i - 1, 2:]) for i in range(2, len(frames), 2))
    iou = iou_xywh(boxes, gt)
    assert (iou[1:] > 0.5).mean() >= 0.8, iou


def test_the_debug_crop_map_and_area_are_the_one_crops(every2) -> None:
    tracker = every2[False]
    frames, gt = synthetic(6)
    found = []
    locate = tracker.unit_search.locate
    tracker.unit_search.locate = lambda r, size: found.append(locate(r, size)) or found[-1]
    tracker.params.debug = 1
    try:
        tracker.initialize(frames[0], {"init_bbox": list(gt[0])})
        for index, image in enumerate(frames[1:], start=1):
            centre_xy, size_wh, search_size = tracker._center_xy.copy(), tracker._size_wh.copy(), tracker._search_size
            out = tracker.track(image)
            area_cxcywh = xywh_to_cxcywh(np.array(out["search_area_xywh"]))
            np.testing.assert_allclose(area_cxcywh[:2], centre_xy)
            side = area_cxcywh[2]
            if index % 2 == 0:  # one of the three scales' regions
                assert min(abs(side / (search_size * f) - 1) for f in tracker.search.factors) < 1e-9
                continue
            assert side == pytest.approx(search_size)
            np.testing.assert_array_equal(tracker._size_wh, size_wh)
            crop = crop_square(normalize_image(image), centre_xy, search_size, 255, tracker._pad_color)
            np.testing.assert_array_equal(out["search_crop"], np.clip(crop, 0, 255).astype(np.uint8))
            np.testing.assert_array_equal(out["score_map"], found[-1].response)
            assert out["score_map"].shape == (272, 272)
    finally:
        tracker.params.debug = 0
        del tracker.unit_search.locate
    assert len(found) == 3  # frames 1, 3, 5


def test_a_one_crop_frame_neither_extends_nor_ends_a_scale_trend(every2) -> None:
    tracker = every2[False]
    steps = []
    size_factor = tracker.scale_trend.size_factor
    tracker.scale_trend.size_factor = lambda *args: (steps.append(tracker._frame_index), size_factor(*args))[1]
    try:
        frames, gt = synthetic(7)
        track(tracker, frames, gt[0])
    finally:
        del tracker.scale_trend.size_factor
    assert steps == [2, 4, 6]


def test_a_new_sequence_counts_its_frames_from_zero(every2) -> None:
    tracker = every2[True]
    frames, gt = synthetic(5, seed=5)
    first, _, calls = track(tracker, frames, gt[0])
    other_frames, other_gt = synthetic(4, seed=3)
    track(tracker, other_frames, other_gt[0])  # three tracked frames: a running count would be odd now
    again, _, calls_again = track(tracker, frames, gt[0])
    np.testing.assert_array_equal(again, first)
    assert [c[0][0] for c in calls_again] == [c[0][0] for c in calls] == [1, 3, 1, 3]


@pytest.fixture(scope="module")
def guarded() -> SiamOT:
    """The baseline with ``scale_search_every=2``, the wide search after one lost frame and distractor
    suppression (the baseline judges no frame lost: the tests set the lost count)."""
    return make_tracker(scale_search_every=2, wide_search_after=1, distractor_weight=0.5)


def test_the_wide_search_after_a_loss_runs_on_any_frame(guarded) -> None:
    tracker = guarded
    frames, gt = synthetic(3)
    tracker.initialize(frames[0], {"init_bbox": list(gt[0])})
    wide = []
    locate = tracker.wide_search.locate
    tracker.wide_search.locate = lambda r, size: (wide.append(r.shape[-1]), locate(r, size))[1]
    try:
        for index in (1, 2):  # a one-crop frame and a scale-search frame
            tracker._lost_frames = 1  # as after a frame judged lost
            size_wh = tracker._size_wh.copy()
            tracker.track(frames[index])
            np.testing.assert_array_equal(tracker._size_wh, size_wh)
    finally:
        del tracker.wide_search.locate
    assert wide == [(447 - 127) // 8 + 1] * 2


def test_enlarged_crops_search_the_scales_on_every_frame() -> None:
    tracker = make_tracker(scale_search_every=2, search_min_size=2000, search_max_instance=303)
    frames, gt = synthetic(3)
    _, _, calls = track(tracker, frames, gt[0])
    assert all(c[0] == (3, 303) for c in calls), calls


def test_distractor_suppression_on_one_crop_frames(guarded) -> None:
    frames, gt = synthetic(10)
    boxes, _, _ = track(guarded, frames, gt[0])
    assert np.isfinite(boxes).all()
    assert (iou_xywh(boxes, gt)[1:] > 0.5).mean() >= 0.8


def test_the_override_reaches_the_tracker() -> None:
    assert Tracker("siamot", "mobilenet_v2").get_parameters().scale_search_every == 1
    made = Tracker("siamot", "mobilenet_v2", overrides={"scale_search_every": 2, **FAST}).create()
    assert made.params.scale_search_every == 2
    tagged = Tracker("siamot", "mobilenet_v2", overrides={"scale_search_every": 3}, variant="every3")
    assert tagged.get_parameters().scale_search_every == 3 and tagged.results_dir.name == "mobilenet_v2@every3"
    assert parse_overrides(["scale_search_every=2"]) == {"scale_search_every": 2}


@pytest.mark.parametrize("value", [0, -1, 1.5, "2", True, None])
def test_a_bad_value_is_refused_in_one_line(value) -> None:
    with pytest.raises(ValueError, match="scale_search_every must be") as error:
        SiamOTParams(scale_search_every=value)
    assert "\n" not in str(error.value)
