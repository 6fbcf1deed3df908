"""Test helpers: tiny synthetic sequences (the toolkit's generator, including the special kinds
some tests need), a deterministic fake tracker, and a fake installed plugin that registers it
through the ``siamot.trackers`` entry-point group.

Everything here is importable by worker processes (spawned children inherit ``sys.path``,
which pytest extends with ``tests/``), so sequences and trackers pickle by reference.
"""
from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from evaluation.data import Sequence
from evaluation.datasets.synthetic import SyntheticSpec, synthetic_sequence
from evaluation.registry import TrackerSpec
from evaluation.settings import Settings

TARGET_SIZE = 16
STEP_XY = (3, 2)


#: How long a "hung" frame blocks: far beyond any watchdog a test sets (seconds), yet finite, so a
#: watchdog that never fires makes its test fail (the pair ends "done") instead of hanging the suite.
HANG_S = 300.0


@dataclass(frozen=True)
class MovingSquare:
    """``i -> RGB uint8`` frames: a white square moving over seeded noise (picklable)."""

    size: int = 96
    seed: int = 0
    fail_at: int | None = None
    hang_at: int | None = None  # blocks for HANG_S from this frame on (a hung call; only under a watchdog)
    die_at: int | None = None  # the process kills itself here, like an OOM kill (only in workers)

    def top_left(self, index: int) -> tuple[int, int]:
        return 10 + STEP_XY[0] * index, 12 + STEP_XY[1] * index

    def __call__(self, index: int) -> np.ndarray:
        if self.fail_at is not None and index >= self.fail_at:
            raise OSError(f"synthetic frame {index} cannot be read (test failure)")
        if self.hang_at is not None and index >= self.hang_at:
            time.sleep(HANG_S)
        if self.die_at is not None and index >= self.die_at:
            os.kill(os.getpid(), signal.SIGKILL)
        rng = np.random.default_rng(self.seed)
        image = rng.integers(0, 150, (self.size, self.size, 3), dtype=np.uint8)
        x, y = self.top_left(index)
        image[y:y + TARGET_SIZE, x:x + TARGET_SIZE] = 255
        return image


def make_sequence(name: str = "square", n_frames: int = 8, seed: int = 0,
                  fail_at: int | None = None, hang_at: int | None = None, die_at: int | None = None) -> Sequence:
    """An ``n_frames`` x 96x96 sequence with exact ground truth; ``fail_at`` makes that frame raise,
    ``hang_at`` hang and ``die_at`` kill its process (see :class:`MovingSquare`)."""
    loader = MovingSquare(seed=seed, fail_at=fail_at, hang_at=hang_at, die_at=die_at)
    gt = np.array([[*loader.top_left(i), TARGET_SIZE, TARGET_SIZE] for i in range(n_frames)], dtype=np.float64)
    return Sequence(name=name, frames=[f"{i:04d}" for i in range(n_frames)], dataset="test",
                    ground_truth_rect=gt, frame_loader=loader)


def small_synthetic_sequence(n_frames: int = 8, seed: int = 0, image_wh: tuple[int, int] = (200, 150),
                             name: str | None = None, **spec: Any) -> Sequence:
    """A short sequence of the toolkit's synthetic generator (a textured target, exact ground truth);
    ``name`` defaults to ``synthetic<seed>``; ``spec``: further
    :class:`evaluation.datasets.synthetic.SyntheticSpec` fields."""
    return synthetic_sequence(SyntheticSpec(name or f"synthetic{seed}", seed=seed, num_frames=n_frames,
                                            image_wh=image_wh, **spec))


def _blocky_texture(rng: np.random.Generator, shape_hw: tuple[int, int], cells: tuple[int, int]) -> np.ndarray:
    small = rng.integers(0, 256, (*cells, 3)).astype(np.uint8)
    return cv2.resize(small, (shape_hw[1], shape_hw[0]), interpolation=cv2.INTER_NEAREST)


def appearance_change_sequence(n_frames: int = 9, seed: int = 0, image_wh: tuple[int, int] = (320, 240)) -> Sequence:
    """The special kind for online-training tests: a blocky target (moving right/down, growing 25 %)
    blended from its first texture into the *negative* of another one over the sequence.

    The synthetic dataset's morphs (``Chameleon`` & co.) change the target gradually over 130
    frames; at a few frames they keep the KL loss between the current and template score maps
    below the default ``T_l``. This change is fast and strong enough that a short sequence gives
    confident frames with a large loss, i.e. training events.
    """
    width, height = image_wh
    rng = np.random.default_rng(seed)
    background = _blocky_texture(rng, (height, width), (30, 40))
    first, second = _blocky_texture(rng, (64, 64), (6, 6)), _blocky_texture(rng, (64, 64), (6, 6))
    frames, boxes = [], []
    for i in range(n_frames):
        t = i / max(1, n_frames - 1)
        side = round(40.0 * (1.0 + 0.25 * t))
        x, y = round(90.0 + 5.0 * i), round(80.0 + 2.5 * i)
        texture = (1 - t) * first.astype(np.float32) + t * (255.0 - second.astype(np.float32))
        frame = background.copy()
        frame[y:y + side, x:x + side] = cv2.resize(texture, (side, side), interpolation=cv2.INTER_LINEAR)
        frames.append(frame)
        boxes.append([x, y, side, side])
    return Sequence(name=f"appearance_change{seed}", frames=[f"{i:04d}" for i in range(n_frames)], dataset="test",
                    ground_truth_rect=np.asarray(boxes, dtype=np.float64), frame_loader=frames.__getitem__)


