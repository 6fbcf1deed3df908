"""``clamp_center``: the target's centre kept inside the image, on generated frames.

A textured square leaves a flat, slightly noisy image through its top border. SiamFC follows it one
step past the border (the centre leaves the image) before the square is gone; with ``clamp_center``
the centre stops on the border and every box before that frame is the same.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from evaluation.tracker import Tracker
from pytracking_siamot.online.method import FrameUpdate
from pytracking_siamot.parameters import TrackerParams
from pytracking_siamot.tracker.siamot import SiamOT

IMAGE_WH = (160, 120)


def leaving_frames(n_frames: int = 9, size: int = 32, start_xy: tuple[int, int] = (80, 40),
                   step_xy: tuple[int, int] = (0, -8), seed: int = 0) -> tuple[list[np.ndarray], np.ndarray]:
    """``n_frames`` RGB uint8 frames of ``IMAGE_WH`` with a ``size`` square of random 4x4 colour blocks
    centred at ``start_xy + i * step_xy`` (cut by the border), and the first frame's ``[x, y, w, h]``."""
    rng = np.random.default_rng(seed)
    width, height = IMAGE_WH
    background = (128 + rng.integers(-6, 7, (height, width, 3))).astype(np.uint8)
    cell = size // 4
    texture = np.kron(rng.integers(0, 256, (4, 4, 3)), np.ones((cell, cell, 1))).astype(np.uint8)
    frames = []
    for i in range(n_frames):
        x0 = start_xy[0] + step_xy[0] * i - size // 2
        y0 = start_xy[1] + step_xy[1] * i - size // 2
        frame = background.copy()
        xs, ys, xe, ye = max(x0, 0), max(y0, 0), min(x0 + size, width), min(y0 + size, height)
        if xe > xs and ye > ys:
            frame[ys:ye, xs:xe] = texture[ys - y0:ye - y0, xs - x0:xe - x0]
        frames.append(frame)
    first_xywh = np.array([start_xy[0] - size // 2, start_xy[1] - size // 2, size, size], dtype=float)
    return frames, first_xywh


def centres_xy(tracker: SiamOT, frames: list[np.ndarray], first_xywh: np.ndarray) -> np.ndarray:
    """``(N - 1, 2)`` tracked centres (OTB's ``x + (w - 1) / 2``) of frames 1..N-1."""
    tracker.initialize(frames[0], {"init_bbox": list(first_xywh)})
    boxes = np.array([tracker.track(f)["target_bbox"] for f in frames[1:]])
    return boxes[:, :2] + (boxes[:, 2:] - 1) / 2


def inside(centres: np.ndarray) -> np.ndarray:
    return np.all((centres >= 0) & (centres <= np.array(IMAGE_WH, dtype=float)), axis=1)


@pytest.fixture(scope="module")
def trackers() -> dict[tuple[bool, bool], SiamOT]:
    """(online_training, clamp_center) -> a tracker of the parameter file's settings with those two
    overrides, built through the toolkit's ``Tracker`` as the experiments build it."""
    made = {}
    for online in (False, True):
        for clamp in (False, True):
            tracker = Tracker("siamot", "mobilenet_v2", overrides={"online_training": online, "clamp_center": clamp})
            made[online, clamp] = tracker.create()
    return made


def test_the_override_reaches_the_tracker(trackers) -> None:
    assert Tracker("siamot", "mobilenet_v2").get_parameters().clamp_center is False  # off by default
    for (online, clamp), tracker in trackers.items():
        assert tracker.params.clamp_center is clamp and tracker.params.online_training is online
    tagged = Tracker("siamot", "mobilenet_v2", overrides={"clamp_center": True}, variant="clamp")
    assert tagged.create().params.clamp_center is True and tagged.results_dir.name == "mobilenet_v2@clamp"


@pytest.mark.parametrize("online", [False, True], ids=["baseline", "online"])
def test_a_centre_leaving_the_image_is_kept_on_the_border(trackers, online: bool) -> None:
    frames, first_xywh = leaving_frames()
    free = centres_xy(trackers[online, False], frames, first_xywh)
    clamped = centres_xy(trackers[online, True], frames, first_xywh)
    assert not inside(free).all() and free[:, 1].min() < -2, free  # off: it follows the square out
    assert inside(clamped).all(), clamped
    left = int(np.argmin(inside(free)))  # the first frame whose centre left the image
    # Until then the clamp never acts: the same boxes, bit for bit.
    np.testing.assert_array_equal(clamped[:left], free[:left])
    assert clamped[left, 1] == 0.0 and clamped[left, 0] == free[left, 0]  # stopped on the top border only


def test_the_method_s_relocation_and_the_wide_search_are_clamped(trackers, monkeypatch) -> None:
    """A method that always relocates the target far out of the image and judges it lost (so the
    next frames take the wide search): the centre stays inside after each move."""
    frames, first_xywh = leaving_frames(n_frames=5, step_xy=(0, 0))
    results = {}
    for clamp in (False, True):
        tracker = trackers[True, clamp]
        wide = TrackerParams(dataclasses.replace(tracker.params.settings, wide_search_after=1))
        monkeypatch.setattr(tracker, "params", wide)
        update = tracker.method.update

        def away(frame, update=update) -> FrameUpdate:
            return dataclasses.replace(update(frame), relocate_cells=np.array([-40.0, 40.0]), lost=True)

        monkeypatch.setattr(tracker.method, "update", away)
        results[clamp] = centres_xy(tracker, frames, first_xywh)
    assert not inside(results[False]).any()
    assert inside(results[True]).all() and np.allclose(results[True][-1], [0.0, IMAGE_WH[1]]), results[True]
