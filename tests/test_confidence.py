"""The confidence analysis (ROC AUC, gates, binned IoU), frames trained and the per-sequence tables."""
from __future__ import annotations

import math
import textwrap
from pathlib import Path

import numpy as np
import pytest

from evaluation.analysis.confidence import average_ranks, binned_iou, gate_stats, roc_auc
from evaluation.analysis.report import generate_report
from evaluation.boxes_io import write_boxes_txt
from evaluation.data import Sequence, SequenceList
from evaluation.results import format_state_csv
from evaluation.tracker import Tracker

# -- the maths ---------------------------------------------------------------------------------------


def test_roc_auc_perfect_constant_inverted() -> None:
    success = np.array([True, False, True, True, False, False, True])
    scores = np.where(success, 0.9, 0.2) + np.arange(7) * 1e-3
    assert roc_auc(scores, success).value == 1.0
    assert roc_auc(np.full(7, 0.4), success).value == 0.5  # all ties: counted half
    assert roc_auc(-scores, success).value == 0.0
    result = roc_auc(scores, success)
    assert (result.n_positive, result.n_negative, result.reason) == (4, 3, "")


def test_roc_auc_equals_the_pair_count_with_ties_half() -> None:
    rng = np.random.default_rng(3)
    scores = rng.integers(0, 5, size=60).astype(float)  # many ties
    success = rng.random(60) < 0.4
    pos, neg = scores[success], scores[~success]
    expected = (np.sum(pos[:, None] > neg[None, :]) + 0.5 * np.sum(pos[:, None] == neg[None, :])) / (len(pos) * len(neg))
    assert math.isclose(roc_auc(scores, success).value, expected, rel_tol=0, abs_tol=1e-12)
    np.testing.assert_allclose(average_ranks([3.0, 1.0, 3.0, 2.0]), [3.5, 1.0, 3.5, 2.0])


def test_roc_auc_undefined_with_one_class() -> None:
    result = roc_auc([0.1, 0.5, 0.9], [True, True, True])
    assert math.isnan(result.value) and result.reason == "only one class: all 3 frames are successes"
    assert roc_auc([0.1, 0.5], [False, False]).reason == "only one class: all 2 frames are failures"
    assert roc_auc([], []).reason == "no frames"
    with pytest.raises(ValueError, match="NaN"):
        roc_auc([0.1, np.nan], [True, False])
    with pytest.raises(ValueError, match="differ in length"):
        roc_auc([0.1, 0.2], [True])


def test_gate_stats_fraction_and_precision_above() -> None:
    scores = np.array([0.1, 0.5, 0.6, 0.7, 0.9])
    success = np.array([False, False, True, False, True])
    gate = gate_stats(scores, success, 0.5)  # strictly above: 0.6, 0.7, 0.9
    assert (gate.n_above, gate.fraction_above) == (3, 0.6)
    assert math.isclose(gate.precision_above, 2 / 3)
    none_above = gate_stats(scores, success, 1.0)
    assert none_above.fraction_above == 0.0 and math.isnan(none_above.precision_above)


def test_binned_iou_equal_count_bins() -> None:
    scores = np.arange(10, dtype=float)[::-1]
    ious = scores / 10
    bins = binned_iou(scores, ious, n_bins=5)
    assert bins.count.tolist() == [2] * 5
    np.testing.assert_allclose(bins.confidence, [0.5, 2.5, 4.5, 6.5, 8.5])
    np.testing.assert_allclose(bins.mean, [0.05, 0.25, 0.45, 0.65, 0.85])
    assert np.all(bins.q25 <= bins.mean) and np.all(bins.mean <= bins.q75)
    assert binned_iou(scores[:3], ious[:3], n_bins=10).count.tolist() == [1, 1, 1]


# -- the report on hand-made results -----------------------------------------------------------------

N_FRAMES = 21


def _dataset() -> SequenceList:
    sequences = []
    for i in range(3):
        xy = np.column_stack([np.arange(N_FRAMES) * 2.0 + 10 * i, np.full(N_FRAMES, 20.0)])
        gt = np.hstack([xy, np.full((N_FRAMES, 2), 30.0)])
        sequences.append(Sequence(f"seq{i}", [str(k) for k in range(N_FRAMES)], "toy", gt))
    return SequenceList(sequences)


def write_tracker_results(tracker: Tracker, dataset: SequenceList, with_state: bool = True) -> None:
    """Boxes on the target except on 'lost' frames (moved 100 px: IoU 0); the state says ``jcpp`` high
    exactly on the tracked frames, ``psr`` constant, ``peak`` inverted, training on every 4th frame."""
    for k, seq in enumerate(dataset):
        lost = (np.arange(N_FRAMES) % 3 == k) & (np.arange(N_FRAMES) > 0)
        boxes = seq.ground_truth_rect + np.where(lost[:, None], [100.0, 0, 0, 0], 0.0)
        write_boxes_txt(tracker.result_file(seq), boxes)
        if with_state:
            rows = [{"frame": i, "peak": 0.2 if not lost[i] else 0.8, "psr": 7.0, "jcpp": 0.9 if not lost[i] else 0.1,
                     "trained": int(i > 0 and i % 4 == 0)} for i in range(N_FRAMES)]
            tracker.state_file(seq).write_text(format_state_csv(rows) or "")


@pytest.fixture
def trackers() -> tuple[SequenceList, list[Tracker]]:
    dataset = _dataset()
    online = Tracker("fake", "online", display_name="online", check=False)
    plain = Tracker("fake", "plain", display_name="plain", check=False)
    write_tracker_results(online, dataset)
    write_tracker_results(plain, dataset, with_state=False)
    return dataset, [online, plain]


def _csv(path: Path) -> list[list[str]]:
    return [line.split(",") for line in path.read_text().splitlines()]