def frames_of(sequence: Sequence) -> list[np.ndarray]:
    """Every frame of ``sequence`` as an RGB uint8 array."""
    return [sequence.image(i) for i in range(len(sequence))]


@dataclass
class FakeParams:
    """pytracking-style parameters with settable ``debug``/``visualization``."""

    offset: float = 0.0
    debug: int = 0
    visualization: bool = False

    def get(self, name: str, *default: Any) -> Any:
        return getattr(self, name, *default)

    def has(self, name: str) -> bool:
        return hasattr(self, name)


class FakeTracker:
    """Deterministic: follows the centroid of the brightest pixels; reports a fake online state."""

    def __init__(self, params: FakeParams) -> None:
        self.params = params
        self.size_wh = np.zeros(2)
        self.frame = 0

    def initialize(self, image: np.ndarray, info: dict) -> dict:
        self.size_wh = np.asarray(info["init_bbox"][2:], dtype=np.float64)
        self.frame = 0
        return {"peak": 1.0, "trained": False}

    def track(self, image: np.ndarray, info: dict | None = None) -> dict:
        assert info is not None and "previous_output" in info
        self.frame += 1
        ys, xs = np.nonzero(image.min(axis=2) > 200)  # survives JPEG compression
        center_xy = np.array([xs.mean(), ys.mean()]) + self.params.offset
        top_left = center_xy - (self.size_wh - 1) / 2
        output = {"target_bbox": [*top_left.tolist(), *self.size_wh.tolist()],
                  "peak": 0.5 + 0.01 * self.frame, "psr": 7.25, "jcpp": 0.8, "loss": float("nan"),
                  "trained": self.frame % 2 == 0, "template_updated": False}
        if self.params.debug >= 1:
            output["debug_note"] = "only at debug >= 1"
        return output


FAKE_PARAMETERS = {"centroid": 0.0, "shifted": 2.5}


def _make_parameters(parameter_name: str, settings: Settings) -> FakeParams:
    return FakeParams(offset=FAKE_PARAMETERS[parameter_name])


def tracker_spec() -> TrackerSpec:
    """The entry point the fake distribution declares: ``fake = runner_fakes:tracker_spec``."""
    return TrackerSpec(parameter_names=lambda: list(FAKE_PARAMETERS), make_parameters=_make_parameters,
                       tracker_class=lambda: FakeTracker, description="test fake")


#: What :class:`AnnouncingTracker` says once per run (like the float32 fallback of ``precision='auto'``).
ANNOUNCEMENT = "fake tracker: a notice said once per run"


class AnnouncingTracker(FakeTracker):
    """A :class:`FakeTracker` that says :data:`ANNOUNCEMENT` through
    ``ltr.inference.engine.announce_once`` whenever one is built (in every process)."""

    def __init__(self, params: FakeParams) -> None:
        from ltr.inference.engine import announce_once

        super().__init__(params)
        announce_once(ANNOUNCEMENT)


def announcing_tracker_spec() -> TrackerSpec:
    """Entry point of a fake plugin whose tracker is :class:`AnnouncingTracker`."""
    return TrackerSpec(parameter_names=lambda: list(FAKE_PARAMETERS), make_parameters=_make_parameters,
                       tracker_class=lambda: AnnouncingTracker, description="test fake that announces")


def install_fake_plugin(root: Path, monkeypatch: pytest.MonkeyPatch, tracker_name: str = "fake",
                        target: str = "runner_fakes:tracker_spec", dist: str = "siamot_fake_plugin") -> Path:
    """Create ``<dist>-1.0.dist-info`` with an entry point in ``root`` and put ``root`` on ``sys.path``
    (as ``pip install`` of a plugin would); returns the dist-info folder."""
    info = root / f"{dist}-1.0.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[siamot.trackers]\n{tracker_name} = {target}\n")
    monkeypatch.syspath_prepend(str(root))
    return info


def fake_experiment() -> tuple[list[Any], list[Sequence]]:
    """An experiment for the CLI tests (``run_experiment runner_fakes fake_experiment``)."""
    from evaluation.tracker import Tracker

    return [Tracker("fake", "centroid", display_name="Fake")], [make_sequence(f"seq{i}", seed=i) for i in range(3)]


def failing_experiment() -> tuple[list[Any], list[Sequence]]:
    """Like :func:`fake_experiment` with a sequence whose frame 2 cannot be read."""
    from evaluation.tracker import Tracker

    return [Tracker("fake", "centroid")], [make_sequence("fine"), make_sequence("unreadable", fail_at=2)]


def announcing_experiment() -> tuple[list[Any], list[Sequence]]:
    """Three sequences for :class:`AnnouncingTracker` (the plugin ``announcing`` must be installed)."""
    from evaluation.tracker import Tracker

    return [Tracker("announcing", "centroid")], [make_sequence(f"seq{i}", seed=i) for i in range(3)]
