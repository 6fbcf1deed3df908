"""``scale_features='resampled'``: one backbone pass per frame on the unit scale's crop, the other scales'
features resampled from it (``scale_search.resampled_scales``; generated maps and frames)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from pytracking_siamot.boxes import iou_xywh
from pytracking_siamot.parameters import SiamOTParams, TrackerParams, parse_overrides
from pytracking_siamot.tracker.siamot import SiamOT
from pytracking_siamot.tracker.siamot.scale_search import resampled_scales
from runner_fakes import frames_of, small_synthetic_sequence

FAST = dict(device="cpu", engine="torch", precision="fp32")


def test_resampled_scales_maps_cell_u_to_the_unit_cell_f_times_u() -> None:
    # A map linear in the offset from the centre, a * row + b * col: scale f reads it at f * offset,
    # so inside the map it is the same plane with slopes f * a, f * b (bilinear is exact on planes).
    size = 9
    offset = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    plane = (2.0 * offset[:, None] + 3.0 * offset[None, :] + 5.0)[None, None]
    factors = np.array([0.5, 1.0, 0.9])
    maps = resampled_scales(plane, factors)
    assert maps.shape == (3, 1, size, size)
    for k, f in enumerate(factors):
        expected = 2.0 * f * offset[:, None] + 3.0 * f * offset[None, :] + 5.0
        assert torch.allclose(maps[k, 0], expected, atol=1e-9), f
    assert torch.equal(maps[1:2], plane)  # factor 1: the unit features themselves


def test_beyond_the_edge_a_larger_scale_repeats_the_edge_cells() -> None:
    features = torch.arange(25, dtype=torch.float32).reshape(1, 1, 5, 5)
    wide = resampled_scales(features, np.array([2.0]))[0, 0]
    assert wide[2, 2] == 12.0  # the centre stays
    assert wide[2, 3] == 14.0 and wide[3, 2] == 22.0  # one cell out reads two cells out
    assert torch.equal(wide[:, 4], wide[:, 3]) and torch.equal(wide[0], wide[1])  # past the edge: edge cells
    channels = torch.randn(1, 4, 7, 7)
    assert torch.allclose(resampled_scales(channels, np.array([1.1]))[0, 2],
                          resampled_scales(channels[:, 2:3], np.array([1.1]))[0, 0])  # per channel


@pytest.mark.parametrize("shape, factors", [((2, 1, 5, 5), [1.0]), ((1, 5, 5), [1.0]),
                                            ((1, 1, 5, 5), [0.0]), ((1, 1, 5, 5), [float("nan")])])
def test_bad_features_or_factors_are_named(shape, factors) -> None:
    with pytest.raises(ValueError, match="resampled_scales|scale factors"):
        resampled_scales(torch.zeros(shape), np.array(factors))


def test_the_setting_is_checked_and_crops_is_the_default() -> None:
    assert SiamOTParams().scale_features == "crops"
    assert parse_overrides(["scale_features=resampled"])["scale_features"] == "resampled"
    with pytest.raises(ValueError, match="scale_features"):
        SiamOTParams(scale_features="resample")


def _track(tracker: SiamOT, frames: list[np.ndarray], init_xywh: np.ndarray) -> tuple[np.ndarray, list[int]]:
    """Boxes (frame 0 = ``init_xywh``) and the batch of every backbone pass after ``initialize``."""
    tracker.initialize(frames[0], {"init_bbox": list(init_xywh)})
    backbone = tracker.network.features
    batches: list[int] = []

    class Counted:
        """The backbone's inference, counting the batch of each pass."""

        def __call__(self, images):
            batches.append(int(images.shape[0]))
            return backbone(images)

        def __getattr__(self, name):
            return getattr(backbone, name)

    tracker.network.features = Counted()
    try:
        boxes = [init_xywh] + [tracker.track(frame)["target_bbox"] for frame in frames[1:]]
    finally:
        tracker.network.features = backbone
    return np.array(boxes, dtype=float), batches


