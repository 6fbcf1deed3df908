"""Per-frame online state of live trackers, aligned with the per-frame IoU, for the analysis.

A results source's ``state_for(sequence)`` (a live :class:`evaluation.tracker.Tracker`: the file
``<seq>_state.csv``, columns ``frame`` and :data:`evaluation.results.STATE_KEYS`) gives, per frame, the
confidences (``peak``, ``psr``, ``jcpp``, ``apce``) and whether online training ran (``trained``).
Sources without per-frame state (``state_for`` gives ``None``) have no state there.

Frames used for confidences: every frame except the first (the initialisation, IoU 1 by construction)
and those without valid ground truth; a frame without a value for a confidence is left out of that
confidence only. ``trained`` counts over every frame except the first.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

import numpy as np

from evaluation.analysis.confidence import CONFIDENCE_KEYS
from evaluation.analysis.evaluate import Evaluation
from evaluation.analysis.metrics import frame_ious
from evaluation.data import Sequence
from evaluation.sources import ResultsSource


@dataclass
class RunStates:
    """One run on one sequence: ``iou`` and each confidence in ``confidences`` are ``(M,)`` arrays over
    the frames used (see the module doc; NaN where a frame has no value); ``trained_fraction`` is the
    fraction of frames after the first with ``trained`` = 1, ``None`` without a ``trained`` column."""

    iou: np.ndarray
    confidences: dict[str, np.ndarray] = field(default_factory=dict)
    trained_fraction: float | None = None


def run_states(source: ResultsSource, sequence: Sequence) -> RunStates | None:
    """The state of ``source`` on ``sequence`` aligned with its IoU, or ``None`` without a state file.

    Rows are placed by their ``frame`` column (0-based); frames without a row have no values.
    """
    state = source.state_for(sequence)
    if not state or "frame" not in state:
        return None
    boxes, has_prediction = source.aligned_results_for(sequence)
    ious, valid = frame_ious(boxes, sequence.ground_truth_rect, has_prediction,
                              source=f"{source.display_name}: {sequence.name}")
    n = len(ious)
    frames = state["frame"]
    rows = np.flatnonzero(np.isfinite(frames) & (frames >= 0) & (frames < n))
    index = frames[rows].astype(int)

    def per_frame(key: str) -> np.ndarray:
        values = np.full(n, np.nan)
        values[index] = state[key][rows]
        return values

    used = valid.copy()
    used[:1] = False
    confidences = {key: per_frame(key)[used] for key in CONFIDENCE_KEYS if key in state}
    trained_fraction = None
    if "trained" in state:
        trained = per_frame("trained")[1:]
        trained = trained[np.isfinite(trained)]
        trained_fraction = float((trained > 0).mean()) if len(trained) else None
    return RunStates(ious[used], confidences, trained_fraction)


@dataclass
class TrackerStates:
    """The states of one report entry (a tracker, its runs): ``runs[sequence name]`` lists the runs that
    have a state file on that sequence."""

    runs: dict[str, list[RunStates]]

    def has_confidences(self) -> bool:
        return any(r.confidences for rs in self.runs.values() for r in rs)

    def confidence_keys(self) -> list[str]:
        """Confidences with at least one value, in :data:`CONFIDENCE_KEYS` order."""
        present = {k for rs in self.runs.values() for r in rs for k, v in r.confidences.items()
                   if np.isfinite(v).any()}
        return [k for k in CONFIDENCE_KEYS if k in present]

    def pooled(self, key: str, names: Iterable[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """``(confidence, iou)`` over all frames of all runs (of sequences ``names``, default all) that
        have a value of ``key``."""
        values, ious = [np.zeros(0)], [np.zeros(0)]
        for name in self.runs if names is None else names:
            for run in self.runs.get(name, []):
                if key in run.confidences:
                    keep = np.isfinite(run.confidences[key])
                    values.append(run.confidences[key][keep])
                    ious.append(run.iou[keep])
        return np.concatenate(values), np.concatenate(ious)

    def trained_fraction(self, name: str) -> float | None:
        """Fraction of frames trained on sequence ``name``, mean over its runs (``None`` when unknown)."""
        values = [r.trained_fraction for r in self.runs.get(name, []) if r.trained_fraction is not None]
        return float(np.mean(values)) if values else None

    def mean_trained_fraction(self, names: Iterable[str]) -> float | None:
        """Mean over the sequences ``names`` that have a ``trained`` column (each sequence weighs the same,
        like AUC); ``None`` when none has."""
        values = [v for v in (self.trained_fraction(n) for n in names) if v is not None]
        return float(np.mean(values)) if values else None


def collect_states(evaluation: Evaluation) -> dict[str, TrackerStates]:
    """States of every report entry (``evaluation.entries``) that has any, keyed by display name, on the
    evaluated sequences."""
    out: dict[str, TrackerStates] = {}
    for entry in evaluation.entries:
        runs: dict[str, list[RunStates]] = {}
        for sequence in evaluation.sequences:
            found = [s for s in (run_states(source, sequence) for source in entry.runs) if s is not None]
            if found:
                runs[sequence.name] = found
        if runs:
            out[entry.display_name] = TrackerStates(runs)
    return out
