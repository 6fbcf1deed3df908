"""Evaluation of results sources, caching, report files (tables, plots, TikZ) and the analyze CLI."""
from __future__ import annotations

import os
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from evaluation.analysis.evaluate import (MissingResultsError, MissingResultsWarning, evaluate, group_runs)
from evaluation.analysis.plots import draw_plot, legend_entries
from evaluation.analysis.report import generate_report
from evaluation.analysis.tables import attribute_frame, per_sequence_frame, summary_frame, summary_table
from evaluation.boxes_io import write_boxes_txt, write_values_txt
from evaluation.data import Sequence, SequenceList
from evaluation.peer_results import ResultsAlignmentWarning
from source_fakes import FolderSource


def make_dataset(n_sequences: int = 4, n_frames: int = 30, seed: int = 0) -> SequenceList:
    rng = np.random.default_rng(seed)
    attributes = [("IV", "SV"), ("OCC",), ("SV",), ()]
    sequences = []
    for i in range(n_sequences):
        xy = np.cumsum(rng.normal(0, 3, size=(n_frames, 2)), axis=0) + 100
        wh = np.tile(rng.uniform(20, 60, size=2), (n_frames, 1))
        sequences.append(Sequence(f"seq{i}", [str(k) for k in range(n_frames)], "synthetic",
                                  np.hstack([xy, wh]), attributes=attributes[i % len(attributes)]))
    return SequenceList(sequences)


def write_results(folder: Path, dataset: SequenceList, noise: float, seed: int, skip: tuple[str, ...] = (),
                  time_per_frame: float | None = None) -> None:
    rng = np.random.default_rng(seed)
    for seq in dataset:
        if seq.name in skip:
            continue
        boxes = seq.ground_truth_rect + rng.normal(0, noise, size=seq.ground_truth_rect.shape) * [1, 1, 0.2, 0.2]
        write_boxes_txt(folder / f"{seq.name}.txt", boxes)
        if time_per_frame is not None:
            write_values_txt(folder / f"{seq.name}_time.txt", [time_per_frame] * len(seq))


@pytest.fixture
def two_trackers(tmp_path: Path) -> tuple[SequenceList, list[FolderSource]]:
    dataset = make_dataset()
    write_results(tmp_path / "good", dataset, noise=2.0, seed=1, time_per_frame=0.01)
    write_results(tmp_path / "bad", dataset, noise=25.0, seed=2)
    return dataset, [FolderSource("bad", tmp_path / "bad"), FolderSource("good", tmp_path / "good")]


def test_evaluate_ranks_and_fps(two_trackers) -> None:
    dataset, sources = two_trackers
    evaluation, cache = evaluate(sources, dataset)
    scores = evaluation.scores()
    assert scores["good"].auc > scores["bad"].auc and scores["good"].precision > scores["bad"].precision
    assert scores["good"].fps == pytest.approx(100.0) and scores["bad"].fps is None
    assert evaluation.attributes() == ["IV", "SV", "OCC"]
    assert evaluation.n_sequences("SV") == 2
    assert cache.misses == 8 and cache.hits == 0
    table = summary_table(scores, "t")
    assert [row[0] for row in table.rows] == ["good", "bad"]
    assert table.header == ("Tracker", "AUC", "OP50", "OP75", "Precision", "Norm. precision", "FPS")
    assert table.rows[1][-1] == "-" and table.rows[0][-1] == "100.0"


