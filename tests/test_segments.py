"""OTB2013's temporal robustness evaluation (TRE): segments of sequences, and --tre on the command lines."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from evaluation import analyze, run_experiment
from evaluation.data import Sequence, SequenceList
from evaluation.datasets.segments import segment, segment_starts, temporal_segments
from evaluation.tracker import Tracker
from runner_fakes import install_fake_plugin, make_sequence


def test_segments_start_evenly_and_keep_everything_else() -> None:
    sequence = make_sequence("walk", n_frames=40)
    sequence.attributes = ("OCC", "SV")
    sequence.start_frame = 5
    parts = temporal_segments(SequenceList([sequence]), 4)
    assert [s.name for s in parts] == ["walk", "walk@15", "walk@25", "walk@35"]
    assert parts[0] is sequence  # segment 0 is the sequence: its results are the one-pass results
    for part, start in zip(parts[1:], (10, 20, 30)):
        assert len(part) == 40 - start and part.start_frame == 5 + start
        assert part.attributes == ("OCC", "SV") and part.dataset == sequence.dataset
        np.testing.assert_array_equal(part.ground_truth_rect, sequence.ground_truth_rect[start:])
        np.testing.assert_array_equal(part.image(0), sequence.image(start))
        np.testing.assert_array_equal(part.image(len(part) - 1), sequence.image(39))
        assert part.init_info()["init_bbox"] == [float(v) for v in sequence.ground_truth_rect[start]]


def test_a_segment_starts_on_the_next_valid_box_and_short_ones_are_dropped() -> None:
    gt = np.tile([10.0, 10.0, 20.0, 20.0], (30, 1))
    gt[10:13] = np.nan  # no annotation: the second segment moves to frame index 13
    gt[20, 2] = 0.0
    sequence = Sequence("occluded", [f"{i}.jpg" for i in range(30)], "test", gt)
    assert segment_starts(sequence, 3, min_frames=5) == [0, 13, 21]
    assert segment_starts(sequence, 3) == [0, 13]  # 21 leaves 9 frames, fewer than MIN_SEGMENT_FRAMES
    assert segment_starts(sequence, 1) == [0]
    assert segment_starts(Sequence("short", ["a", "b", "c"], "test", gt[:3]), 20) == [0]
    assert [s.frames[0] for s in temporal_segments(SequenceList([sequence]), 3, 5)] == ["0.jpg", "13.jpg", "21.jpg"]
    with pytest.raises(ValueError, match="at least 1 segment"):
        segment_starts(sequence, 0)
    with pytest.raises(ValueError, match="outside sequence 'occluded'"):
        segment(sequence, 30)


def test_run_experiment_and_analyze_with_tre(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    install_fake_plugin(tmp_path / "plugins", monkeypatch)
    (tmp_path / "tre_experiment.py").write_text(
        "from evaluation.tracker import Tracker\n"
        "from runner_fakes import make_sequence\n"
        "def fake_experiment():\n"
        "    return [Tracker('fake', 'centroid')], [make_sequence('seq0', n_frames=24), make_sequence('seq1')]\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    plots = tmp_path / "plots"
    monkeypatch.setenv("SIAMOT_PLOTS_PATH", str(plots))
    assert run_experiment.main(["tre_experiment", "fake_experiment", "--no-progress", "--sequences", "seq0"]) == 0
    tracker = Tracker("fake", "centroid")
    one_pass = tracker.result_file("seq0").stat().st_mtime_ns
    assert run_experiment.main(["tre_experiment", "fake_experiment", "--no-progress", "--sequences", "seq0",
                                "--tre", "2", "--analyze"]) == 0
    out = capsys.readouterr().out
    assert tracker.result_file("seq0@13").is_file()  # 24 frames, 2 segments: the second starts at frame 13
    assert tracker.result_file("seq0").stat().st_mtime_ns == one_pass  # segment 0 reused, not rerun
    assert (plots / "fake_experiment_tre2" / "per_sequence_auc.csv").is_file()
    assert "seq0@13" in (plots / "fake_experiment_tre2" / "per_sequence_auc.csv").read_text()
    assert "seq0@13" in out
    assert analyze.main(["tre_experiment", "fake_experiment", "--sequences", "seq0", "--tre", "2", "--name", "t"]) == 0
    assert (plots / "t" / "summary.csv").is_file()


def test_a_segment_never_starts_on_a_hidden_target() -> None:
    gt = np.tile([10.0, 10.0, 20.0, 20.0], (40, 1))  # the box goes on behind the occluder, as OTB annotates
    visible = np.ones(40, dtype=bool)
    visible[20:23] = False  # wholly hidden: the second segment moves to frame index 23
    sequence = Sequence("behind", [f"{i}.jpg" for i in range(40)], "test", gt, target_visible=visible)
    assert segment_starts(sequence, 2) == [0, 23]
    part = temporal_segments(SequenceList([sequence]), 2)[1]
    assert part.name == "behind@24" and part.frames[0] == "23.jpg"
    np.testing.assert_array_equal(part.target_visible, visible[23:])
    visible[23:] = False  # hidden to the end: no second segment
    assert segment_starts(sequence, 2) == [0]


def test_the_synthetic_pillar_segments_start_on_a_visible_target() -> None:
    from evaluation.datasets.synthetic import synthetic_dataset

    pillar = synthetic_dataset()["Pillar"]
    assert not pillar.target_visible.all()
    starts = segment_starts(pillar, 20)
    assert len(starts) == 19 and all(pillar.target_visible[i] for i in starts)
