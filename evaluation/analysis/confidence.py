"""How well a per-frame confidence predicts tracking success: pure functions on arrays.

The event is **success** = IoU of the tracker's box with the ground truth > ``SUCCESS_IOU`` (0.5, the
OP50 threshold of the success curve). For one confidence (e.g. JCPP) pooled over frames:

- :func:`roc_auc`: the probability that a random success frame has a higher confidence than a random
  failure frame, ties counted half (the Mann-Whitney U statistic divided by ``n_pos * n_neg``), computed
  exactly from average ranks. 1.0: the confidence separates the two perfectly; 0.5: no better than
  chance (e.g. a constant); 0.0: perfectly inverted. Undefined (NaN, with the reason) when only one class
  is present.
- :func:`gate_stats`: for a gate ``confidence > threshold`` (strict, as the tracker's ``JCPP > T_c``):
  the fraction of frames above it and the precision above it (the fraction of those with success).
- :func:`binned_iou`: IoU against confidence in equal-count bins (mean and quartiles), for plots.

Inputs are 1-D float arrays of equal length without NaN (callers drop frames without a value).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

#: Confidences the analysis looks for in a tracker's per-frame state (``<seq>_state.csv``), in this order.
CONFIDENCE_KEYS: tuple[str, ...] = ("peak", "psr", "jcpp", "apce")

#: A frame is a success when its IoU is strictly greater than this.
SUCCESS_IOU = 0.5


def _vectors(scores: np.ndarray, other: np.ndarray, other_name: str) -> tuple[np.ndarray, np.ndarray]:
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    other = np.asarray(other).reshape(-1)
    if scores.shape != other.shape:
        raise ValueError(f"confidence and {other_name} differ in length ({len(scores)} vs {len(other)})")
    if np.isnan(scores).any():
        raise ValueError("confidence values contain NaN: drop frames without a value first")
    return scores, other


@dataclass(frozen=True)
class RocAuc:
    """ROC AUC of one confidence: ``value`` in [0, 1], or NaN with ``reason`` when undefined."""

    value: float
    n_positive: int
    n_negative: int
    reason: str = ""


def average_ranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks of ``values`` in ascending order; tied values share the mean of their ranks."""
    values = np.asarray(values, dtype=np.float64).reshape(-1)
    unique, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    first = np.cumsum(counts) - counts  # 0-based position of each distinct value's first occurrence
    return (first + (counts + 1) / 2.0)[inverse]


def roc_auc(scores: np.ndarray, positives: np.ndarray) -> RocAuc:
    """Exact ROC AUC of ``scores`` for the boolean event ``positives`` (ties count half).

    ``AUC = (sum of the positives' average ranks - n_pos (n_pos + 1) / 2) / (n_pos n_neg)``.

    Returns:
        :class:`RocAuc`; NaN with a reason when there are no frames or only one class.

    Raises:
        ValueError: different lengths, or NaN in ``scores``.
    """
    scores, positives = _vectors(scores, positives, "the event")
    positives = positives.astype(bool)
    n_pos = int(positives.sum())
    n_neg = int(len(positives) - n_pos)
    if n_pos == 0 or n_neg == 0:
        reason = ("no frames" if len(positives) == 0 else
                  f"only one class: all {len(positives)} frames are " + ("successes" if n_neg == 0 else "failures"))
        return RocAuc(math.nan, n_pos, n_neg, reason)
    ranks = average_ranks(scores)
    u = float(ranks[positives].sum()) - n_pos * (n_pos + 1) / 2.0
    return RocAuc(u / (n_pos * n_neg), n_pos, n_neg)


@dataclass(frozen=True)
class GateStats:
    """Frames with ``confidence > threshold``: their fraction of all frames and the fraction of them
    that are successes (``precision``, NaN when no frame is above)."""

    threshold: float
    fraction_above: float
    precision_above: float
    n_above: int


def gate_stats(scores: np.ndarray, positives: np.ndarray, threshold: float) -> GateStats:
    """:class:`GateStats` of the gate ``scores > threshold`` for the boolean event ``positives``."""
    scores, positives = _vectors(scores, positives, "the event")
    above = scores > threshold
    n_above = int(above.sum())
    fraction = n_above / len(scores) if len(scores) else math.nan
    precision = float(positives.astype(bool)[above].mean()) if n_above else math.nan
    return GateStats(float(threshold), fraction, precision, n_above)


@dataclass(frozen=True)
class BinnedIoU:
    """IoU per confidence bin: ``(B,)`` arrays of the bins' mean confidence, mean IoU, IoU quartiles
    (25 % and 75 %) and frame counts."""

    confidence: np.ndarray
    mean: np.ndarray
    q25: np.ndarray
    q75: np.ndarray
    count: np.ndarray


def binned_iou(scores: np.ndarray, ious: np.ndarray, n_bins: int = 10) -> BinnedIoU:
    """IoU against confidence in ``min(n_bins, N)`` bins of (almost) equal frame counts, by rising confidence.

    Frames are ordered by confidence (stable sort) and cut into consecutive groups, so tied
    confidences may fall into neighbouring bins; every frame is in exactly one bin.
    """
    if n_bins < 1:
        raise ValueError(f"n_bins must be >= 1, got {n_bins}")
    scores, ious = _vectors(scores, ious, "IoU")
    ious = ious.astype(np.float64)
    groups = [g for g in np.array_split(np.argsort(scores, kind="stable"), min(n_bins, len(scores))) if len(g)]
    empty = np.zeros(0)
    if not groups:
        return BinnedIoU(empty, empty, empty, empty, np.zeros(0, dtype=int))
    return BinnedIoU(confidence=np.array([scores[g].mean() for g in groups]),
                     mean=np.array([ious[g].mean() for g in groups]),
                     q25=np.array([np.quantile(ious[g], 0.25) for g in groups]),
                     q75=np.array([np.quantile(ious[g], 0.75) for g in groups]),
                     count=np.array([len(g) for g in groups]))
