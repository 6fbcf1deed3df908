"""OPE metrics of one tracker on one sequence: pure functions on box arrays.

Definitions (pytracking's and the OTB toolkit's, see ``../shared/reference/pytracking_contract.md``):

- success curve: fraction of frames with IoU **strictly greater** than each of the 21 thresholds
  ``0, 0.05, ..., 1``; **AUC** = mean of the curve; OP50 / OP75 = fraction with IoU > 0.5 / 0.75.
- precision curve: fraction of frames with centre error (OTB centre ``x + (w - 1) / 2``) **<=** each
  threshold ``0, 1, ..., 50`` px; **precision** = value at 20 px.
- normalised precision: centre offset divided by the ground-truth size per axis, curve on
  ``0, 0.01, ..., 0.5``; value at 0.20.

Frame handling:

- the first frame counts with the ground-truth box (the tracker was initialised with it);
- a zero-size predicted box (``w * h == 0``) is replaced by the previous prediction;
- NaN or negative sizes in predictions are errors naming the file and row;
- ground-truth rows with NaN or a width/height <= 0 are invalid frames, excluded from every metric;
- frames without a prediction (``has_prediction`` False: results shorter than the sequence, published
  results that start later or mark a lost target with NaN) count as failures: IoU 0 and an infinite
  centre error, as the OTB toolkit counts them.

All boxes are ``(N, 4)`` float arrays ``[x, y, w, h]``, 0-based pixels.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from pytracking_siamot.boxes import center_error_xywh, iou_xywh, normalized_center_error_xywh, valid_gt_mask

#: IoU thresholds of the success curve (21 values, strict ``>``).
SUCCESS_THRESHOLDS = np.linspace(0.0, 1.0, 21)
#: Centre-error thresholds (pixels) of the precision curve (``<=``).
PRECISION_THRESHOLDS = np.arange(0, 51, dtype=np.float64)
#: Normalised centre-error thresholds of the normalised-precision curve (``<=``).
NORM_PRECISION_THRESHOLDS = np.linspace(0.0, 0.5, 51)
#: Where the scalar scores are read from their curves.
PRECISION_AT_PX = 20.0
NORM_PRECISION_AT = 0.20


def check_prediction_rows(pred_xywh: np.ndarray, source: str) -> np.ndarray:
    """Return ``pred_xywh`` as float64 ``(N, 4)``; raise ``ValueError`` on NaN/inf or negative sizes.

    ``source`` names the results file; the message gives the 1-based row of the first bad box.
    """
    pred = np.asarray(pred_xywh, dtype=np.float64)
    if pred.ndim != 2 or pred.shape[1] != 4:
        raise ValueError(f"{source}: predictions must be (N, 4) [x, y, w, h], got shape {pred.shape}")
    bad_value = ~np.all(np.isfinite(pred), axis=1)
    if bad_value.any():
        row = int(np.flatnonzero(bad_value)[0])
        raise ValueError(f"{source}: row {row + 1}: NaN or inf in predicted box {pred[row].tolist()}")
    bad_size = np.any(pred[:, 2:] < 0, axis=1)
    if bad_size.any():
        row = int(np.flatnonzero(bad_size)[0])
        raise ValueError(f"{source}: row {row + 1}: negative width/height in predicted box {pred[row].tolist()}")
    return pred


def fill_predictions(pred_xywh: np.ndarray, gt_xywh: np.ndarray,
                     has_prediction: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Apply the frame rules: first frame = ground truth, zero-size box -> previous prediction.

    Args:
        pred_xywh: ``(N, 4)`` checked predictions, one per frame (rows of missing frames are ignored).
        gt_xywh: ``(N, 4)`` ground truth.
        has_prediction: ``(N,)`` bool, False for frames without a prediction; all True when None.

    Returns:
        ``(boxes (N, 4), has_prediction (N,))`` with frame 0 set to the ground truth.
    """
    boxes = np.array(pred_xywh, dtype=np.float64, copy=True)
    n = len(boxes)
    present = np.ones(n, dtype=bool) if has_prediction is None else np.array(has_prediction, dtype=bool)
    if n == 0:
        return boxes, present
    boxes[0] = gt_xywh[0]
    present[0] = True
    previous = boxes[0]
    for i in range(1, n):
        if not present[i]:
            continue
        if boxes[i, 2] * boxes[i, 3] == 0:
            boxes[i] = previous
        previous = boxes[i]
    return boxes, present


