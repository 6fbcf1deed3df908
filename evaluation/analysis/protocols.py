"""Benchmark protocols beside OTB's one-pass evaluation: GOT-10k's AO/SR and LaSOT's success/precision.

All boxes are ``(N, 4)`` float arrays ``[x, y, w, h]``, 0-based pixels, one row per frame.

GOT-10k (the GOT-10k toolkit's ``ExperimentGOT10k``, which the evaluation server follows):

- per run, the IoU of every frame **after the first** whose target is visible (``cover > 0``;
  absent frames are excluded), with predicted and ground-truth boxes first clipped to the image
  (``resolution`` of ``meta_info.ini``) as the toolkit does; no zero-size or missing-box rule;
- a sequence's IoUs are those of all its runs (3 for a non-deterministic tracker) concatenated;
- **AO** = mean IoU, **SR0.50** / **SR0.75** = fraction of IoUs above 0.5 / 0.75, and the success
  curve on 101 thresholds ``0, 0.01, ..., 1``, all over the frames of all sequences pooled (the
  toolkit's "overall"); per sequence the same over its own frames.

LaSOT (its toolkit, as pytracking computes it with ``exclude_invalid_frames=False``):

- frame 0 counts with the ground truth; a predicted box with zero width or height takes the
  previous prediction;
- a frame is *valid* when its ground truth has positive width and height, lies at 1-based
  ``x, y > 0`` (0-based ``> -1``) and the target is visible (neither fully occluded nor out of view);
- every frame counts in the denominator: an invalid frame fails at every IoU threshold and, when
  the target is not visible, at every centre-error threshold (a visible frame with an unusable box
  counts as a success of the normalised precision, a quirk kept to match published numbers);
- success (21 thresholds, IoU ``>``), precision (0..50 px, ``<=``, read at 20) and normalised
  precision (0..0.5, ``<=``, read at 0.20), averaged over sequences (:func:`metrics.summarize`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping

import numpy as np

from evaluation.analysis.metrics import (NORM_PRECISION_THRESHOLDS, PRECISION_THRESHOLDS, SequenceMetrics,
                                         average_metrics, check_prediction_rows, precision_curve, success_curve,
                                         summarize)
from evaluation.data import Sequence
from evaluation.datasets.got10k import got10k_resolution
from evaluation.sources import ResultsSource, as_source
from pytracking_siamot.boxes import center_error_xywh, iou_xywh, normalized_center_error_xywh

#: IoU thresholds of GOT-10k's success curve (101 values, strict ``>``).
GOT10K_THRESHOLDS = np.linspace(0.0, 1.0, 101)


def _clip_to_image(boxes_xywh: np.ndarray, bound_wh: tuple[float, float]) -> np.ndarray:
    """The GOT-10k toolkit's bound: ``x`` in ``[0, W]``, ``w`` in ``[0, W - x]`` (same for y, h)."""
    out = np.array(boxes_xywh, dtype=np.float64, copy=True)
    width, height = bound_wh
    out[:, 0] = np.clip(out[:, 0], 0, width)
    out[:, 1] = np.clip(out[:, 1], 0, height)
    out[:, 2] = np.clip(out[:, 2], 0, width - out[:, 0])
    out[:, 3] = np.clip(out[:, 3], 0, height - out[:, 1])
    return out


def got10k_frame_ious(pred_xywh: np.ndarray, gt_xywh: np.ndarray, visible: np.ndarray | None = None,
                      bound_wh: tuple[float, float] | None = None, source: str = "predictions") -> np.ndarray:
    """IoUs of one run counted by GOT-10k: frames ``1..N-1`` where ``visible`` (all when None).

    Args:
        pred_xywh, gt_xywh: ``(N, 4)``.
        visible: ``(N,)`` bool, ``cover > 0``.
        bound_wh: image ``(width, height)``; boxes are clipped to it first (no clipping when None).
        source: names the results file in errors.

    Raises:
        ValueError: shapes differ, or a prediction has NaN or a negative size (file and row named).
    """
    pred = check_prediction_rows(pred_xywh, source)
    gt = np.asarray(gt_xywh, dtype=np.float64)
    if pred.shape != gt.shape:
        raise ValueError(f"{source}: {pred.shape[0]} predictions for {gt.shape[0]} ground-truth frames")
    keep = np.ones(len(gt), dtype=bool) if visible is None else np.asarray(visible, dtype=bool).copy()
    keep[0] = False
    pred, gt = pred[keep], gt[keep]
    if bound_wh is not None:
        pred, gt = _clip_to_image(pred, bound_wh), _clip_to_image(gt, bound_wh)
    return iou_xywh(pred, gt)


