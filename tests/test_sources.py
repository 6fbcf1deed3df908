"""Results sources: the typed protocol, its defaults, and the one rule that aligns boxes with a sequence."""
from __future__ import annotations

import ast
import warnings
from pathlib import Path

import numpy as np
import pytest

from evaluation.analysis.evaluate import evaluate, group_runs
from evaluation.boxes_io import write_boxes_txt, write_values_txt
from evaluation.peer_results import PublishedResults
from evaluation.sources import (AlignedBoxes, Pairing, ResultsAlignmentWarning, ResultsSource, SourceBase, align_boxes,
                                as_source)
from evaluation.tracker import Tracker
from runner_fakes import make_sequence

ROOT = Path(__file__).resolve().parents[1]


def _rows(n: int) -> np.ndarray:
    return np.array([[10.0 + i, 20.0, 30.0, 40.0] for i in range(n)])


# -- align_boxes ----------------------------------------------------------------------------------------

def test_align_boxes_pads_short_rows_and_cuts_long_ones() -> None:
    sequence = make_sequence(n_frames=5)
    short = align_boxes(_rows(3), sequence)
    assert isinstance(short, AlignedBoxes) and short.boxes.shape == (5, 4) and short.boxes.dtype == np.float64
    np.testing.assert_array_equal(short.boxes[:3], _rows(3))
    assert np.isnan(short.boxes[3:]).all() and short.has_prediction.tolist() == [True] * 3 + [False] * 2
    long = align_boxes(_rows(8), sequence)
    np.testing.assert_array_equal(long.boxes, _rows(5))
    assert long.has_prediction.all()
    exact = align_boxes(_rows(5).reshape(-1), sequence)  # anything that reshapes to (M, 4)
    np.testing.assert_array_equal(exact.boxes, _rows(5))


def test_align_boxes_places_rows_from_a_start_frame_and_drops_lost_ones() -> None:
    sequence = make_sequence(n_frames=5)
    later = align_boxes(_rows(4), sequence, first_frame=2)  # rows 0..2 on frames 2..4, row 3 past the end
    assert later.has_prediction.tolist() == [False, False, True, True, True]
    np.testing.assert_array_equal(later.boxes[2:], _rows(3))
    earlier = align_boxes(_rows(4), sequence, first_frame=-2)  # rows 2..3 on frames 0..1
    np.testing.assert_array_equal(earlier.boxes[:2], _rows(4)[2:])
    assert earlier.has_prediction.tolist() == [True, True, False, False, False]
    rows = _rows(5)
    rows[1] = np.nan
    lost = align_boxes(rows, sequence, lost=~np.isfinite(rows).all(axis=1))
    assert lost.has_prediction.tolist() == [True, False, True, True, True] and np.isnan(lost.boxes[1]).all()
    boxes, has_prediction = lost  # unpacks like the (boxes, has_prediction) pair it replaces
    assert boxes is lost.boxes and has_prediction is lost.has_prediction


# -- the protocol and its defaults ---------------------------------------------------------------------

class _Rows(SourceBase):
    def __init__(self, rows: np.ndarray) -> None:
        self.name, self.display_name, self.rows = "rows", "Rows", rows

    def results_for(self, sequence):
        return self.rows


def test_source_base_has_no_optional_capability_and_warns_on_misaligned_rows() -> None:
    sequence = make_sequence(n_frames=4)
    source = _Rows(_rows(2))
    assert isinstance(source, ResultsSource)
    assert source.times_for(sequence) is None and source.state_for(sequence) is None
    assert source.result_files_for(sequence) is None and source.runs == [] and source.run_group() is None
    assert source.pairing() == Pairing("rows:Rows")
    with pytest.warns(ResultsAlignmentWarning, match=r"Rows: .*: 2 result rows for 4 frames \(no file\); missing"):
        boxes, has_prediction = source.aligned_results_for(sequence)
    assert has_prediction.tolist() == [True, True, False, False] and np.isnan(boxes[2:]).all()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _Rows(_rows(4)).aligned_results_for(sequence)  # a row per frame: no warning


def test_tracker_and_published_results_are_sources(isolated_settings: Path) -> None:
    sequence = make_sequence("seq", n_frames=3)
    tracker = Tracker("siamot", "mobilenet_v2_baseline")
    write_boxes_txt(tracker.result_file(sequence), _rows(3))
    write_values_txt(tracker.time_file(sequence), [0.5] * 3)
    assert isinstance(tracker, ResultsSource)
    assert tracker.result_files_for(sequence) == [tracker.result_file(sequence), tracker.time_file(sequence)]
    assert tracker.pairing() == Pairing("siamot:mobilenet_v2", baseline=True, backbone="mobilenet_v2")
    np.testing.assert_array_equal(tracker.aligned_results_for(sequence).boxes, _rows(3))
    assert tracker.state_for(sequence) is None and tracker.times_for(sequence).tolist() == [0.5] * 3
    published = PublishedResults("peer", tracker.results_dir)
    assert isinstance(published, ResultsSource) and published.runs == []
    assert published.cache_identity()["one_based"] is False
    assert published.pairing() == Pairing("peer:peer")
    evaluation, _ = evaluate([tracker, published], [sequence])
    assert evaluation.trackers == ["siamot_mobilenet_v2_baseline", "peer"]
    assert [e.runs for e in evaluation.entries] == [[tracker], [published]]
    assert evaluation.scores()["peer"].auc == evaluation.scores()["siamot_mobilenet_v2_baseline"].auc


def test_as_source_wraps_a_minimal_object_and_names_a_bad_one() -> None:
    class Minimal:
        display_name = "M"

        def results_for(self, sequence):
            return sequence.ground_truth_rect

    sequence = make_sequence(n_frames=3)
    source = as_source(Minimal())
    assert isinstance(source, ResultsSource) and source.display_name == "M" and source.times_for(sequence) is None
    np.testing.assert_array_equal(source.aligned_results_for(sequence).boxes, sequence.ground_truth_rect)
    tracker_like = _Rows(_rows(1))
    assert as_source(tracker_like) is tracker_like
    with pytest.raises(TypeError, match="is not a results source: it needs display_name"):
        as_source(object())
    with pytest.raises(TypeError, match="not a results source"):
        group_runs([Minimal(), 42])


def test_runs_of_one_configuration_are_one_entry(isolated_settings: Path) -> None:
    runs = [Tracker("siamot", "vgg19", run_id=i, display_name=f"run{i}") for i in range(2)]
    assert [r.run_group() for r in runs] == ["siamot_vgg19", "siamot_vgg19"]
    (entry,) = group_runs(runs)
    assert entry.display_name == "siamot_vgg19" and entry.runs == runs  # the names differ: the group's key
    assert entry.pairing == Pairing("siamot:vgg19", False, "vgg19")


def test_the_analysis_reads_sources_without_the_viewers() -> None:
    """The analysis sits below the viewers: no module of ``evaluation/analysis`` imports
    ``evaluation.visualization``."""
    for path in sorted((ROOT / "evaluation" / "analysis").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            assert not any(n.startswith("evaluation.visualization") for n in names), path.name