def test_report_confidence_table_and_plot(trackers, tmp_path: Path) -> None:
    dataset, sources = trackers
    output = generate_report(sources, dataset, "conf", tmp_path, attributes=False, gates={"jcpp": 0.5})
    report = tmp_path / "conf"
    rows = {r[1]: r for r in _csv(report / "confidence.csv")[1:]}
    assert _csv(report / "confidence.csv")[0] == ["Tracker", "Confidence", "Frames", "IoU>0.5", "ROC AUC",
                                                  "Threshold", "Above", "Precision above", "Note"]
    assert set(rows) == {"peak", "psr", "jcpp"}  # 'plain' has no state: no rows; no apce column: no row
    assert all(r[0] == "online" and r[2] == str(3 * (N_FRAMES - 1)) for r in rows.values())  # first frame out
    assert rows["jcpp"][4] == "1.000" and rows["psr"][4] == "0.500" and rows["peak"][4] == "0.000"
    # The given gate: jcpp > 0.5 keeps exactly the tracked frames (2 in 3), all successes.
    assert rows["jcpp"][5:8] == ["0.5", "0.667", "1.000"] and rows["jcpp"][8] == ""
    assert rows["psr"][8] == "threshold: median"
    assert output.confidence is not None and "ROC AUC" in output.confidence.to_text()
    for suffix in (".png", ".pdf", ".tex"):
        assert (report / f"confidence{suffix}") in output.plots
    assert (report / "confidence.md").read_text().startswith("### Confidence as a predictor")


def test_report_frames_trained_and_per_sequence_tables(trackers, tmp_path: Path) -> None:
    dataset, sources = trackers
    output = generate_report(sources, dataset, "seq", tmp_path, attributes=False, tikz=False)
    report = tmp_path / "seq"
    summary = _csv(report / "summary.csv")
    assert summary[0][-1] == "Trained %"
    trained = {r[0]: r[-1] for r in summary[1:]}
    assert trained == {"online": "25.0", "plain": "-"}  # frames 4, 8, 12, 16, 20 of the 20 after the first
    table = _csv(report / "per_sequence_auc.csv")
    assert table[0] == ["Sequence", "online", "plain"]  # the experiment's order, not sorted
    auc = {r[0]: r[1:] for r in table[1:]}
    evaluation = output.evaluation
    for name in ("seq0", "seq1", "seq2"):
        assert auc[name] == [f"{evaluation.metrics[t][name].auc:.3f}" for t in ("online", "plain")]
    assert auc["mean AUC"] == [f"{evaluation.scores()[t].auc:.3f}" for t in ("online", "plain")]
    assert auc["mean precision"] == [f"{evaluation.scores()[t].precision:.3f}" for t in ("online", "plain")]
    assert auc["% frames trained"] == ["25.0", "-"]
    per_seq_trained = {r[0]: r[1:] for r in _csv(report / "per_sequence_trained.csv")[1:]}
    assert per_seq_trained["seq0"] == ["25.0", "-"] and per_seq_trained["mean"] == ["25.0", "-"]


def test_report_without_states_skips_the_state_tables(trackers, tmp_path: Path) -> None:
    dataset, sources = trackers
    output = generate_report(sources[1:], dataset, "plain", tmp_path, attributes=False, tikz=False)
    report = tmp_path / "plain"
    assert output.confidence is None and len(output.per_sequence) == 1
    assert not (report / "confidence.csv").exists() and not (report / "confidence.png").exists()
    assert not (report / "per_sequence_trained.csv").exists()
    assert _csv(report / "summary.csv")[0][-1] == "FPS"
    assert _csv(report / "per_sequence_auc.csv")[-1] == ["% frames trained", "-"]


def test_only_one_class_gives_nan_with_the_reason(tmp_path: Path) -> None:
    dataset = _dataset()
    tracker = Tracker("fake", "perfect", check=False)
    for seq in dataset:
        write_boxes_txt(tracker.result_file(seq), seq.ground_truth_rect)
        tracker.state_file(seq).write_text(format_state_csv([{"frame": i, "jcpp": 0.5} for i in range(N_FRAMES)]))
    output = generate_report([tracker], dataset, "one", tmp_path, attributes=False, tikz=False)
    row = output.confidence.rows[0]
    assert row[4] == "-" and "only one class: all 60 frames are successes" in row[8]


EXPERIMENT = """
from evaluation.tracker import Tracker
from test_confidence import _dataset

def toy():
    return [Tracker("fake", "online", display_name="online", check=False),
            Tracker("fake", "plain", display_name="plain", check=False)], _dataset()
"""


def test_cli_prints_confidence_and_per_sequence(trackers, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture) -> None:
    from evaluation.analyze import main

    name = f"conf_experiment_{abs(hash(str(tmp_path)))}"
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(EXPERIMENT))
    monkeypatch.syspath_prepend(str(tmp_path))
    args = [name, "toy", "--plots-path", str(tmp_path / "out"), "--no-tikz"]
    assert main(args + ["--per-sequence", "--gate", "jcpp=0.5", "--sequences", "seq0", "seq2"]) == 0
    out = capsys.readouterr().out
    assert "AUC per sequence (2 sequences)" in out and "% frames trained" in out
    assert "Confidence as a predictor of IoU > 0.5" in out and "Trained %" in out
    assert main(args) == 0
    assert "AUC per sequence" not in capsys.readouterr().out  # only with --per-sequence
    assert main(args + ["--gate", "jcp=0.5"]) == 2  # bad input
    assert "--gate 'jcp=0.5' must be CONFIDENCE=NUMBER" in capsys.readouterr().err
    assert main(args + ["--sequences", "nope"]) == 2
    assert "unknown sequence nope" in capsys.readouterr().err