def test_scores_as_dataframes(two_trackers) -> None:
    dataset, sources = two_trackers
    evaluation = evaluate(sources, dataset)[0]
    summary = summary_frame(evaluation.scores(), trained={"good": 0.25, "bad": None})
    assert list(summary.index) == ["good", "bad"] and summary.index.name == "Tracker"
    assert summary.loc["good", "AUC"] == evaluation.scores()["good"].auc
    assert summary.loc["good", "Trained %"] == 25.0 and np.isnan(summary.loc["bad", "Trained %"])
    assert np.isnan(summary.loc["bad", "FPS"])
    per_sequence = per_sequence_frame(evaluation)
    assert list(per_sequence.columns) == ["bad", "good"] and list(per_sequence.index) == dataset.names()
    assert per_sequence["good"].mean() == pytest.approx(evaluation.scores()["good"].auc)
    attributes = attribute_frame(evaluation, "precision")
    assert list(attributes.columns) == ["All (4)", "IV (1)", "SV (2)", "OCC (1)"]
    assert attributes.loc["good", "All (4)"] == evaluation.scores()["good"].precision


def test_missing_results_skip_or_strict(tmp_path: Path) -> None:
    dataset = make_dataset()
    write_results(tmp_path / "a", dataset, 2.0, 1)
    write_results(tmp_path / "b", dataset, 2.0, 2, skip=("seq1",))
    sources = [FolderSource("a", tmp_path / "a"), FolderSource("b", tmp_path / "b")]
    with pytest.warns(MissingResultsWarning, match=r"b: seq1"):
        evaluation, _ = evaluate(sources, dataset)
    assert evaluation.sequences.names() == ["seq0", "seq2", "seq3"]
    assert evaluation.skipped == {"a": [], "b": ["seq1"]}
    with pytest.raises(MissingResultsError, match=r"missing results \(b: seq1\)"):
        evaluate(sources, dataset, strict=True)


def test_bad_rows_name_the_file(tmp_path: Path) -> None:
    dataset = make_dataset(1)
    write_results(tmp_path / "a", dataset, 2.0, 1)
    path = tmp_path / "a" / "seq0.txt"
    lines = path.read_text().splitlines()
    lines[4] = "1\t2\tnan\t4"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ValueError, match=rf"{path}: row 5: NaN"):
        evaluate([FolderSource("a", tmp_path / "a")], dataset)


def test_short_live_results_warn_and_count_as_failures(tmp_path: Path) -> None:
    dataset = make_dataset(1, n_frames=10)
    seq = dataset[0]
    write_boxes_txt(tmp_path / "a" / "seq0.txt", seq.ground_truth_rect[:5])
    with pytest.warns(ResultsAlignmentWarning, match="5 result rows for 10 frames"):
        evaluation, _ = evaluate([FolderSource("a", tmp_path / "a")], dataset)
    assert evaluation.scores()["a"].op50 == pytest.approx(0.5)


def test_runs_of_live_trackers_are_grouped_and_averaged(tmp_path: Path) -> None:
    from evaluation.settings import Settings
    from evaluation.tracker import Tracker

    settings = Settings(results_path=str(tmp_path / "results"))
    dataset = make_dataset(2)
    runs = [Tracker("siamot", "mobilenet_v2", run_id=r, display_name="SiamOT", settings=settings, check=False)
            for r in (0, 1)]
    write_results(runs[0].results_dir, dataset, 1.0, 1)
    write_results(runs[1].results_dir, dataset, 30.0, 2)
    entries = group_runs(runs)
    assert len(entries) == 1 and entries[0].display_name == "SiamOT" and len(entries[0].runs) == 2
    together, _ = evaluate(runs, dataset)
    singles = [evaluate([r], dataset)[0].scores()["SiamOT"] for r in runs]
    assert together.scores()["SiamOT"].auc == pytest.approx((singles[0].auc + singles[1].auc) / 2)


def test_duplicate_display_names_are_an_error(two_trackers) -> None:
    dataset, sources = two_trackers
    sources[1].display_name = "bad"
    with pytest.raises(ValueError, match="several trackers are displayed as bad"):
        evaluate(sources, dataset)


