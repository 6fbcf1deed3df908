"""Distractor suppression at inference (``distractor_weight``): the look-alike peaks, the kernels cut
from the search features, the suppressed map, and the tracker with the option on and off."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from ltr.models.tracking.siamfc import SiamFC
from pytracking_siamot.parameters import SiamOTParams, TrackerParams
from pytracking_siamot.tracker.siamot import SiamOT
from pytracking_siamot.tracker.siamot.distractors import DistractorMemory, look_alike_peaks

FAST = dict(device="cpu", engine="torch", precision="fp32")


def bumps(size: int, centres_rc: list[tuple[int, int]], heights: list[float]) -> torch.Tensor:
    """A ``(size, size)`` map of narrow Gaussian bumps on a floor of -1."""
    rows = torch.arange(size, dtype=torch.float32)[:, None]
    cols = torch.arange(size, dtype=torch.float32)[None, :]
    m = torch.full((size, size), -1.0)
    for (r, c), h in zip(centres_rc, heights):
        m = m + h * torch.exp(-((rows - r) ** 2 + (cols - c) ** 2) / 2.0)
    return m


def test_look_alike_peaks_are_the_high_local_maxima_away_from_the_target():
    m = bumps(17, [(8, 8), (3, 12), (14, 2), (8, 11)], [2.0, 1.6, 0.5, 1.9])
    peaks = look_alike_peaks(m, (8.0, 8.0), radius=4.0, ratio=0.6, count=4)
    # (8, 11) is within the radius (part of the target), (14, 2) too low (0.5 < 0.6 * 2)
    assert [(p.row, p.col) for p in peaks] == [(3, 12)]
    assert peaks[0].height == pytest.approx(float(m[3, 12] - m.min()))
    assert look_alike_peaks(m, (8.0, 8.0), radius=4.0, ratio=0.2, count=1)[0].row == 3  # the highest first
    assert len(look_alike_peaks(m, (8.0, 8.0), radius=4.0, ratio=0.2, count=4)) == 2
    assert look_alike_peaks(torch.zeros(17, 17), (8.0, 8.0), 4.0, 0.5, 4) == []  # a flat map has no target


def test_a_kernel_suppresses_its_own_peak_to_the_floor_with_weight_one():
    net = SiamFC(None, center_exemplar=True, border_crop=2)
    torch.manual_seed(0)
    xf = torch.randn(1, 8, 26, 26)
    zf = torch.randn(1, 8, 10, 10)
    response = net.score(zf, xf)  # (1, 1, 17, 17)
    r_map = response[0, 0]
    target = divmod(int(r_map.argmax()), 17)
    memory = DistractorMemory(net.score, capacity=4, ratio=0.0, radius=3.0, per_frame=1)
    assert memory.suppression(xf) is None and memory.suppressed(response, xf, 1.0) is response
    peaks = memory.observe(r_map, xf, (float(target[0]), float(target[1])), (10, 10))
    assert len(peaks) == 1 and len(memory) == 1
    peak = peaks[0]
    # the kernel is the window of xf whose correlation gives the map at the peak: its own map
    # there is its height, so weight 1 brings the look-alike down to the map's minimum
    suppression = memory.suppression(xf)
    assert float(suppression[0, 0, peak.row, peak.col]) == pytest.approx(peak.height, rel=1e-4)
    suppressed = memory.suppressed(response, xf, 1.0)
    assert float(suppressed[0, 0, peak.row, peak.col]) == pytest.approx(float(r_map.min()), abs=1e-4)
    # the same window pasted elsewhere in a new search map is scored down there too
    moved = torch.randn(1, 8, 26, 26)
    moved[:, :, 3:13, 5:15] = xf[:, :, peak.row:peak.row + 10, peak.col:peak.col + 10]
    assert int(memory.suppression(moved)[0, 0].argmax()) == 3 * 17 + 5


def test_the_memory_is_a_fifo_of_kernels_and_their_mean_is_one_correlation():
    net = SiamFC(None, center_exemplar=True, border_crop=2)
    torch.manual_seed(1)
    memory = DistractorMemory(net.score, capacity=2, ratio=0.0, radius=2.0, per_frame=1)
    frames = [torch.randn(1, 4, 26, 26) for _ in range(3)]
    zf = torch.randn(1, 4, 10, 10)
    for xf in frames:
        r_map = net.score(zf, xf)[0, 0]
        memory.observe(r_map, xf, divmod(int(r_map.argmax()), 17), (10, 10))
    assert len(memory) == 2
    kernels = list(memory._kernels)
    expected = (net.score(kernels[0], frames[0]) + net.score(kernels[1], frames[0])) / 2
    assert torch.allclose(memory.suppression(frames[0]), expected, atol=1e-5)
    memory.reset()
    assert len(memory) == 0 and memory.suppression(frames[0]) is None
    with pytest.raises(ValueError, match="capacity"):
        DistractorMemory(net.score, capacity=0, ratio=0.5, radius=2.0, per_frame=1)


def test_the_option_is_declared_off_and_validated():
    assert SiamOTParams().distractor_weight == 0.0
    with pytest.raises(ValueError, match="distractor_ratio"):
        SiamOTParams(distractor_ratio=1.5)
    with pytest.raises(ValueError, match="distractor_memory"):
        SiamOTParams(distractor_memory=0)


def scene(n_frames: int = 5, seed: int = 0) -> tuple[list[np.ndarray], np.ndarray]:
    """Frames (RGB uint8, 120x200 noise) of a 12x36 px patterned bar and a copy of it 16 px to its
    right, both still, and the bar's ``(N, 4)`` xywh boxes."""
    rng = np.random.default_rng(seed)
    pattern = rng.integers(0, 256, (36, 12, 3))
    image = np.clip(120 + rng.normal(0, 8, (120, 200, 3)), 0, 255)
    image[40:76, 80:92] = pattern
    image[40:76, 96:108] = pattern
    frame = image.astype(np.uint8)
    return [frame] * n_frames, np.array([[80, 40, 12, 36]] * n_frames, dtype=np.float64)


def test_the_tracker_locates_on_the_suppressed_map_and_the_method_sees_the_raw_one():
    frames, boxes = scene()
    tracker = SiamOT(TrackerParams(SiamOTParams(online_training=False, distractor_weight=0.5, distractor_ratio=0.0,
                                                **FAST)))
    assert SiamOT(TrackerParams(SiamOTParams(online_training=False, **FAST))).distractors is None  # off: untouched
    located, seen = [], []
    locate, update = tracker.search.locate, tracker.method.update
    tracker.search.locate = lambda responses, size: located.append(responses) or locate(responses, size)
    tracker.method.update = lambda frame: seen.append(frame) or update(frame)
    tracker.initialize(frames[0], {"init_bbox": list(boxes[0])})
    assert len(tracker.distractors) > 0  # the first frame's look-alikes are remembered
    for frame in frames[1:]:
        kernel = tracker.distractors._mean.clone()  # the memory before this frame's observation
        tracker.track(frame)
        raw, features = seen[-1].responses, seen[-1].search_features
        assert torch.allclose(located[-1], raw - 0.5 * tracker.network.score(kernel, features), atol=1e-5)