def success_curve(ious: np.ndarray, thresholds: np.ndarray = SUCCESS_THRESHOLDS) -> np.ndarray:
    """Fraction of frames with IoU strictly greater than each threshold."""
    ious = np.asarray(ious, dtype=np.float64).reshape(-1, 1)
    return np.mean(ious > thresholds[None, :], axis=0)


def precision_curve(errors: np.ndarray, thresholds: np.ndarray = PRECISION_THRESHOLDS) -> np.ndarray:
    """Fraction of frames with a centre error at most each threshold."""
    errors = np.asarray(errors, dtype=np.float64).reshape(-1, 1)
    return np.mean(errors <= thresholds[None, :], axis=0)


def curve_value_at(curve: np.ndarray, thresholds: np.ndarray, at: float) -> float:
    """The curve's value at threshold ``at`` (which must be one of ``thresholds``)."""
    index = int(np.argmin(np.abs(thresholds - at)))
    if not np.isclose(thresholds[index], at):
        raise ValueError(f"threshold {at} is not on the curve's grid")
    return float(curve[index])


@dataclass
class SequenceMetrics:
    """Metrics of one tracker (averaged over its runs) on one sequence.

    Curves are fractions in [0, 1] on ``SUCCESS_THRESHOLDS``, ``PRECISION_THRESHOLDS`` and
    ``NORM_PRECISION_THRESHOLDS``. ``n_frames`` counts frames with valid ground truth;
    ``n_missing`` those among them without a prediction. ``time_s`` is the summed tracking time
    and ``timed_frames`` the frames it covers (both 0 when no times are known).
    """

    success: np.ndarray
    precision: np.ndarray
    norm_precision: np.ndarray
    n_frames: int
    n_missing: int = 0
    time_s: float = 0.0
    timed_frames: int = 0

    @property
    def auc(self) -> float:
        return float(np.mean(self.success))

    def to_json(self) -> dict[str, object]:
        data = asdict(self)
        for key in ("success", "precision", "norm_precision"):
            data[key] = [float(v) for v in data[key]]
        return data

    @classmethod
    def from_json(cls, data: dict[str, object]) -> "SequenceMetrics":
        values = dict(data)
        for key in ("success", "precision", "norm_precision"):
            values[key] = np.asarray(values[key], dtype=np.float64)
        return cls(**values)  # type: ignore[arg-type]


def evaluate_sequence(pred_xywh: np.ndarray, gt_xywh: np.ndarray, has_prediction: np.ndarray | None = None,
                      source: str = "predictions") -> SequenceMetrics:
    """All curves of one run on one sequence.

    Args:
        pred_xywh: ``(N, 4)`` predictions aligned with the ground truth (one row per frame).
        gt_xywh: ``(N, 4)`` ground truth.
        has_prediction: ``(N,)`` bool, False where a frame has no prediction (its row is ignored).
        source: names the results file in error messages.

    Raises:
        ValueError: shapes differ, a present prediction has NaN or a negative size (file and row
            named), or the sequence has no frame with valid ground truth.
    """
    boxes, gt, present, valid = _apply_frame_rules(pred_xywh, gt_xywh, has_prediction, source)
    if not valid.any():
        raise ValueError(f"{source}: the sequence has no frame with a valid ground-truth box")
    boxes, gt_valid, present = boxes[valid], gt[valid], present[valid]
    ious = np.where(present, iou_xywh(boxes, gt_valid), 0.0)
    errors = np.where(present, center_error_xywh(boxes, gt_valid), np.inf)
    norm_errors = np.where(present, normalized_center_error_xywh(boxes, gt_valid), np.inf)
    return SequenceMetrics(success=success_curve(ious), precision=precision_curve(errors),
                           norm_precision=precision_curve(norm_errors, NORM_PRECISION_THRESHOLDS),
                           n_frames=int(valid.sum()), n_missing=int((~present).sum()))


