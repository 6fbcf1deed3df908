"""Paired comparison of two trackers on the same sequences, with an interval a reader can trust.

A summary table says tracker A's AUC is 0.012 above B's; on 12 sequences that may be one sequence
flipping. :func:`compare_scores` turns the per-sequence scores of A and B into:

* the paired difference ``d = score_A - score_B`` per sequence (AUC by default; precision at 20 px
  or normalised precision on request) and their mean, which is exactly the difference of the two
  trackers' summary scores (both are means over the same sequences);
* a 95 % percentile bootstrap interval of that mean, over sequences: :data:`BOOTSTRAP_RESAMPLES`
  resamples of the sequences with replacement drawn by ``numpy.random.default_rng(BOOTSTRAP_SEED)``
  and the 2.5 and 97.5 percentiles of their means (``numpy.percentile``, linear interpolation), so
  the same scores always print the same interval;
* the sequences won, lost and tied (``|d| <`` :data:`TIE_TOLERANCE` is a tie: the tables show three
  decimals);
* the sequences that decide it: the largest ``|d|``, and whether the mean keeps its sign once the
  largest one is dropped.

TRE (``--tre K``, :mod:`evaluation.datasets.segments`): the scored units are segments
``<sequence>@<frame>`` and the mean is over segments, as the TRE summary is; but the segments of one
sequence share its target and scenery, so they are resampled together as one cluster (a resample
draws sequences and takes all their segments), and the interval is over sequences, not over
correlated segments. Wins and losses count sequences, each by the mean ``d`` of its segments.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Mapping, Sequence

import numpy as np

from evaluation.analysis.metrics import (NORM_PRECISION_AT, NORM_PRECISION_THRESHOLDS, PRECISION_AT_PX,
                                         PRECISION_THRESHOLDS, SequenceMetrics, curve_value_at)
from evaluation.datasets.segments import SEGMENT_SEPARATOR

if TYPE_CHECKING:
    from evaluation.analysis.evaluate import Evaluation

#: Resamples of the bootstrap interval (the percentiles move by about 0.0005 AUC between seeds at this size).
BOOTSTRAP_RESAMPLES = 10_000
#: Seed of ``numpy.random.default_rng`` for the resamples: a fixed seed makes the interval reproducible.
BOOTSTRAP_SEED = 0
#: Coverage of the interval.
CONFIDENCE_LEVEL = 0.95
#: ``|d|`` below this is a tie, neither won nor lost (scores are printed with three decimals).
TIE_TOLERANCE = 0.0005
#: How many sequences :attr:`Comparison.deciding` lists (largest ``|d|`` first).
DECIDING_COUNT = 3

#: Per-sequence value of each metric that can be compared, from one tracker's :class:`SequenceMetrics`.
METRIC_VALUES: dict[str, Callable[[SequenceMetrics], float]] = {
    "auc": lambda m: m.auc,
    "precision": lambda m: curve_value_at(m.precision, PRECISION_THRESHOLDS, PRECISION_AT_PX),
    "norm_precision": lambda m: curve_value_at(m.norm_precision, NORM_PRECISION_THRESHOLDS, NORM_PRECISION_AT),
}
#: How the tables name each metric.
METRIC_LABELS = {"auc": "AUC", "precision": "Precision", "norm_precision": "Norm. precision"}


def sequence_of(name: str) -> str:
    """The sequence a TRE segment belongs to: ``'Jogging-1@103'`` -> ``'Jogging-1'``; any other name
    (segment 0 carries the sequence's own name) is returned unchanged."""
    head, separator, frame = name.rpartition(SEGMENT_SEPARATOR)
    return head if separator and head and frame.isdigit() else name


def bootstrap_interval(differences: Sequence[float] | np.ndarray, clusters: Sequence[str] | None = None,
                       resamples: int = BOOTSTRAP_RESAMPLES, seed: int = BOOTSTRAP_SEED,
                       level: float = CONFIDENCE_LEVEL) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of ``differences``, resampling clusters.

    Args:
        differences: ``(N,)`` floats, one per scored unit (sequence or TRE segment).
        clusters: ``N`` labels; units with one label are drawn together (a sequence's segments).
            ``None``: every unit is its own cluster (the same interval as ``N`` distinct labels).
        resamples: number of bootstrap resamples (>= 1).
        seed: seed of ``numpy.random.default_rng``; the same inputs and seed give the same interval.
        level: coverage in (0, 1).

    Each resample draws as many clusters as there are, uniformly with replacement, and takes the mean
    of all their units (sum of the drawn clusters' differences over their unit count, so a resample's
    mean is the same kind of mean as the point estimate). Returns the ``(1 - level) / 2`` and
    ``(1 + level) / 2`` percentiles of those means (``numpy.percentile``'s linear interpolation).

    Raises:
        ValueError: no differences, a non-finite one, ``clusters`` of another length, or a bad
            ``resamples`` / ``level``.
    """
    values = np.asarray(differences, dtype=np.float64).reshape(-1)
    if values.size == 0:
        raise ValueError("no differences to bootstrap")
    if not np.all(np.isfinite(values)):
        raise ValueError("the differences must be finite numbers")
    if resamples < 1:
        raise ValueError(f"resamples must be >= 1, got {resamples}")
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level}")
    if clusters is None:
        sums, counts = values, np.ones_like(values)
    else:
        if len(clusters) != values.size:
            raise ValueError(f"{len(clusters)} cluster labels for {values.size} differences")
        first = {label: i for i, label in enumerate(dict.fromkeys(clusters))}  # first-appearance order
        index = np.array([first[label] for label in clusters])
        sums = np.bincount(index, weights=values)
        counts = np.bincount(index).astype(np.float64)
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, sums.size, size=(resamples, sums.size))
    means = sums[draws].sum(axis=1) / counts[draws].sum(axis=1)
    low, high = np.percentile(means, [50.0 * (1.0 - level), 50.0 * (1.0 + level)])
    return float(low), float(high)


@dataclass(frozen=True)
class PairedScore:
    """One unit's scores: ``difference = a - b``; ``segments`` = the TRE segments averaged into it (1 for
    a sequence scored once)."""

    name: str
    a: float
    b: float
    difference: float
    segments: int = 1


@dataclass(frozen=True)
class Comparison:
    """Tracker A against tracker B on the same sequences (see the module docstring).

    Attributes:
        tracker_a, tracker_b: display names; differences are ``A - B``.
        metric: ``auc``, ``precision`` or ``norm_precision`` (fractions in [0, 1]).
        units: the scored units in the order given (sequences, or TRE segments).
        sequences: one row per sequence (first-appearance order): the mean scores and difference over
            its units; the same as ``units`` without segments.
        mean_a, mean_b, mean_difference: means over ``units`` (``mean_difference = mean_a - mean_b``,
            the difference of the summary scores).
        interval: ``(low, high)`` bootstrap interval of ``mean_difference`` over sequences.
        level, resamples, seed: how the interval was drawn.
        tie_tolerance: ``|d|`` below it is a tie.
        wins, losses, ties: sequences where A is above, below, within the tolerance of B.
        deciding: the sequences with the largest ``|d|`` (at most :data:`DECIDING_COUNT`), largest first;
            ties are never listed.
        mean_without_top: ``mean_difference`` recomputed without ``deciding[0]`` (all its units);
            ``None`` with a single sequence or when every sequence is a tie.
    """

    tracker_a: str
    tracker_b: str
    metric: str
    units: tuple[PairedScore, ...]
    sequences: tuple[PairedScore, ...]
    mean_a: float
    mean_b: float
    mean_difference: float
    interval: tuple[float, float]
    level: float
    resamples: int
    seed: int
    tie_tolerance: float
    wins: int
    losses: int
    ties: int
    deciding: tuple[PairedScore, ...]
    mean_without_top: float | None

    @property
    def clustered(self) -> bool:
        """Whether units were resampled in clusters (some sequence has several segments)."""
        return len(self.units) != len(self.sequences)

    @property
    def interval_excludes_zero(self) -> bool:
        """Whether the interval lies strictly on one side of 0 (the sign of the difference is supported)."""
        low, high = self.interval
        return low > 0.0 or high < 0.0

    @property
    def sign_survives(self) -> bool | None:
        """Whether the mean keeps its (non-zero) sign without its most decisive sequence; ``None`` when
        :attr:`mean_without_top` is."""
        if self.mean_without_top is None:
            return None
        return bool(np.sign(self.mean_without_top) == np.sign(self.mean_difference) != 0)


def require_trackers(names: Sequence[str], known: Sequence[str]) -> None:
    """``ValueError`` naming every tracker of ``known`` unless each of ``names`` is one of them, and
    unless the two compared names differ."""
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"unknown tracker {', '.join(repr(n) for n in unknown)} to compare; the report's "
                         f"trackers are: {', '.join(known)}")
    if len(set(names)) < len(names):
        raise ValueError(f"compare two different trackers, not {names[0]!r} with itself")


def compare_scores(scores_a: Mapping[str, float], scores_b: Mapping[str, float], tracker_a: str = "A",
                   tracker_b: str = "B", metric: str = "auc", clusters: Mapping[str, str] | None = None,
                   resamples: int = BOOTSTRAP_RESAMPLES, seed: int = BOOTSTRAP_SEED,
                   level: float = CONFIDENCE_LEVEL, tie_tolerance: float = TIE_TOLERANCE) -> Comparison:
    """Compare two trackers' per-unit scores (see the module docstring).

    Args:
        scores_a, scores_b: unit name -> score of A / B; both on exactly the same units (order of
            ``scores_a`` kept).
        tracker_a, tracker_b: display names.
        metric: what the scores are (``auc``, ``precision``, ``norm_precision``): a label only.
        clusters: unit name -> sequence it belongs to (TRE segments: :func:`sequence_of`); a unit
            missing from it is its own sequence. ``None``: every unit is a sequence.
        resamples, seed, level: the bootstrap's (:func:`bootstrap_interval`).
        tie_tolerance: ``|d| < tie_tolerance`` is a tie.

    Raises:
        ValueError: no units, units that differ between A and B (named), or non-finite scores.
    """
    if metric not in METRIC_LABELS:
        raise ValueError(f"unknown metric {metric!r}: one of {', '.join(METRIC_LABELS)}")
    only_a = [n for n in scores_a if n not in scores_b]
    only_b = [n for n in scores_b if n not in scores_a]
    if only_a or only_b:
        raise ValueError(f"{tracker_a} and {tracker_b} must be scored on the same sequences "
                         f"(only {tracker_a}: {', '.join(only_a) or '-'}; "
                         f"only {tracker_b}: {', '.join(only_b) or '-'})")
    if not scores_a:
        raise ValueError("no sequences to compare")
    names = list(scores_a)
    a = np.array([scores_a[n] for n in names], dtype=np.float64)
    b = np.array([scores_b[n] for n in names], dtype=np.float64)
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        raise ValueError("scores must be finite numbers")
    d = a - b
    labels = [clusters.get(n, n) if clusters else n for n in names]
    units = tuple(PairedScore(n, float(x), float(y), float(z)) for n, x, y, z in zip(names, a, b, d))
    order = list(dict.fromkeys(labels))
    members = {s: np.array([lab == s for lab in labels]) for s in order}
    sequences = tuple(PairedScore(s, float(a[m].mean()), float(b[m].mean()), float(d[m].mean()), int(m.sum()))
                      for s, m in members.items())
    seq_d = np.array([s.difference for s in sequences])
    deciding = [s for s in sorted(sequences, key=lambda s: -abs(s.difference)) if abs(s.difference) >= tie_tolerance]
    without = None
    if len(sequences) > 1 and deciding:
        without = float(d[~members[deciding[0].name]].mean())
    return Comparison(
        tracker_a=tracker_a, tracker_b=tracker_b, metric=metric, units=units, sequences=sequences,
        mean_a=float(a.mean()), mean_b=float(b.mean()), mean_difference=float(d.mean()),
        interval=bootstrap_interval(d, labels if clusters else None, resamples, seed, level),
        level=level, resamples=resamples, seed=seed, tie_tolerance=tie_tolerance,
        wins=int(np.sum(seq_d >= tie_tolerance)), losses=int(np.sum(seq_d <= -tie_tolerance)),
        ties=int(np.sum(np.abs(seq_d) < tie_tolerance)), deciding=tuple(deciding[:DECIDING_COUNT]),
        mean_without_top=without)


def compare_evaluation(evaluation: "Evaluation", tracker_a: str, tracker_b: str, metric: str = "auc",
                       segments: bool | None = None, **bootstrap: float) -> Comparison:
    """:func:`compare_scores` on two trackers of an :class:`~evaluation.analysis.evaluate.Evaluation`
    (their per-sequence metrics, runs averaged, on the sequences all trackers have results for).

    ``segments=True`` (a TRE evaluation): units are clustered by :func:`sequence_of`; ``None`` (default):
    when some evaluated name is a segment's (``<sequence>@<frame>``, which only TRE makes). ``bootstrap``:
    ``resamples``, ``seed``, ``level``, ``tie_tolerance`` passed on.

    Raises:
        ValueError: a tracker not in the evaluation (the message lists them), the same tracker twice,
            or an unknown metric.
    """
    require_trackers([tracker_a, tracker_b], evaluation.trackers)
    if metric not in METRIC_VALUES:
        raise ValueError(f"unknown metric {metric!r}: one of {', '.join(METRIC_VALUES)}")
    value = METRIC_VALUES[metric]
    names = evaluation.sequences.names()
    clusters = {n: sequence_of(n) for n in names}
    if not (segments or (segments is None and any(n != s for n, s in clusters.items()))):
        clusters = None
    return compare_scores({n: value(evaluation.metrics[tracker_a][n]) for n in names},
                          {n: value(evaluation.metrics[tracker_b][n]) for n in names},
                          tracker_a, tracker_b, metric, clusters, **bootstrap)  # type: ignore[arg-type]