def test_cache_is_reused_and_invalidated(two_trackers, tmp_path: Path) -> None:
    dataset, sources = two_trackers
    cache_path = tmp_path / "cache.json"
    first, cache = evaluate(sources, dataset, cache_path=cache_path)
    assert cache.misses == 8 and cache_path.is_file()
    again, cache = evaluate(sources, dataset, cache_path=cache_path)
    assert cache.hits == 8 and cache.misses == 0
    assert again.scores() == first.scores()
    # a changed result file is recomputed (new size and mtime)
    changed = sources[0].results_dir / "seq0.txt"
    write_boxes_txt(changed, dataset[0].ground_truth_rect)
    stat = changed.stat()
    os.utime(changed, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    third, cache = evaluate(sources, dataset, cache_path=cache_path)
    assert cache.misses == 1 and cache.hits == 7
    assert third.scores()["bad"].auc > first.scores()["bad"].auc
    # changed ground truth: every tracker recomputes that sequence
    dataset[1].ground_truth_rect = dataset[1].ground_truth_rect + 1.0
    _, cache = evaluate(sources, dataset, cache_path=cache_path)
    assert cache.misses == 2 and cache.hits == 6


def test_corrupt_cache_is_an_error(two_trackers, tmp_path: Path) -> None:
    dataset, sources = two_trackers
    cache_path = tmp_path / "cache.json"
    cache_path.write_text("{not json")
    with pytest.raises(ValueError, match=f"analysis cache {cache_path} is corrupt"):
        evaluate(sources, dataset, cache_path=cache_path)


def test_legend_sorted_by_score(two_trackers) -> None:
    dataset, sources = two_trackers
    evaluation, _ = evaluate(sources, dataset)
    scores = evaluation.scores()
    entries = legend_entries(scores, "precision")
    assert [name for name, _ in entries] == ["good", "bad"]
    assert entries[0][1] == f"good [{scores['good'].precision:.3f}]"
    figure = draw_plot(evaluation.curves(), scores, "success", "Success plot")
    texts = [t.get_text() for t in figure.axes[0].get_legend().get_texts()]
    assert texts == [f"good [{scores['good'].auc:.3f}]", f"bad [{scores['bad'].auc:.3f}]"]


def test_generate_report_writes_tables_plots_and_tikz(two_trackers, tmp_path: Path) -> None:
    dataset, sources = two_trackers
    output = generate_report(sources, dataset, "my report", tmp_path / "plots")
    report = tmp_path / "plots" / "my_report"
    assert output.report_dir == report
    for stem in ("success", "precision", "norm_precision"):
        for suffix in (".png", ".pdf", ".tex"):
            path = report / f"{stem}{suffix}"
            assert path in output.plots and path.stat().st_size > 0
    assert (report / "success.png").read_bytes()[:4] == b"\x89PNG"
    assert (report / "success.pdf").read_bytes()[:4] == b"%PDF"
    assert "\\begin{tikzpicture}" in (report / "success.tex").read_text()
    csv_text = (report / "summary.csv").read_text().splitlines()
    assert csv_text[0] == "Tracker,AUC,OP50,OP75,Precision,Norm. precision,FPS"
    assert csv_text[1].startswith("good,") and csv_text[2].startswith("bad,")
    assert "| Tracker | AUC |" in (report / "summary.md").read_text()
    assert (report / "attributes_auc.csv").read_text().splitlines()[0] == \
        "Tracker,All (4),IV (1),SV (2),OCC (1)"
    assert (report / "attributes" / "SV" / "success.png").is_file()
    assert (report / "attributes" / "OCC" / "summary.md").is_file()
    assert output.cache_misses == 8
    again = generate_report(sources, dataset, "my report", tmp_path / "plots", tikz=False, attributes=False)
    assert again.cache_hits == 8 and again.cache_misses == 0


# -- the command line --------------------------------------------------------------------------------

EXPERIMENT = """
from pathlib import Path
import numpy as np
from evaluation.data import Sequence, SequenceList
from evaluation.peer_results import PublishedResults

ROOT = Path({root!r})

def dataset():
    gt = np.column_stack([np.arange(20) * 3.0, np.full(20, 10.0), np.full(20, 30.0), np.full(20, 20.0)])
    return SequenceList([Sequence(f"seq{{i}}", [str(k) for k in range(20)], "toy", gt + i, attributes=("SV",))
                         for i in range(2)])

def both():
    return [PublishedResults("exact", ROOT / "exact"), PublishedResults("shifted", ROOT / "shifted")], dataset()
"""


@pytest.fixture
def experiment_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    from evaluation.boxes_io import write_boxes_txt as write

    gt = np.column_stack([np.arange(20) * 3.0, np.full(20, 10.0), np.full(20, 30.0), np.full(20, 20.0)])
    for i in range(2):
        write(tmp_path / "exact" / f"seq{i}.txt", gt + i)
        write(tmp_path / "shifted" / f"seq{i}.txt", gt + i + [12.0, 0, 0, 0])
    name = f"toy_experiment_{abs(hash(str(tmp_path)))}"
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(EXPERIMENT.format(root=str(tmp_path))))
    monkeypatch.syspath_prepend(str(tmp_path))
    return name