@dataclass(frozen=True)
class GOT10kScores:
    """GOT-10k's scores over a set of IoUs: ``ao``, ``sr50``, ``sr75`` (fractions in [0, 1]), the
    101-point ``success`` curve on :data:`GOT10K_THRESHOLDS` and the ``n_frames`` counted."""

    ao: float
    sr50: float
    sr75: float
    success: np.ndarray
    n_frames: int


def got10k_scores(ious: np.ndarray | list[np.ndarray]) -> GOT10kScores:
    """AO, SR0.50, SR0.75 and the success curve of ``ious`` (one array, or one per sequence: pooled).

    Raises:
        ValueError: no frame to score.
    """
    pooled = np.concatenate([np.ravel(i) for i in ious]) if isinstance(ious, list) else np.ravel(ious)
    if pooled.size == 0:
        raise ValueError("no visible frame to score (GOT-10k counts frames after the first with cover > 0)")
    return GOT10kScores(ao=float(np.mean(pooled)), sr50=float(np.mean(pooled > 0.5)),
                        sr75=float(np.mean(pooled > 0.75)),
                        success=np.mean(pooled[:, None] > GOT10K_THRESHOLDS[None, :], axis=0),
                        n_frames=int(pooled.size))


def lasot_sequence_metrics(pred_xywh: np.ndarray, gt_xywh: np.ndarray, visible: np.ndarray | None,
                           source: str = "predictions") -> SequenceMetrics:
    """The curves of one run on one LaSOT sequence by LaSOT's protocol (module docstring).

    Predictions longer than the ground truth are cut to it (some published LaSOT results are).

    Raises:
        ValueError: fewer predictions than frames, NaN or a negative size in a prediction (file, row).
    """
    gt = np.asarray(gt_xywh, dtype=np.float64)
    pred = check_prediction_rows(pred_xywh, source)
    if pred.shape[0] < gt.shape[0]:
        raise ValueError(f"{source}: {pred.shape[0]} predictions for {gt.shape[0]} ground-truth frames")
    boxes = pred[:gt.shape[0]].copy()
    gt_has_box = ~np.isnan(gt).any(axis=1)
    for i in range(1, len(boxes)):
        if (boxes[i, 2:] == 0).any() and gt_has_box[i]:
            boxes[i] = boxes[i - 1]
    boxes[0] = gt[0]
    shown = np.ones(len(gt), dtype=bool) if visible is None else np.asarray(visible, dtype=bool)
    with np.errstate(invalid="ignore"):
        valid = (gt[:, 0] > -1) & (gt[:, 1] > -1) & (gt[:, 2] > 0) & (gt[:, 3] > 0) & shown
    ious = np.full(len(gt), -1.0)
    errors = np.full(len(gt), np.inf)
    norm_errors = np.full(len(gt), -1.0)
    ious[valid] = iou_xywh(boxes[valid], gt[valid])
    errors[valid] = center_error_xywh(boxes[valid], gt[valid])
    norm_errors[valid] = normalized_center_error_xywh(boxes[valid], gt[valid])
    errors[~shown] = np.inf
    norm_errors[~shown] = np.inf
    return SequenceMetrics(success=success_curve(ious), precision=precision_curve(errors, PRECISION_THRESHOLDS),
                           norm_precision=precision_curve(norm_errors, NORM_PRECISION_THRESHOLDS),
                           n_frames=int(len(gt)))


# --------------------------------------------------------------------------- a benchmark's own table

#: ``Sequence.dataset`` -> the protocol its benchmark scores with.
PROTOCOL_OF_DATASET: dict[str, str] = {"got10k_val": "got10k", "lasot": "lasot", "lasot_ext": "lasot"}