def _apply_frame_rules(pred_xywh: np.ndarray, gt_xywh: np.ndarray, has_prediction: np.ndarray | None,
                       source: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(boxes, gt, has_prediction, valid_gt)`` of all N frames after the module's frame rules."""
    gt = np.asarray(gt_xywh, dtype=np.float64)
    pred = np.asarray(pred_xywh, dtype=np.float64)
    if pred.shape != gt.shape:
        raise ValueError(f"{source}: {pred.shape[0]} predictions for {gt.shape[0]} ground-truth frames")
    present = np.ones(len(gt), dtype=bool) if has_prediction is None else np.asarray(has_prediction, dtype=bool)
    checked = pred.copy()
    checked[~present] = 1.0  # placeholder boxes, never used
    check_prediction_rows(checked, source)
    boxes, present = fill_predictions(checked, gt, present)
    return boxes, gt, present, valid_gt_mask(gt)


def frame_ious(pred_xywh: np.ndarray, gt_xywh: np.ndarray, has_prediction: np.ndarray | None = None,
               source: str = "predictions") -> tuple[np.ndarray, np.ndarray]:
    """Per-frame IoU under the module's frame rules, as the success curve counts it.

    Returns:
        ``(ious (N,), valid (N,))``: IoU of every frame (0 for a frame without a prediction; frame 0
        is the ground truth, IoU 1) and the mask of frames with valid ground truth (the others' IoU
        is NaN and they count nowhere).

    Raises:
        ValueError: as :func:`evaluate_sequence` for bad predictions.
    """
    boxes, gt, present, valid = _apply_frame_rules(pred_xywh, gt_xywh, has_prediction, source)
    ious = np.full(len(gt), np.nan)
    ious[valid] = np.where(present[valid], iou_xywh(boxes[valid], gt[valid]), 0.0)
    return ious, valid


def average_metrics(runs: list[SequenceMetrics]) -> SequenceMetrics:
    """Average the curves of several runs on the same sequence; times are summed over runs."""
    if not runs:
        raise ValueError("no runs to average")
    return SequenceMetrics(
        success=np.mean([r.success for r in runs], axis=0),
        precision=np.mean([r.precision for r in runs], axis=0),
        norm_precision=np.mean([r.norm_precision for r in runs], axis=0),
        n_frames=runs[0].n_frames,
        n_missing=int(round(float(np.mean([r.n_missing for r in runs])))),
        time_s=float(sum(r.time_s for r in runs)),
        timed_frames=int(sum(r.timed_frames for r in runs)))


@dataclass(frozen=True)
class Scores:
    """Scalar scores of one tracker over a set of sequences (fractions in [0, 1]; FPS or None)."""

    auc: float
    op50: float
    op75: float
    precision: float
    norm_precision: float
    fps: float | None
    n_sequences: int


@dataclass(frozen=True)
class Curves:
    """Sequence-averaged curves (on the module's threshold grids)."""

    success: np.ndarray
    precision: np.ndarray
    norm_precision: np.ndarray


def average_curves(per_sequence: list[SequenceMetrics]) -> Curves:
    """Mean over sequences (each sequence weighs the same, as in the OTB toolkit and pytracking)."""
    if not per_sequence:
        raise ValueError("no sequences to average")
    return Curves(success=np.mean([m.success for m in per_sequence], axis=0),
                  precision=np.mean([m.precision for m in per_sequence], axis=0),
                  norm_precision=np.mean([m.norm_precision for m in per_sequence], axis=0))


def summarize(per_sequence: list[SequenceMetrics]) -> Scores:
    """AUC, OP50, OP75, precision@20px, normalised precision@0.2 and FPS over ``per_sequence``.

    FPS = all timed frames / all their time (None when no times are known).
    """
    curves = average_curves(per_sequence)
    time_s = sum(m.time_s for m in per_sequence)
    frames = sum(m.timed_frames for m in per_sequence)
    return Scores(auc=float(np.mean(curves.success)),
                  op50=curve_value_at(curves.success, SUCCESS_THRESHOLDS, 0.5),
                  op75=curve_value_at(curves.success, SUCCESS_THRESHOLDS, 0.75),
                  precision=curve_value_at(curves.precision, PRECISION_THRESHOLDS, PRECISION_AT_PX),
                  norm_precision=curve_value_at(curves.norm_precision, NORM_PRECISION_THRESHOLDS,
                                                NORM_PRECISION_AT),
                  fps=(frames / time_s) if time_s > 0 else None,
                  n_sequences=len(per_sequence))
