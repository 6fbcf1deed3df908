"""Paired comparison of two trackers: the bootstrap interval over sequences (TRE segments resampled with their
sequence), wins/losses/ties, the deciding sequences, the table and ``analyze --compare``."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from evaluation.analysis.compare import (BOOTSTRAP_RESAMPLES, BOOTSTRAP_SEED, bootstrap_interval, compare_evaluation,
                                         compare_scores, sequence_of)
from evaluation.analysis.evaluate import evaluate
from evaluation.analysis.tables import comparison_table
from evaluation.boxes_io import write_boxes_txt
from evaluation.data import Sequence, SequenceList
from source_fakes import FolderSource


# -- the bootstrap -------------------------------------------------------------------------------------

def test_equal_differences_give_a_point_interval() -> None:
    assert bootstrap_interval([0.25] * 7) == pytest.approx((0.25, 0.25))
    assert bootstrap_interval([-0.1] * 6, ["a", "a", "b", "c", "c", "c"]) == pytest.approx((-0.1, -0.1))


def test_two_sequences_by_hand() -> None:
    # Resampling [1, 0] gives the means 0, 0.5, 1 with probabilities 1/4, 1/2, 1/4: the 2.5 and 97.5
    # percentiles are the extremes.
    assert bootstrap_interval([1.0, 0.0]) == (0.0, 1.0)
    # Four independent units [1, 1, 1, 0]: P(mean = 0) = (1/4)^4 = 0.4 % < 2.5 % < P(mean <= 0.25) = 5.1 %,
    # so the lower bound is 0.25; P(mean = 1) = (3/4)^4 = 32 %, so the upper bound is 1.
    assert bootstrap_interval([1.0, 1.0, 1.0, 0.0]) == (0.25, 1.0)


def test_segments_are_resampled_with_their_sequence() -> None:
    # The same four units as two sequences, one with three segments: a resample draws {x, x} (mean 1),
    # {x, y} (3/4) or {y, y} (0), so the interval is [0, 1], wider than the one over correlated segments.
    assert bootstrap_interval([1.0, 1.0, 1.0, 0.0], ["x", "x", "x", "y"]) == (0.0, 1.0)
    # Segments that repeat their sequence's difference add no information: the interval is the one over
    # sequences (same seed, same draws), while treating them as independent would narrow it.
    rng = np.random.default_rng(3)
    per_sequence = rng.normal(0.02, 0.05, size=15)
    segments = np.repeat(per_sequence, 4)
    labels = [f"s{i}" for i in range(15) for _ in range(4)]
    by_sequence = bootstrap_interval(per_sequence)
    assert bootstrap_interval(segments, labels) == pytest.approx(by_sequence, abs=1e-12)
    naive = bootstrap_interval(segments)
    assert naive[1] - naive[0] < 0.6 * (by_sequence[1] - by_sequence[0])
    # Distinct labels are the same as no clusters.
    assert bootstrap_interval(per_sequence, [f"s{i}" for i in range(15)]) == bootstrap_interval(per_sequence)


def test_interval_width_matches_the_normal_approximation() -> None:
    differences = np.random.default_rng(7).normal(0.01, 0.08, size=200)
    low, high = bootstrap_interval(differences)
    half_width = 1.959964 * differences.std() / math.sqrt(differences.size)
    assert (low + high) / 2 == pytest.approx(differences.mean(), abs=0.1 * half_width)
    assert (high - low) / 2 == pytest.approx(half_width, rel=0.06)


def test_the_seed_makes_the_interval_reproducible() -> None:
    differences = np.random.default_rng(11).normal(0.0, 0.1, size=12)
    first = bootstrap_interval(differences)
    assert bootstrap_interval(differences, seed=BOOTSTRAP_SEED, resamples=BOOTSTRAP_RESAMPLES) == first
    other = bootstrap_interval(differences, seed=BOOTSTRAP_SEED + 1)
    assert other != first and other == pytest.approx(first, abs=0.01)


def test_bad_bootstrap_inputs_are_named() -> None:
    with pytest.raises(ValueError, match="no differences"):
        bootstrap_interval([])
    with pytest.raises(ValueError, match="finite"):
        bootstrap_interval([0.1, math.nan])
    with pytest.raises(ValueError, match="2 cluster labels for 3"):
        bootstrap_interval([0.1, 0.2, 0.3], ["a", "b"])
    with pytest.raises(ValueError, match="level"):
        bootstrap_interval([0.1], level=1.0)


# -- the comparison ------------------------------------------------------------------------------------

def test_wins_losses_ties_and_the_deciding_sequences() -> None:
    a = {"s1": 0.9, "s2": 0.45, "s3": 0.4, "s4": 0.4004, "s5": 0.3996, "s6": 0.0005}
    b = {"s1": 0.6, "s2": 0.5, "s3": 0.45, "s4": 0.4, "s5": 0.4, "s6": 0.0}
    c = compare_scores(a, b, "A", "B")
    assert [u.difference for u in c.units] == pytest.approx([0.3, -0.05, -0.05, 0.0004, -0.0004, 0.0005])
    assert (c.wins, c.losses, c.ties) == (2, 2, 2)  # |d| < 0.0005 is a tie; 0.0005 itself is a win
    assert c.mean_difference == pytest.approx(np.mean([0.3, -0.05, -0.05, 0.0004, -0.0004, 0.0005]))
    assert c.mean_a - c.mean_b == pytest.approx(c.mean_difference)
    assert [s.name for s in c.deciding] == ["s1", "s2", "s3"]
    # Without s1 the mean is negative: the sign rests on one sequence.
    assert c.mean_without_top == pytest.approx((-0.05 - 0.05 + 0.0004 - 0.0004 + 0.0005) / 5)
    assert c.sign_survives is False and not c.clustered
    assert c.interval == bootstrap_interval([u.difference for u in c.units])
    assert c.interval[0] < 0 < c.interval[1] and not c.interval_excludes_zero


def test_a_consistent_gain_survives_dropping_its_best_sequence() -> None:
    a = {f"s{i}": 0.5 + 0.01 * i for i in range(10)}
    b = {name: value - 0.02 - 0.002 * i for i, (name, value) in enumerate(a.items())}
    c = compare_scores(a, b, "new", "old")
    assert (c.wins, c.losses, c.ties) == (10, 0, 0)
    assert c.deciding[0].name == "s9" and c.sign_survives is True and c.interval_excludes_zero
    assert c.interval[0] > 0.02 - 1e-9 and c.interval[1] < 0.038 + 1e-9


def test_tre_segments_are_grouped_by_sequence() -> None:
    assert sequence_of("Jogging-1@103") == "Jogging-1" and sequence_of("Jogging-1") == "Jogging-1"
    assert sequence_of("name@v2") == "name@v2" and sequence_of("@12") == "@12"
    a = {"x": 0.6, "x@11": 0.7, "x@21": 0.8, "y": 0.2, "y@9": 0.2}
    b = {"x": 0.5, "x@11": 0.5, "x@21": 0.5, "y": 0.4, "y@9": 0.3}
    c = compare_scores(a, b, clusters={name: sequence_of(name) for name in a})
    assert c.clustered and [(s.name, s.segments) for s in c.sequences] == [("x", 3), ("y", 2)]
    assert c.sequences[0].difference == pytest.approx(0.2) and c.sequences[1].difference == pytest.approx(-0.15)
    assert c.mean_difference == pytest.approx((0.1 + 0.2 + 0.3 - 0.2 - 0.1) / 5)  # over segments, as TRE's AUC
    assert (c.wins, c.losses) == (1, 1)
    # Two clusters: a resample is {x, x} (mean 0.2), {x, y} (0.05) or {y, y} (-0.15).
    assert c.interval == pytest.approx((-0.15, 0.2))
    assert c.deciding[0].name == "x" and c.mean_without_top == pytest.approx(-0.15)


def test_the_two_trackers_must_share_their_sequences() -> None:
    with pytest.raises(ValueError, match=r"only A: s2; only B: s3"):
        compare_scores({"s1": 0.5, "s2": 0.4}, {"s1": 0.5, "s3": 0.4})
    with pytest.raises(ValueError, match="no sequences"):
        compare_scores({}, {})
    with pytest.raises(ValueError, match="unknown metric"):
        compare_scores({"s1": 0.5}, {"s1": 0.4}, metric="accuracy")
    single = compare_scores({"s1": 0.5}, {"s1": 0.4})
    assert single.mean_without_top is None and single.sign_survives is None
    assert single.interval == pytest.approx((0.1, 0.1))


def _evaluation(tmp_path: Path):
    gt_rows = np.column_stack([np.arange(20) * 3.0, np.full(20, 10.0), np.full(20, 30.0), np.full(20, 20.0)])
    dataset = SequenceList([Sequence(f"seq{i}", [str(k) for k in range(20)], "toy", gt_rows + i) for i in range(3)])
    for i, seq in enumerate(dataset):
        write_boxes_txt(tmp_path / "near" / f"{seq.name}.txt", seq.ground_truth_rect + [2.0 * i, 0, 0, 0])
        write_boxes_txt(tmp_path / "far" / f"{seq.name}.txt", seq.ground_truth_rect + [12.0 - 4.0 * i, 25.0, 0, 0])
    sources = [FolderSource("near", tmp_path / "near"), FolderSource("far", tmp_path / "far")]
    return evaluate(sources, dataset)[0]


def test_comparison_of_an_evaluation_matches_its_summary(tmp_path: Path) -> None:
    evaluation = _evaluation(tmp_path)
    scores = evaluation.scores()
    for metric in ("auc", "precision", "norm_precision"):
        c = compare_evaluation(evaluation, "near", "far", metric)
        assert c.mean_difference == pytest.approx(getattr(scores["near"], metric) - getattr(scores["far"], metric))
        assert [s.name for s in c.sequences] == ["seq0", "seq1", "seq2"]
    c = compare_evaluation(evaluation, "near", "far")
    assert c.sequences[0].a == pytest.approx(evaluation.metrics["near"]["seq0"].auc)
    with pytest.raises(ValueError, match="unknown tracker 'nearer' to compare; the report's trackers are: near, far"):
        compare_evaluation(evaluation, "nearer", "far")
    with pytest.raises(ValueError, match="not 'near' with itself"):
        compare_evaluation(evaluation, "near", "near")


def test_comparison_table(tmp_path: Path) -> None:
    c = compare_scores({"x": 0.6, "x@11": 0.7, "y": 0.2}, {"x": 0.5, "x@11": 0.5, "y": 0.4}, "SiamOT", "SiamFC",
                       clusters={"x": "x", "x@11": "x", "y": "y"})
    table = comparison_table(c)
    low, high = c.interval
    assert table.title.startswith(f"AUC, SiamOT - SiamFC on 2 sequences (3 TRE segments): mean +0.033, "
                                  f"95% CI [{low:+.3f}, {high:+.3f}]")
    assert "SiamOT wins 1, loses 1, ties 0 (|d| < 0.0005)" in table.title
    assert table.header == ("Sequence", "Segments", "SiamOT", "SiamFC", "Difference", "Result")
    assert table.rows[0] == ("x", "2", "0.650", "0.500", "+0.150", "win, decides #2")
    assert table.rows[1] == ("y", "1", "0.200", "0.400", "-0.200", "loss, decides #1")
    assert table.rows[2][:5] == ("mean", "3", "0.500", "0.467", "+0.033")
    assert table.rows[3][-1] == "1 / 1 / 0"
    assert table.rows[4] == ("mean without y", "2", "", "", "+0.150", "sign kept")
    assert "| x | 2 | 0.650 | 0.500 | +0.150 | win, decides #2 |" in table.to_markdown()
    plain = comparison_table(compare_scores({"s": 0.5, "t": 0.5}, {"s": 0.5, "t": 0.3}))
    assert plain.header == ("Sequence", "A", "B", "Difference", "Result")
    assert [row[-1] for row in plain.rows[:2]] == ["tie", "win, decides #1"]  # a tie decides nothing
    all_ties = compare_scores({"s": 0.5, "t": 0.3}, {"s": 0.5, "t": 0.3})
    assert all_ties.deciding == () and all_ties.mean_without_top is None and all_ties.ties == 2
    assert [row[0] for row in comparison_table(all_ties).rows] == ["s", "t", "mean", "wins / losses / ties"]


# -- analyze --compare -----------------------------------------------------------------------------------

@pytest.fixture
def two_fakes_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, isolated_settings: Path) -> Path:
    """The fake plugin's trackers ``Centroid`` (on the target) and ``Shifted`` (2.5 px off) run on three
    24-frame sequences, each as 2 TRE segments (segment 0 is the one-pass run); returns the plots path."""
    from evaluation import run_experiment
    from runner_fakes import install_fake_plugin

    install_fake_plugin(tmp_path / "plugins", monkeypatch)
    (tmp_path / "compare_experiment.py").write_text(
        "from evaluation.tracker import Tracker\n"
        "from runner_fakes import make_sequence\n"
        "def two_fakes():\n"
        "    return ([Tracker('fake', 'centroid', display_name='Centroid'),\n"
        "             Tracker('fake', 'shifted', display_name='Shifted')],\n"
        "            [make_sequence(f'seq{i}', n_frames=24, seed=i) for i in range(3)])\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert run_experiment.main(["compare_experiment", "two_fakes", "--no-progress", "--tre", "2"]) == 0
    return isolated_settings / "plots"


def test_analyze_compare_prints_and_writes_the_table(two_fakes_run: Path, capsys: pytest.CaptureFixture) -> None:
    from evaluation.analyze import main

    args = ["compare_experiment", "two_fakes", "--no-tikz", "--no-attributes"]
    assert main([*args, "--compare", "Centroid", "Shifted"]) == 0
    out = capsys.readouterr().out
    headline = next(line for line in out.splitlines() if line.startswith("AUC, Centroid - Shifted on 3 sequences: "))
    # The 2.5 px offset costs IoU on every frame after the first: Centroid wins every sequence.
    assert "Centroid wins 3, loses 0, ties 0" in headline
    rows = {line.split()[0]: line.split() for line in out.splitlines()[out.splitlines().index(headline):]
            if line.startswith("seq")}
    assert sorted(rows) == ["seq0", "seq1", "seq2"]
    assert all(float(row[3]) > 0 and row[4].startswith("win") for row in rows.values())
    report = two_fakes_run / "two_fakes"
    csv_text = (report / "compare_Centroid_vs_Shifted.csv").read_text()
    assert csv_text.splitlines()[0] == "Sequence,Centroid,Shifted,Difference,Result"
    assert (report / "compare_Centroid_vs_Shifted.md").read_text().startswith("### AUC, Centroid - Shifted on 3")
    # Precision at 20 px: both trackers are within 20 px everywhere, every sequence a tie.
    assert main([*args, "--compare", "Shifted", "Centroid", "--compare-metric", "precision"]) == 0
    out = capsys.readouterr().out
    assert "Precision, Shifted - Centroid on 3 sequences: mean +0.000" in out
    assert "Shifted wins 0, loses 0, ties 3" in out
    assert (report / "compare_Shifted_vs_Centroid_precision.csv").is_file()


def test_analyze_compare_with_tre_resamples_sequences(two_fakes_run: Path, capsys: pytest.CaptureFixture) -> None:
    from evaluation.analyze import main

    assert main(["compare_experiment", "two_fakes", "--tre", "2", "--no-tikz", "--no-attributes",
                 "--compare", "Centroid", "Shifted"]) == 0
    out = capsys.readouterr().out
    assert "AUC, Centroid - Shifted on 3 sequences (6 TRE segments): mean +" in out
    assert "bootstrap over sequences, each with its segments" in out
    csv_lines = (two_fakes_run / "two_fakes_tre2" / "compare_Centroid_vs_Shifted.csv").read_text().splitlines()
    assert csv_lines[0] == "Sequence,Segments,Centroid,Shifted,Difference,Result"
    assert [line.split(",")[:2] for line in csv_lines[1:4]] == [["seq0", "2"], ["seq1", "2"], ["seq2", "2"]]


def test_analyze_compare_unknown_tracker_is_one_error_line(two_fakes_run: Path,
                                                             capsys: pytest.CaptureFixture) -> None:
    from evaluation.analyze import main
    from evaluation.cli_errors import EXIT_BAD_INPUT

    assert main(["compare_experiment", "two_fakes", "--compare", "Centroid", "Nobody"]) == EXIT_BAD_INPUT
    captured = capsys.readouterr()
    assert captured.err.strip().splitlines()[-1] == ("error: unknown tracker 'Nobody' to compare; the report's "
                                                    "trackers are: Centroid, Shifted")
    assert not (two_fakes_run / "two_fakes").exists()  # found before anything was written


def test_compare_tables_of_tags_with_dots_keep_their_names(tmp_path: Path) -> None:
    from evaluation.analysis.report import write_table
    from evaluation.analysis.tables import Table

    table = Table("t", ("a",), [("1",)])
    first = write_table(table, tmp_path / "compare_mnv2@min160-w0.3_vs_mnv2@default")
    second = write_table(table, tmp_path / "compare_mnv2@min160-w0.3_vs_mnv2@baseline")
    assert [p.name for p in first] == ["compare_mnv2@min160-w0.3_vs_mnv2@default.csv",
                                       "compare_mnv2@min160-w0.3_vs_mnv2@default.md"]
    assert len({*first, *second}) == 4 and all(p.is_file() for p in (*first, *second))
