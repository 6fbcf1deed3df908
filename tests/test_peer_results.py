"""Results-only trackers: layouts, alignment by start frame, name matching; and the OTB2013 validation."""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

from evaluation.analysis.evaluate import evaluate
from evaluation.analysis.metrics import evaluate_sequence, summarize
from evaluation.boxes_io import read_boxes_txt, write_boxes_txt, write_values_txt
from evaluation.data import Sequence
from evaluation.peer_results import PublishedResults, ResultsAlignmentWarning, name_key, parse_published_spec


def make_sequence(name: str, n: int, start_frame: int = 1) -> Sequence:
    gt = np.column_stack([np.arange(n) * 2.0, np.full(n, 5.0), np.full(n, 20.0), np.full(n, 10.0)])
    return Sequence(name, [str(i) for i in range(n)], "test", gt, start_frame=start_frame)


def write_comma(path: Path, rows: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(",".join(f"{v:g}" for v in row) + "\n" for row in rows))


def test_name_key_matches_case_and_separators() -> None:
    assert name_key("Jogging-1") == name_key("jogging_1") == name_key("JOGGING 1")


def test_pytracking_layout_with_times(tmp_path: Path) -> None:
    seq = make_sequence("Jogging-1", 6)
    write_boxes_txt(tmp_path / "jogging_1.txt", seq.ground_truth_rect)
    write_values_txt(tmp_path / "jogging_1_time.txt", [0.5] * 6)
    source = PublishedResults("peer", tmp_path)
    assert source.layout == "pytracking" and source.display_name == "peer" and not source.one_based
    assert np.array_equal(source.results_for(seq), seq.ground_truth_rect)
    assert source.times_for(seq).tolist() == [0.5] * 6
    assert source.runs == []
    (tmp_path / "jogging_1_time.txt").unlink()
    write_values_txt(tmp_path / "times" / "jogging_1_time.txt", [0.25] * 6)  # got10k's OTB experiment
    assert source.times_for(seq).tolist() == [0.25] * 6


def test_got10k_layout_runs_are_averaged(tmp_path: Path) -> None:
    seq = make_sequence("car", 5)
    good = seq.ground_truth_rect
    bad = good + np.array([100.0, 0, 0, 0])
    write_comma(tmp_path / "car" / "car_001.txt", good)
    write_comma(tmp_path / "car" / "car_002.txt", bad)
    source = PublishedResults("g", tmp_path, display_name="G")
    assert source.layout == "got10k"
    runs = source.runs
    assert [r.run for r in runs] == [1, 2]
    assert np.array_equal(runs[1].results_for(seq), bad)
    evaluation, _ = evaluate([source], [seq])
    # run 1 perfect, run 2 fails every frame but the first: the average is in between
    assert evaluation.scores()["G"].auc == pytest.approx((1.0 + np.mean([1.0] + [0.0] * 4)) / 2 * 20 / 21)


def test_otb_layout_aligns_start_frames_and_one_based(tmp_path: Path) -> None:
    david = make_sequence("David", 10, start_frame=300)
    tiger = make_sequence("Tiger1", 10)
    one_based = lambda rows: rows + np.array([1.0, 1.0, 0, 0])  # noqa: E731
    write_comma(tmp_path / "David.txt", one_based(david.ground_truth_rect))
    write_comma(tmp_path / "Tiger1.txt", one_based(tiger.ground_truth_rect[3:]))  # OTB-100: starts later
    (tmp_path / "_meta.json").write_text(json.dumps({
        "David": {"startFrame": 300, "n": 10, "fps": 20.0},
        "Tiger1": {"startFrame": 4, "n": 7}}))
    source = PublishedResults("otb", tmp_path)
    assert source.layout == "otb" and source.one_based
    boxes, present = source.aligned_results_for(david)
    assert present.all() and np.allclose(boxes, david.ground_truth_rect)
    assert source.times_for(david) == pytest.approx(np.full(10, 0.05))
    with pytest.warns(ResultsAlignmentWarning, match=r"Tiger1: 7 rows from frame 4 .* 2 frames without"):
        boxes, present = source.aligned_results_for(tiger)
    assert present.tolist() == [False] * 3 + [True] * 7
    assert np.allclose(boxes[3:], tiger.ground_truth_rect[3:]) and np.isnan(boxes[:3]).all()
    assert source.times_for(tiger) is None


def test_short_results_and_lost_target_count_as_failures(tmp_path: Path) -> None:
    seq = make_sequence("Boy", 10)
    rows = seq.ground_truth_rect[:6].copy()  # CFWLB-style: 4 rows short
    rows[2] = np.nan  # TLD-style lost target
    write_comma(tmp_path / "Boy.txt", rows)
    source = PublishedResults("p", tmp_path, layout="pytracking")
    with pytest.warns(ResultsAlignmentWarning, match=r"5 frames without a prediction \(1 NaN rows\)"):
        boxes, present = source.aligned_results_for(seq)
    assert present.tolist() == [True, True, False, True, True, True] + [False] * 4
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResultsAlignmentWarning)
        metrics = evaluate_sequence(boxes, seq.ground_truth_rect, present)
    assert metrics.success[0] == pytest.approx(0.5) and metrics.n_missing == 5


