"""The OPE metrics: definitions from the contract, frame rules, and equality with the got10k toolkit."""
from __future__ import annotations

import numpy as np
import pytest

from evaluation.analysis.metrics import (NORM_PRECISION_THRESHOLDS, PRECISION_THRESHOLDS, SUCCESS_THRESHOLDS,
                                         SequenceMetrics, average_metrics, check_prediction_rows, evaluate_sequence,
                                         fill_predictions, precision_curve, success_curve, summarize,
                                         valid_gt_mask)
from pytracking_siamot.boxes import center_error_xywh, iou_xywh, normalized_center_error_xywh


def random_boxes(rng: np.random.Generator, n: int) -> np.ndarray:
    xy = rng.uniform(0, 300, size=(n, 2))
    wh = rng.uniform(5, 120, size=(n, 2))
    return np.concatenate([xy, wh], axis=1)


def jitter(rng: np.random.Generator, boxes: np.ndarray, scale: float) -> np.ndarray:
    out = boxes + rng.normal(0, scale, size=boxes.shape)
    out[:, 2:] = np.abs(out[:, 2:]) + 1.0
    return out


def test_threshold_grids() -> None:
    assert len(SUCCESS_THRESHOLDS) == 21 and SUCCESS_THRESHOLDS[0] == 0 and SUCCESS_THRESHOLDS[-1] == 1
    assert PRECISION_THRESHOLDS.tolist() == list(range(51))
    assert len(NORM_PRECISION_THRESHOLDS) == 51 and np.isclose(NORM_PRECISION_THRESHOLDS[20], 0.2)


def test_success_is_strictly_greater_and_precision_inclusive() -> None:
    curve = success_curve(np.array([0.5, 0.5]))
    assert curve[SUCCESS_THRESHOLDS.tolist().index(0.45)] == 1.0
    assert curve[10] == 0.0  # IoU 0.5 is not > 0.5
    assert success_curve(np.array([0.0]))[0] == 0.0  # IoU 0 fails even the 0 threshold
    assert precision_curve(np.array([20.0]))[20] == 1.0  # error 20 px counts at 20 px
    assert precision_curve(np.array([20.0]))[19] == 0.0


def test_hand_computed_sequence() -> None:
    gt = np.array([[0, 0, 10, 10], [0, 0, 10, 10], [0, 0, 10, 10], [0, 0, 10, 10]], dtype=float)
    pred = np.array([[50, 50, 3, 3],      # frame 0: replaced by the ground truth -> IoU 1
                     [0, 0, 10, 10],      # IoU 1, error 0
                     [5, 0, 10, 10],      # IoU 50/150 = 1/3, error 5
                     [30, 0, 10, 10]],    # IoU 0, error 30
                    dtype=float)
    m = evaluate_sequence(pred, gt)
    ious = np.array([1, 1, 1 / 3, 0])
    assert np.allclose(m.success, [(ious > t).mean() for t in SUCCESS_THRESHOLDS])
    assert np.isclose(m.auc, np.mean(m.success))
    assert m.precision[4] == 0.5 and m.precision[5] == 0.75 and m.precision[30] == 1.0
    # normalised: offsets 0, 0, 0.5, 3.0 (GT 10 px wide)
    assert m.norm_precision[20] == 0.5 and m.norm_precision[50] == 0.75
    scores = summarize([m])
    assert np.isclose(scores.op50, 0.5) and np.isclose(scores.op75, 0.5)
    assert scores.precision == 0.75 and scores.norm_precision == 0.5 and scores.fps is None


def test_zero_size_prediction_takes_previous_box() -> None:
    gt = np.tile([10.0, 10.0, 20.0, 20.0], (3, 1))
    pred = np.array([[0, 0, 1, 1], [10, 10, 20, 20], [99, 99, 0, 0]], dtype=float)
    boxes, present = fill_predictions(pred, gt)
    assert boxes[2].tolist() == [10, 10, 20, 20] and present.all()
    assert evaluate_sequence(pred, gt).success[-2] == 1.0


@pytest.mark.parametrize("bad, what", [([1, 2, np.nan, 4], "NaN"), ([1, 2, -3, 4], "negative")])
def test_bad_prediction_names_file_and_row(bad: list[float], what: str) -> None:
    pred = np.tile([1.0, 2.0, 3.0, 4.0], (5, 1))
    pred[3] = bad
    with pytest.raises(ValueError, match=rf"results/seq\.txt: row 4: {what}"):
        check_prediction_rows(pred, "results/seq.txt")
    with pytest.raises(ValueError, match="row 4"):
        evaluate_sequence(pred, pred.copy(), source="results/seq.txt")