def protocol_for(sequences: Iterable[Sequence]) -> str | None:
    """``got10k`` or ``lasot`` when every sequence comes from such a benchmark, else None (OPE only)."""
    found = {PROTOCOL_OF_DATASET.get(s.dataset) for s in sequences}
    return found.pop() if len(found) == 1 else None


def _run_boxes(source: ResultsSource, sequence: Sequence) -> np.ndarray:
    """A run's ``(N, 4)`` boxes with frames it has no prediction for as zero boxes (failures)."""
    aligned = source.aligned_results_for(sequence)
    return np.where(aligned.has_prediction[:, None], aligned.boxes, 0.0)


def protocol_table(protocol: str, entries: Mapping[str, list[ResultsSource]],
                   sequences: Iterable[Sequence]) -> tuple[list[str], list[list[object]]]:
    """``(headers, rows)`` of a benchmark's own table, one row per entry (a label and its runs).

    ``got10k``: AO, SR0.50, SR0.75 (fractions; runs pooled per sequence, frames pooled overall);
    ``lasot``: AUC, precision, normalised precision (fractions; runs averaged per sequence).
    """
    sequences = list(sequences)
    rows: list[list[object]] = []
    for label, runs in entries.items():
        if protocol == "got10k":
            ious = [np.concatenate([got10k_frame_ious(_run_boxes(r, s), s.ground_truth_rect, s.target_visible,
                                                      got10k_resolution(s), source=f"{label} on {s.name}")
                                    for r in runs]) for s in sequences]
            scores = got10k_scores(ious)
            rows.append([label, scores.ao, scores.sr50, scores.sr75, len(sequences)])
        elif protocol == "lasot":
            per_sequence = [average_metrics([lasot_sequence_metrics(_run_boxes(r, s), s.ground_truth_rect,
                                                                    s.target_visible, f"{label} on {s.name}")
                                             for r in runs]) for s in sequences]
            scores = summarize(per_sequence)
            rows.append([label, scores.auc, scores.precision, scores.norm_precision, len(sequences)])
        else:
            raise ValueError(f"unknown protocol {protocol!r} (got10k, lasot)")
    headers = (["Tracker", "AO", "SR0.50", "SR0.75", "Sequences"] if protocol == "got10k"
               else ["Tracker", "AUC", "Precision", "Norm. precision", "Sequences"])
    return headers, rows


def format_protocol_table(protocol: str, headers: list[str], rows: list[list[object]]) -> str:
    """The table as aligned text under a title naming the protocol (scores with 3 decimals, as the OPE table)."""
    title = {"got10k": "GOT-10k protocol (absent frames excluded)",
             "lasot": "LaSOT protocol (fully occluded / out-of-view frames count as failures)"}[protocol]
    cells = [headers] + [[r[0]] + [f"{v:.3f}" if isinstance(v, float) else str(v) for v in r[1:]] for r in rows]
    widths = [max(len(str(row[i])) for row in cells) for i in range(len(headers))]

    def line(row: list[object]) -> str:
        return "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(row, widths)))

    return "\n".join([title, line(cells[0]), line(["-" * w for w in widths])] + [line(r) for r in cells[1:]]) + "\n"


def protocol_report(sources: Iterable[object], sequences: Iterable[Sequence]) -> str | None:
    """The benchmark's own table as text when ``sequences`` are GOT-10k val or LaSOT ones, else None.

    ``sources``: results sources (or objects with ``display_name`` and ``results_for``). Runs of one
    configuration (``run_group``) form one row; sequences some source has no results for are left out
    (as the OPE report leaves them out, with its warning).
    """
    sequences = list(sequences)
    protocol = protocol_for(sequences)
    if protocol is None:
        return None
    entries: dict[str, list[ResultsSource]] = {}
    for source in map(as_source, sources):
        entries.setdefault(source.run_group() or source.display_name, []).append(source)

    def covered(sequence: Sequence) -> bool:
        try:
            return all(r.aligned_results_for(sequence).has_prediction.any() for runs in entries.values() for r in runs)
        except (OSError, ValueError):
            return False

    kept = [s for s in sequences if covered(s)]
    if not kept:
        return None
    return format_protocol_table(protocol, *protocol_table(protocol, entries, kept))