@pytest.mark.parametrize("online", [False, True], ids=["baseline", "online"])
def test_one_backbone_pass_per_frame_holds_a_growing_target(online: bool) -> None:
    sequence = small_synthetic_sequence(12, 0, image_wh=(320, 240), scale_peak=1.25)
    frames, gt = frames_of(sequence), sequence.ground_truth_rect
    tracker = SiamOT(TrackerParams(SiamOTParams(online_training=online, scale_features="resampled", **FAST)))
    boxes, batches = _track(tracker, frames, gt[0])
    assert batches == [1] * (len(frames) - 1)  # one crop per frame instead of scale_num
    ious = [iou_xywh(b, g) for b, g in zip(boxes[1:], gt[1:])]
    assert min(ious) > 0.5, np.round(ious, 2)
    # the scales still compete, on resampled features: the box grows with the target (if less than
    # with real crops: 2-4 % per side here against 14 %, the target's 25 %)
    side = np.sqrt(boxes[:, 2] * boxes[:, 3] / (gt[0][2] * gt[0][3]))
    assert side.max() > 1.01, np.round(side, 3)


def test_the_unit_scale_is_exact_and_only_the_others_are_approximated() -> None:
    sequence = small_synthetic_sequence(3, 1, image_wh=(320, 240), scale_peak=1.25)
    frames, gt = frames_of(sequence), sequence.ground_truth_rect
    maps = {}
    for mode in ("crops", "resampled"):
        tracker = SiamOT(TrackerParams(SiamOTParams(online_training=False, scale_features=mode, **FAST)))
        tracker.initialize(frames[0], {"init_bbox": list(gt[0])})
        update = tracker.method.update
        tracker.method.update = lambda frame, update=update: (maps.__setitem__(mode, frame.responses), update(frame))[1]
        tracker.track(frames[1])
    crops, resampled = maps["crops"], maps["resampled"]
    assert crops.shape == resampled.shape == (3, 1, 17, 17)
    # the middle scale is the same crop through the same network (a batch of one instead of three)
    assert torch.allclose(resampled[1], crops[1], rtol=1e-4, atol=1e-6 * float(crops.abs().max()))
    for side in (0, 2):  # the others come from the middle crop's features, not from their own crops
        assert not torch.allclose(resampled[side], crops[side], rtol=1e-3, atol=1e-3 * float(crops.abs().max()))


def test_crops_every_k_th_frame_pass_all_the_scales_there_and_one_crop_between() -> None:
    assert SiamOTParams().resampled_crops_every == 0
    assert parse_overrides(["resampled_crops_every=3"])["resampled_crops_every"] == 3
    for bad in (-1, 1.5, True, "3", None):
        with pytest.raises(ValueError, match="resampled_crops_every"):
            SiamOTParams(resampled_crops_every=bad)
    sequence = small_synthetic_sequence(16, 0, image_wh=(320, 240), scale_peak=1.25)
    frames, gt = frames_of(sequence), sequence.ground_truth_rect
    sides = {}
    for every in (0, 3):
        params = SiamOTParams(online_training=False, scale_features="resampled", resampled_crops_every=every, **FAST)
        boxes, batches = _track(SiamOT(TrackerParams(params)), frames, gt[0])
        expected = [3 if every and index % every == 0 else 1 for index in range(1, len(frames))]
        assert batches == expected, batches  # frames 3, 6, 9, ... crop the three scales when k = 3
        sides[every] = float(np.sqrt(boxes[:, 2] * boxes[:, 3] / (gt[0][2] * gt[0][3])).max())
    # the crops' frames let the size follow the target (25 % larger at its peak) further than
    # resampling alone: the box's side grows 7 % against 2 % (crops on every frame: 14 %)
    assert sides[3] > sides[0] + 0.02, sides


def test_crops_on_every_frame_are_the_crops_search() -> None:
    sequence = small_synthetic_sequence(6, 2, image_wh=(320, 240), scale_peak=1.2)
    frames, gt = frames_of(sequence), sequence.ground_truth_rect
    runs = [_track(SiamOT(TrackerParams(SiamOTParams(online_training=True, **FAST, **settings))), frames, gt[0])
            for settings in ({"scale_features": "crops"},
                             {"scale_features": "resampled", "resampled_crops_every": 1})]
    (crops_boxes, crops_batches), (every_boxes, every_batches) = runs
    assert crops_batches == every_batches == [3] * (len(frames) - 1)
    np.testing.assert_array_equal(every_boxes, crops_boxes)