def test_long_results_are_cut_with_a_warning(tmp_path: Path) -> None:
    seq = make_sequence("Boy", 4)
    write_comma(tmp_path / "Boy.txt", np.vstack([seq.ground_truth_rect, seq.ground_truth_rect]))
    with pytest.warns(ResultsAlignmentWarning, match="4 rows outside the sequence ignored"):
        boxes, present = PublishedResults("p", tmp_path).aligned_results_for(seq)
    assert present.all() and np.array_equal(boxes, seq.ground_truth_rect)


def test_negative_size_names_file_and_row(tmp_path: Path) -> None:
    seq = make_sequence("Boy", 4)
    rows = seq.ground_truth_rect.copy()
    rows[2, 3] = -1
    write_comma(tmp_path / "Boy.txt", rows)
    with pytest.raises(ValueError, match=r"Boy\.txt: row 3: negative width/height"):
        PublishedResults("p", tmp_path).results_for(seq)


def test_missing_and_ambiguous_files(tmp_path: Path) -> None:
    write_comma(tmp_path / "Boy.txt", np.ones((3, 4)))
    source = PublishedResults("p", tmp_path)
    with pytest.raises(FileNotFoundError, match=f"no result file for 'Girl' in {tmp_path}"):
        source.results_for(make_sequence("Girl", 3))
    write_comma(tmp_path / "boy.txt", np.ones((3, 4)))
    with pytest.raises(ValueError, match="ambiguous result files"):
        PublishedResults("p", tmp_path)
    with pytest.raises(FileNotFoundError, match="not found"):
        PublishedResults("p", tmp_path / "nope")
    with pytest.raises(ValueError, match="unknown results layout"):
        PublishedResults("p", tmp_path, layout="vot")


def test_parse_published_spec(tmp_path: Path) -> None:
    folder = tmp_path / "SiamFC-3s_cfnetrelease"
    write_comma(folder / "Boy.txt", np.ones((3, 4)))
    assert parse_published_spec(str(folder)).display_name == "SiamFC-3s_cfnetrelease"
    named = parse_published_spec(f"{folder}:SiamFC-3s")
    assert named.display_name == "SiamFC-3s" and named.path == folder


# -- validation against the published OTB2013 figures ---------------------------------------------

def otb2013_sequences(otb2013_dir: Path) -> list[Sequence]:
    """The 51 targets from the official annotations (1-based -> 0-based); David starts at frame 300."""
    anno_dir = otb2013_dir / "annotations" / "cvpr13_anno"
    files = sorted(anno_dir.glob("*.txt"))
    if len(files) != 51:
        pytest.skip(f"expected 51 OTB2013 annotation files in {anno_dir}, found {len(files)}")
    sequences = []
    for file in files:
        gt = read_boxes_txt(file)
        gt[:, :2] -= 1.0
        sequences.append(Sequence(file.stem, [str(i) for i in range(len(gt))], "otb2013", gt,
                                  start_frame=300 if file.stem.lower() == "david" else 1))
    return sequences


@pytest.mark.parametrize("folder, auc, precision", [
    ("SiamFC-3s_cfnetrelease", 0.607, 0.809),
    ("KCF_GaussHog_zz", 0.514, 0.740),
])
def test_reproduces_published_otb2013_scores(otb2013_dir: Path, folder: str, auc: float, precision: float) -> None:
    results = otb2013_dir / "peer_results" / folder
    if not results.is_dir():
        pytest.skip(f"published results not found at {results}")
    sequences = otb2013_sequences(otb2013_dir)
    source = PublishedResults(folder, results)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResultsAlignmentWarning)  # Tiger1 follows the OTB-100 protocol
        evaluation, _ = evaluate([source], sequences, strict=True)
    scores = evaluation.scores()[folder]
    assert scores.n_sequences == 51
    assert scores.auc == pytest.approx(auc, abs=0.0015)
    assert scores.precision == pytest.approx(precision, abs=0.0015)
    assert summarize(list(evaluation.metrics[folder].values())) == scores


def test_pytracking_written_results_are_aligned_to_our_0_based_sequences(tmp_path: Path) -> None:
    """pytracking keeps OTB's 1-based coordinates and writes integers; our own files are 0-based floats."""
    seq = make_sequence("Crossing", 6)  # 0-based ground truth, as our OTB loaders give
    theirs = tmp_path / "pytracking"
    theirs.mkdir()
    one_based = np.floor(seq.ground_truth_rect + np.array([1.0, 1.0, 0, 0])).astype(int)
    np.savetxt(theirs / "Crossing.txt", one_based, delimiter="\t", fmt="%d")  # pytracking's _save_tracker_output
    np.savetxt(theirs / "Crossing_time.txt", np.full(6, 0.01), delimiter="\t", fmt="%f")
    np.savetxt(theirs / "Crossing_object_presence_scores.txt", np.ones(6), delimiter="\t", fmt="%f")
    source = PublishedResults("pt", theirs)
    assert source.layout == "pytracking" and source.one_based
    np.testing.assert_array_equal(source.results_for(seq), one_based - np.array([1, 1, 0, 0]))
    assert not PublishedResults("pt", theirs, one_based=False).one_based

    ours = tmp_path / "ours"
    write_boxes_txt(ours / "Crossing.txt", np.floor(seq.ground_truth_rect))  # "12.00": written by this toolkit
    assert not PublishedResults("ours", ours).one_based
