"""The drift guard of the adapter: the un-adapted first-frame template's map as an anchor.

Online training can lead the tracker away: an adapter trained on frames where the target was being
lost learns the background, and then follows it. The un-adapted first-frame exemplar ``Zf`` is what
the baseline (SiamFC) tracks with; its score map on the chosen crop is computed every frame for
the confidence anyway. When that map's peak stays away from the tracked position for several
frames in a row while being clearly higher than the map at the tracked position (relative to the
first frame's peak height), the adapter has probably drifted: :class:`AdapterMethod` then rolls it
back (``adapter_guard_*`` settings).

Maps here are raw ``(h, w)`` score maps of one search crop (not shifted); positions are
``(row, col)`` in cells of that map, fractional where the tracked position is sub-cell.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch


def map_height(score_map: torch.Tensor) -> float:
    """Height of a raw ``(h, w)`` map's peak above its minimum (0 for a constant map)."""
    m = score_map.detach().reshape(score_map.shape[-2:]).double()
    return float(m.max() - m.min())


def peak_rc(score_map: torch.Tensor) -> tuple[int, int]:
    """``(row, col)`` of a raw ``(h, w)`` map's highest cell (the first one on ties)."""
    m = score_map.detach().reshape(score_map.shape[-2:])
    row, col = divmod(int(torch.argmax(m)), m.shape[-1])
    return row, col


def value_at(score_map: torch.Tensor, position_rc: tuple[float, float]) -> float:
    """Bilinear value of a raw ``(h, w)`` map at a fractional ``(row, col)``, clamped to the map."""
    m = score_map.detach().reshape(score_map.shape[-2:]).double()
    height, width = m.shape
    row = min(max(float(position_rc[0]), 0.0), height - 1.0)
    col = min(max(float(position_rc[1]), 0.0), width - 1.0)
    r0, c0 = int(math.floor(row)), int(math.floor(col))
    r1, c1 = min(r0 + 1, height - 1), min(c0 + 1, width - 1)
    fr, fc = row - r0, col - c0
    top = (1 - fc) * float(m[r0, c0]) + fc * float(m[r0, c1])
    bottom = (1 - fc) * float(m[r1, c0]) + fc * float(m[r1, c1])
    return (1 - fr) * top + fr * bottom


@dataclass(frozen=True)
class DriftEvidence:
    """What the un-adapted map says about one frame.

    Attributes:
        peak_rc: ``(row, col)`` of the un-adapted map's peak (cells of the chosen crop's map).
        distance: cells between that peak and the tracked position.
        peak_height: the un-adapted map's peak above its minimum, relative to the first frame's
            (the first-frame template map's peak above its minimum); ``nan`` without a first height.
        tracked_height: the un-adapted map at the tracked position above its minimum, same units.
    """

    peak_rc: tuple[int, int]
    distance: float
    peak_height: float
    tracked_height: float


def drift_evidence(base_map: torch.Tensor, tracked_rc: tuple[float, float], first_height: float) -> DriftEvidence:
    """:class:`DriftEvidence` of the un-adapted raw ``(h, w)`` map ``base_map`` for a target tracked
    at ``tracked_rc`` (fractional cells), heights relative to ``first_height`` (> 0; see
    :func:`map_height`)."""
    m = base_map.detach().reshape(base_map.shape[-2:]).double()
    low = float(m.min())
    row, col = peak_rc(m)
    distance = math.hypot(row - float(tracked_rc[0]), col - float(tracked_rc[1]))
    scale = first_height if first_height > 0 and math.isfinite(first_height) else math.nan
    return DriftEvidence((row, col), distance, (float(m[row, col]) - low) / scale,
                         (value_at(m, tracked_rc) - low) / scale)


def disagrees(evidence: DriftEvidence, distance: float, min_height: float, margin: float) -> bool:
    """Whether the un-adapted map confidently points elsewhere: its peak is more than ``distance``
    cells from the tracked position, at least ``min_height`` of the first frame's peak height, and
    at least ``margin`` (same units) above the un-adapted map at the tracked position. NaN heights
    never disagree."""
    return (evidence.distance > distance and evidence.peak_height >= min_height
            and evidence.peak_height - evidence.tracked_height >= margin)


class DriftGuard:
    """Counts frames of disagreement in a row (:func:`disagrees`) and fires after ``frames`` of them.

    Args:
        frames: disagreeing frames in a row that fire the guard (0: never fires).
    """

    def __init__(self, frames: int) -> None:
        if frames < 0:
            raise ValueError(f"drift guard frames must be >= 0, got {frames}")
        self.frames = frames
        self.streak = 0

    def reset(self) -> None:
        """Start a sequence (no disagreement yet)."""
        self.streak = 0

    def observe(self, disagreeing: bool) -> bool:
        """Record one frame; ``True`` when it is the ``frames``-th disagreeing frame in a row (the
        streak then starts again from 0). An agreeing frame ends the streak."""
        if not disagreeing or self.frames == 0:
            self.streak = 0
            return False
        self.streak += 1
        if self.streak >= self.frames:
            self.streak = 0
            return True
        return False