def test_invalid_ground_truth_frames_are_excluded() -> None:
    gt = np.array([[0, 0, 10, 10], [0, 0, 0, 10], [np.nan] * 4, [0, 0, 10, 10], [-5, -5, 10, 10]], dtype=float)
    assert valid_gt_mask(gt).tolist() == [True, False, False, True, True]
    pred = np.tile([0.0, 0.0, 10.0, 10.0], (5, 1))
    pred[1] = [200, 200, 5, 5]
    m = evaluate_sequence(pred, gt)
    assert m.n_frames == 3
    assert m.success[-2] == pytest.approx(2 / 3)  # frame 4 misses (-5 offset), frame 1 not counted


def test_missing_frames_count_as_failures() -> None:
    gt = np.tile([0.0, 0.0, 10.0, 10.0], (4, 1))
    pred = gt.copy()
    pred[2:] = np.nan
    m = evaluate_sequence(pred, gt, has_prediction=np.array([True, True, False, False]))
    assert m.n_missing == 2
    assert m.success[0] == 0.5 and m.precision[-1] == 0.5 and m.norm_precision[-1] == 0.5


def test_shape_mismatch_is_an_error() -> None:
    with pytest.raises(ValueError, match="3 predictions for 4"):
        evaluate_sequence(np.ones((3, 4)), np.ones((4, 4)), source="x.txt")


def test_average_metrics_and_json_roundtrip() -> None:
    rng = np.random.default_rng(0)
    gt = random_boxes(rng, 30)
    a = evaluate_sequence(jitter(rng, gt, 3), gt)
    b = evaluate_sequence(jitter(rng, gt, 10), gt)
    mean = average_metrics([a, b])
    assert np.allclose(mean.success, (a.success + b.success) / 2)
    again = SequenceMetrics.from_json(mean.to_json())
    assert np.array_equal(again.success, mean.success) and again.n_frames == 30


def test_fps_is_frames_over_time() -> None:
    gt = np.tile([0.0, 0.0, 10.0, 10.0], (4, 1))
    m1, m2 = evaluate_sequence(gt, gt), evaluate_sequence(gt, gt)
    m1.time_s, m1.timed_frames = 1.0, 4
    m2.time_s, m2.timed_frames = 3.0, 4
    assert summarize([m1, m2]).fps == pytest.approx(2.0)


def test_box_errors_match_definitions() -> None:
    a = np.array([[0.0, 0.0, 11.0, 21.0]])  # centre (5, 10)
    b = np.array([[3.0, 4.0, 11.0, 21.0]])  # centre (8, 14)
    assert center_error_xywh(a, b)[0] == pytest.approx(5.0)
    assert normalized_center_error_xywh(b, a)[0] == pytest.approx(np.hypot(3 / 11, 4 / 21))


# -- the got10k toolkit computes the same OTB metrics ---------------------------------------------

def test_iou_and_center_error_equal_got10k() -> None:
    metrics = pytest.importorskip("got10k.utils.metrics")
    rng = np.random.default_rng(1)
    gt = random_boxes(rng, 500)
    pred = jitter(rng, gt, 15.0)
    assert np.allclose(iou_xywh(pred, gt), metrics.rect_iou(pred.copy(), gt.copy()), atol=1e-9)
    assert np.allclose(center_error_xywh(pred, gt), metrics.center_error(pred, gt))


def test_otb_scores_equal_got10k() -> None:
    pytest.importorskip("got10k")
    otb = pytest.importorskip("got10k.experiments.otb")
    from got10k.utils.metrics import center_error, rect_iou

    experiment = object.__new__(otb.ExperimentOTB)  # no dataset download: only its scoring is used
    experiment.nbins_iou, experiment.nbins_ce = 21, 51
    rng = np.random.default_rng(2)
    ours, succ_curves, prec_curves = [], [], []
    for n in (40, 75, 120):
        gt = random_boxes(rng, n)
        pred = jitter(rng, gt, float(rng.uniform(2, 40)))
        ours.append(evaluate_sequence(pred, gt))
        boxes = pred.copy()
        boxes[0] = gt[0]  # got10k's report also starts from the ground truth
        succ, prec = experiment._calc_curves(rect_iou(boxes, gt.copy()), center_error(boxes, gt))
        assert np.allclose(ours[-1].success, succ) and np.allclose(ours[-1].precision, prec)
        succ_curves.append(succ)
        prec_curves.append(prec)
    scores = summarize(ours)
    assert scores.auc == pytest.approx(np.mean(np.mean(succ_curves, axis=0)))
    assert scores.precision == pytest.approx(np.mean(prec_curves, axis=0)[20])
    assert scores.op50 == pytest.approx(np.mean(succ_curves, axis=0)[21 // 2])
