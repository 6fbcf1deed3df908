"""The minimum search region (``search_min_size``): a small target that moves farther per frame than
SiamFC's search region reaches is held with it and lost without it (generated frames)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from pytracking_siamot.boxes import iou_xywh
from pytracking_siamot.online.method import Frame
from pytracking_siamot.parameters import SiamOTParams, TrackerParams
from pytracking_siamot.tracker.siamot import SiamOT

# The torch engine in float32: the enlarged crops' new input shapes cost no compilation.
FAST = dict(device="cpu", engine="torch", precision="fp32")


def make_tracker(online: bool = False, **overrides) -> SiamOT:
    return SiamOT(TrackerParams(SiamOTParams(online_training=online, **FAST, **overrides)))


def small_fast_target(n_frames: int = 6, step_px: float = 12.0, seed: int = 0) -> tuple[list[np.ndarray], np.ndarray]:
    """Frames (RGB uint8, 240x120 noise) of a 10x8 px two-colour target moving ``step_px`` to the
    right per frame, and its ``(N, 4)`` xywh boxes. SiamFC's search region for it is ~36 px, whose
    map reaches ~9.4 px from its centre (largest scale)."""
    rng = np.random.default_rng(seed)
    target = np.zeros((8, 10, 3), np.uint8)
    target[:, :5] = (230, 40, 40)
    target[:, 5:] = (40, 40, 230)
    target[:4] += 20
    background = np.clip(110 + rng.normal(0, 12, (120, 240, 3)), 0, 255).astype(np.uint8)
    frames, boxes = [], []
    for i in range(n_frames):
        x, y = int(round(30 + step_px * i)), int(round(56 + 3 * np.sin(i)))
        image = background.copy()
        image[y:y + 8, x:x + 10] = target
        frames.append(image)
        boxes.append([x, y, 10, 8])
    return frames, np.array(boxes, dtype=np.float64)


def track(tracker: SiamOT, frames: list[np.ndarray], boxes: np.ndarray) -> tuple[np.ndarray, list[dict]]:
    tracker.initialize(frames[0], {"init_bbox": list(boxes[0])})
    outputs = [tracker.track(f) for f in frames[1:]]
    return np.array([boxes[0]] + [o["target_bbox"] for o in outputs]), outputs


@pytest.fixture(scope="module")
def trackers() -> dict[str, SiamOT]:
    return {"off": make_tracker(), "on": make_tracker(search_min_size=128, search_max_instance=351)}


@pytest.fixture(scope="module")
def fast_runs(trackers) -> dict[str, np.ndarray]:
    frames, boxes = small_fast_target()
    return {"gt": boxes, **{name: track(t, frames, boxes)[0] for name, t in trackers.items()}}


def test_a_small_fast_target_is_held_with_a_minimum_search_region_and_lost_without(fast_runs):
    gt = fast_runs["gt"]
    assert (iou_xywh(fast_runs["off"], gt)[1:] == 0).mean() > 0.5  # beyond the normal map's reach
    assert (iou_xywh(fast_runs["on"], gt)[1:] > 0.5).all()


def test_the_enlarged_crop_keeps_the_resolution_in_steps_of_two_cells_up_to_the_cap(trackers):
    on = trackers["on"]
    assert on._enlarged_instance(200.0) == 255  # the normal region is large enough
    assert on._enlarged_instance(100.0) == 335  # 255 * 128 / 100 = 326.4 -> the next 255 + 16 k
    assert on._enlarged_instance(20.0) == 351  # search_max_instance
    assert trackers["off"]._enlarged_instance(20.0) == 255


def test_a_region_above_the_minimum_is_searched_as_without_the_option(fast_runs):
    frames, boxes = small_fast_target()
    unused = make_tracker(search_min_size=20)  # below the target's ~36 px region throughout
    assert np.array_equal(track(unused, frames, boxes)[0], fast_runs["off"])


def test_the_online_method_sees_the_normal_crops_maps_and_cells():
    frames, boxes = small_fast_target(3)
    tracker = make_tracker(online=True, search_min_size=128, search_max_instance=351)
    seen: list[Frame] = []
    update = tracker.method.update
    tracker.method.update = lambda frame: (seen.append(frame), update(frame))[1]
    track(tracker, frames, boxes)
    normal_maps, normal_features = tracker.network.score_images(tracker.exemplar_features, torch.zeros(3, 3, 255, 255))
    assert len(seen) == 2
    assert all(f.responses.shape == normal_maps.shape for f in seen)
    assert all(f.search_features.shape == normal_features.shape for f in seen)
    # 12 px in a ~36 px region of 255 crop pixels at 8 crop pixels per cell: beyond the normal map's 8 cells.
    assert all(abs(f.displacement_cells[0]) > 8 for f in seen)


@pytest.mark.parametrize("value", [-1, 1.5])
def test_search_min_size_is_validated(value):
    with pytest.raises(ValueError, match="search_min_size"):
        SiamOTParams(search_min_size=value)