def test_cli_experiment_report(experiment_module: str, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from evaluation.analyze import main

    plots = tmp_path / "out"
    assert main([experiment_module, "both", "--plots-path", str(plots), "--no-tikz"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("Tracker"))
    assert lines[header + 2].startswith("exact") and lines[header + 3].startswith("shifted")
    assert str(plots / "both" / "success.png") in out and str(plots / "both" / "norm_precision.pdf") in out
    assert (plots / "both" / "summary.csv").is_file() and not (plots / "both" / "success.tex").exists()
    assert "0 reused, 4 computed" in out
    assert main([experiment_module, "both", "--plots-path", str(plots), "--no-tikz", "--no-attributes"]) == 0
    assert "4 reused, 0 computed" in capsys.readouterr().out


def test_cli_layout_sizes_the_plots_for_a_paper(experiment_module: str, tmp_path: Path) -> None:
    from matplotlib.image import imread

    from evaluation.analyze import main
    from evaluation.analysis.plots import LAYOUTS

    plots = tmp_path / "out"
    assert main([experiment_module, "both", "--plots-path", str(plots), "--layout", "column"]) == 0
    # One column wide at 300 dpi, the legend under the axes in the TikZ file as in the PNG.
    width_px = imread(plots / "both" / "success.png").shape[1]
    assert width_px == pytest.approx(LAYOUTS["column"].width_in * 300, abs=2)
    tex = (plots / "both" / "attributes" / "SV" / "success.tex").read_text()
    assert "scale only axis, width=\\linewidth-40pt" in tex and "anchor=north, yshift=-28pt" in tex
    with pytest.raises(SystemExit):
        main([experiment_module, "both", "--plots-path", str(plots), "--layout", "poster"])


def test_cli_strict_missing_results_fails(experiment_module: str, tmp_path: Path,
                                          capsys: pytest.CaptureFixture) -> None:
    from evaluation.analyze import main

    (tmp_path / "shifted" / "seq1.txt").unlink()
    assert main([experiment_module, "both", "--plots-path", str(tmp_path / "o"), "--strict"]) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines()[-1] == "error: missing results (shifted: seq1)"
    assert main([experiment_module, "both", "--plots-path", str(tmp_path / "o"), "--no-tikz",
                 "--no-attributes"]) == 0
    assert "warning: skipping sequences without results from every tracker (shifted: seq1)" in \
        capsys.readouterr().err


def test_cli_usage_errors(capsys: pytest.CaptureFixture) -> None:
    from evaluation.analyze import main
    from evaluation.tracker import parse_tracker_spec

    assert main([]) == 2
    assert "nothing to analyse" in capsys.readouterr().err
    assert parse_tracker_spec("siamot:mobilenet_v2:0-2=SiamOT") == ("siamot", "mobilenet_v2", [0, 1, 2], "SiamOT")
    assert parse_tracker_spec("opencv:mil") == ("opencv", "mil", [None], None)
    assert parse_tracker_spec("siamot:mobilenet_v2:3") == ("siamot", "mobilenet_v2", [3], None)
    with pytest.raises(ValueError, match="NAME:PARAM"):
        parse_tracker_spec("siamot")
    for bad in ("siamot:", "a:b:c", "a:b:1:2"):
        with pytest.raises(ValueError):
            parse_tracker_spec(bad)
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0


def test_analyze_module_runs_as_script() -> None:
    import subprocess

    result = subprocess.run([sys.executable, "-m", "evaluation.analyze", "--help"], capture_output=True, text=True,
                            cwd=Path(__file__).resolve().parents[1], check=False)
    assert result.returncode == 0 and result.stdout.startswith("usage: python -m evaluation.analyze")


def test_tikz_legend_entries_are_latex_escaped(two_trackers, tmp_path: Path) -> None:
    from evaluation.analysis.plots import save_plot

    dataset, sources = two_trackers
    sources[0].display_name = "KCF_Gauss 50%"
    evaluation, _ = evaluate(sources, dataset)
    figure = draw_plot(evaluation.curves(), evaluation.scores(), "success", "Success plot")
    paths = save_plot(figure, tmp_path / "success")
    assert [p.suffix for p in paths] == [".png", ".pdf", ".tex"]
    assert "\\addlegendentry{KCF\\_Gauss 50\\% [" in paths[-1].read_text()


class _FakeStates:
    """Per-frame confidences and IoUs of one tracker: Peak and PSR, IoU rising with confidence."""

    def __init__(self, seed: int) -> None:
        rng = np.random.default_rng(seed)
        self.values = rng.uniform(0.0, 1.0, 200)
        self.ious = np.clip(self.values + rng.normal(0.0, 0.1, 200), 0.0, 1.0)

    def confidence_keys(self) -> list[str]:
        return ["peak", "psr"]

    def pooled(self, key: str) -> tuple[np.ndarray, np.ndarray]:
        return self.values * (1.0 if key == "peak" else 20.0), self.ious


def test_confidence_plot_draws_each_tracker_in_its_report_style() -> None:
    from evaluation.analysis.confidence_plot import draw_confidence_plot
    from evaluation.analysis.styles import TrackerStyle

    styles = {"SiamOT": TrackerStyle("#e377c2"), "SiamFC": TrackerStyle("#e377c2", "--"),
              "MIL": TrackerStyle("#1f77b4")}
    states = {name: _FakeStates(i) for i, name in enumerate(styles)}
    figure = draw_confidence_plot(list(styles), states, "t", styles=styles)
    assert len(figure.axes) == 2
    for axes in figure.axes:
        drawn = {line.get_label().split(" [")[0]: (line.get_color(), line.get_linestyle())
                 for line in axes.get_lines() if not line.get_label().startswith("_")}
        assert drawn == {name: (style.color, style.linestyle) for name, style in styles.items()}
        low, high = axes.get_ylim()
        assert low < 0.0 and high > 1.0  # an IoU of 0 or 1 is not drawn under a spine
    with pytest.raises(ValueError, match="no style for MIL"):
        draw_confidence_plot(list(styles), states, "t", styles={n: styles[n] for n in ("SiamOT", "SiamFC")})


def test_saving_a_pdf_logs_nothing_at_info(tmp_path, caplog) -> None:
    """TrueType embedding runs fontTools' subsetter; the CLIs log at INFO and must not print its pruning."""
    import logging

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from evaluation.analysis import plots

    figure, axes = plt.subplots()
    axes.plot([0, 1], [0, 1], label="SiamOT")
    axes.legend()
    with caplog.at_level(logging.INFO), matplotlib.rc_context(plots.SAVE_RC):
        figure.savefig(tmp_path / "f.pdf")
    plt.close(figure)
    assert (tmp_path / "f.pdf").stat().st_size > 0
    assert not [r for r in caplog.records if r.name.startswith("fontTools")]
