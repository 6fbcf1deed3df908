"""The paper's artefacts (evaluation.paper): stable tracker styles, TikZ fidelity, Table 1, LaTeX compile."""
from __future__ import annotations

import re
import shutil
import subprocess
import textwrap
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from evaluation.analysis.plots import LAYOUTS, legend_overlaps
from evaluation.analysis.speed_table import PAPER_FPS, speed_rows, speed_table, speed_table_latex
from evaluation.analysis.styles import (PALETTE, TrackerStyle, assign_styles, load_styles, parse_style_override,
                                        save_styles)
from evaluation.boxes_io import write_boxes_txt, write_values_txt
from evaluation.data import Sequence, SequenceList
from evaluation.machine import cpu_name, cpu_threads, machine_note
from evaluation.paper import PaperOptions, main, make_paper, panel_grid_figure
from evaluation.sources import Pairing, tracker_pairing
from source_fakes import FolderSource

FRAMES, SIZE_WH = 24, (96, 72)


def _frame(index: int) -> np.ndarray:
    image = np.full((SIZE_WH[1], SIZE_WH[0], 3), 40 + 5 * index, dtype=np.uint8)
    image[::8] = 200
    return image


def make_dataset() -> SequenceList:
    rng = np.random.default_rng(3)
    attributes = [("IV", "DEF"), ("OPR", "IPR"), ("IV", "IPR"), ("SV",)]
    sequences = []
    for i, attrs in enumerate(attributes):
        xy = np.clip(np.cumsum(rng.normal(0, 2, size=(FRAMES, 2)), axis=0) + 30, 5, 50)
        gt = np.hstack([xy, np.tile([20.0, 16.0], (FRAMES, 1))])
        sequences.append(Sequence(f"seq{i}", [str(k) for k in range(FRAMES)], "toyset", gt, attributes=attrs,
                                  frame_loader=_frame))
    return SequenceList(sequences)


#: (name, parameter, display name, box noise, seconds per frame or None)
TRACKERS = [("siamot", "netA", "SiamOT-NetA", 1.0, 0.02), ("siamot", "netA_baseline", "SiamFC-NetA", 4.0, 0.01),
            ("siamot", "netB", "SiamOT-NetB", 2.0, 0.05), ("siamot", "netB_baseline", "SiamFC-NetB", 6.0, 0.03),
            ("opencv", "mil", "MIL_v1", 9.0, None)]


def make_sources(root: Path, dataset: SequenceList, which: list[int] | None = None) -> list[FolderSource]:
    sources = []
    for i, (name, param, label, noise, seconds) in enumerate(TRACKERS):
        folder = root / name / param
        if not folder.is_dir():
            rng = np.random.default_rng(i)
            for k, seq in enumerate(dataset):
                # Every tracker is best on some sequence: the ranking differs between plots.
                scale = 0.1 if (i + k) % 4 == 0 else 1.0
                boxes = seq.ground_truth_rect + rng.normal(0, noise * scale, size=(FRAMES, 4)) * [1, 1, 0.2, 0.2]
                write_boxes_txt(folder / f"{seq.name}.txt", boxes)
                if seconds is not None:
                    write_values_txt(folder / f"{seq.name}_time.txt", [seconds] * FRAMES)
        if which is None or i in which:
            sources.append(FolderSource(name, folder, param, label))
    return sources


# -- styles -----------------------------------------------------------------------------------------

def _named(*names: str) -> dict[str, Pairing]:
    """Pairings by display name: ``X_baseline`` is the baseline of ``X`` (as a SiamOT baseline is of its default)."""
    return {n: Pairing(f"g:{n.removesuffix('_baseline')}", n.endswith("_baseline")) for n in names}


def test_styles_pair_baselines_and_ignore_order_and_other_trackers() -> None:
    styles = assign_styles(_named("A", "A_baseline", "B", "C"))
    assert styles["A"].color == styles["A_baseline"].color
    assert (styles["A"].linestyle, styles["A_baseline"].linestyle) == ("-", "--")
    assert len({styles[n].color for n in ("A", "B", "C")}) == 3
    assert all(s.color in PALETTE for s in styles.values())
    assert assign_styles(_named("C", "B", "A_baseline", "A")) == styles
    fewer = assign_styles(_named("A", "C"))
    assert fewer == {"A": styles["A"], "C": styles["C"]}


def test_styles_previous_and_overrides_win(tmp_path: Path) -> None:
    first = assign_styles(_named("A", "B"))
    save_styles(tmp_path / "styles.json", first)
    previous = load_styles(tmp_path / "styles.json")
    assert previous == first
    # Ten new trackers cannot move A and B: their saved colours are taken first.
    more = assign_styles(_named("A", "B", *(f"T{i}" for i in range(10))), previous)
    assert more["A"] == first["A"] and more["B"] == first["B"]
    name, style = parse_style_override("B=black,dotted")
    assert (name, style) == ("B", TrackerStyle("#000000", ":"))
    assert assign_styles(_named("A", "B"), previous, {name: style})["B"] == style
    with pytest.raises(ValueError, match="match no tracker: Z"):
        assign_styles(_named("A"), overrides={"Z": style})
    with pytest.raises(ValueError, match="unknown colour 'notacolour'"):
        parse_style_override("A=notacolour")


# -- Table 1 ----------------------------------------------------------------------------------------

def test_speed_rows_pair_backbones_and_real_time() -> None:
    named = [("siamot", "vgg19", "SiamOT-VGG"), ("siamot", "vgg19_baseline", "SiamFC-VGG"), ("opencv", "mil", "MIL")]
    entries = {d: tracker_pairing(n, p) for n, p, d in named}
    scores = {"SiamOT-VGG": SimpleNamespace(fps=20.0), "SiamFC-VGG": SimpleNamespace(fps=30.0),
              "MIL": SimpleNamespace(fps=99.0)}
    rows = speed_rows(entries, scores)
    assert [(r.backbone, r.label, r.fps_without, r.fps_with) for r in rows] == [("vgg19", "VGG", 30.0, 20.0)]
    table = speed_table(rows, "t")
    assert table.rows == [("VGG", "30.0", "yes", "20.0", "no")]
    with_paper = speed_rows(entries, scores, paper=True)
    assert (with_paper[0].paper_without, with_paper[0].paper_with) == PAPER_FPS["vgg19"]
    assert [r.label for r in with_paper[1:]] == ["AlexNet", "Inception-v3", "ResNet-34"]
    latex = speed_table_latex(with_paper)
    # Our FPS with one decimal, the paper's as it prints them (whole numbers), missing cells "--".
    assert "\\toprule" in latex and "\\cmidrule(l){6-7}" in latex and "VGG & 30.0 & yes & 20.0 & no & 67 & 59" in latex
    assert "AlexNet & -- & -- & -- & -- & 121 & 103" in latex
    with pytest.raises(ValueError, match="pairs; none among MIL"):
        speed_rows({"MIL": entries["MIL"]}, scores)
    # The paper's variant has no baseline of its own: not a row.
    paper_variant = {"SiamOT-VGG-paper": tracker_pairing("siamot", "vgg19_paper"), "SiamFC-VGG": entries["SiamFC-VGG"]}
    with pytest.raises(ValueError, match="pairs; none among"):
        speed_rows(paper_variant, scores)


def test_machine_names_the_cpu_and_its_threads(tmp_path: Path) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nvendor_id\t: Fake\nmodel name\t: Fake  CPU   X9 @ 3.00GHz\n")
    assert cpu_name(cpuinfo) == "Fake CPU X9 @ 3.00GHz"
    assert cpu_name(tmp_path / "absent") != ""
    assert cpu_threads() >= 1
    assert machine_note().endswith(f", {cpu_threads()} thread{'s' if cpu_threads() != 1 else ''}")


# -- the artefacts ----------------------------------------------------------------------------------

def _tikz_styles(tex: str) -> dict[str, tuple[tuple[int, ...], str]]:
    r"""``{legend name: (RGB, dash)}`` from exported TikZ (``\definecolor`` + ``\addplot [...]`` + entry)."""
    colours = {m[0]: tuple(int(v) for v in m[1].split(",")) for m in re.findall(r"\\definecolor\{(\w+)\}\{RGB\}\{([\d,]+)\}", tex)}
    found = {}
    for options, name in re.findall(r"\\addplot \[([^\]]*)\]\ntable \{%.*?\};\n\\addlegendentry\{(.*?) \[", tex, re.S):
        parts = [p.strip() for p in options.split(",")]
        colour = next(colours[p] for p in parts if p in colours)
        dash = next((p for p in parts if p in ("dashed", "dotted", "dashdotted")), "solid")
        found[name.replace("\\_", "_")] = (colour, dash)
    return found


@pytest.fixture(scope="module")
def paper_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("paper")
    dataset = make_dataset()
    output = make_paper(make_sources(root / "results", dataset), dataset, root / "out",
                        PaperOptions(num_frames=2, paper_fps=True, width="0.48\\linewidth"),
                        dataset_label="toyset")
    assert output.notes == []
    return output.folder


def test_paper_writes_every_artefact_with_an_index(paper_dir: Path) -> None:
    for stem in ("fig2", "fig3", "fig4"):
        for suffix in (".png", ".pdf", ".tex"):
            assert (paper_dir / f"{stem}{suffix}").stat().st_size > 0
    for suffix in (".md", ".csv", ".tex"):
        assert (paper_dir / f"table1{suffix}").is_file()
    index = (paper_dir / "index.md").read_text()
    assert all(f"`{name}`" in index for name in ("fig2.tex", "fig3.pdf", "fig4.png", "table1.tex", "styles.json"))
    # FPS from the recorded per-frame times: 1 / 0.01 s without, 1 / 0.02 s with online training.
    csv = (paper_dir / "table1.csv").read_text().splitlines()
    assert csv[1].startswith("NetA,100.0,yes,50.0,yes,")
    assert csv[2].startswith("NetB,33.3,yes,20.0,no,")
    assert any(line.startswith("AlexNet,--,--,--,--,121,103") for line in csv)
    # Where our FPS come from: the CPU and its threads, in the table's title and LaTeX caption text.
    assert machine_note() in (paper_dir / "table1.md").read_text().splitlines()[0]
    assert f"({machine_note()})" in (paper_dir / "table1.tex").read_text()
    # Fig. 3: the paper's four attributes, one tikzpicture per panel.
    fig3 = (paper_dir / "fig3.tex").read_text()
    assert fig3.count("\\begin{tikzpicture}") == 4
    assert all(title in fig3 for title in ("Illumination Variation (2)", "Deformation (1)",
                                           "Out-of-Plane Rotation (1)", "In-Plane Rotation (2)"))


def test_tracker_styles_are_the_same_in_every_figure(paper_dir: Path) -> None:
    saved = load_styles(paper_dir / "styles.json")
    panels = []
    for stem in ("fig2", "fig3"):
        for picture in (paper_dir / f"{stem}.tex").read_text().split("\\begin{tikzpicture}")[1:]:
            panels.append(_tikz_styles(picture))
    assert len(panels) == 6 and all(len(p) == 5 for p in panels)
    for panel in panels:
        assert panel == panels[0]
    for name, (rgb, dash) in panels[0].items():
        assert "#%02x%02x%02x" % rgb == saved[name].color
        assert dash == {"-": "solid", "--": "dashed"}[saved[name].linestyle]
    assert panels[0]["SiamOT-NetA"][0] == panels[0]["SiamFC-NetA"][0] != panels[0]["SiamOT-NetB"][0]
    assert panels[0]["SiamFC-NetB"][1] == "dashed" and panels[0]["SiamOT-NetB"][1] == "solid"


def test_tikz_panels_have_the_layouts_fonts_widths_legend_place_and_fixed_ticks(paper_dir: Path) -> None:
    success, precision = (paper_dir / "fig2.tex").read_text().split("\\begin{tikzpicture}")[1:]
    for picture, score in ((success, "AUC"), (precision, "at 20 px")):
        axis = picture[picture.index("\\begin{axis}["):]
        # The score's name ends the title; the legend sits under the axes, clear of the x label.
        assert re.search(r"title=\{[^}]*\[" + re.escape(score) + r"\]\}", axis)
        assert "at={(0.5,0)}, anchor=north, yshift=-28pt, legend columns=1" in axis
        assert "legend style={font=\\scriptsize" in axis and "label style={font=\\footnotesize}" in axis
        assert "grid style={dotted, line width=0.6pt}" in axis
        # --width is the whole panel's; the axis gets it less the labels' room.
        assert "scale only axis, width=0.48\\linewidth-40pt, height=0.62*(0.48\\linewidth-40pt)" in axis
        assert "yticklabel style={/pgf/number format/fixed, /pgf/number format/fixed zerofill, " \
               "/pgf/number format/precision=1}" in axis and "scaled ticks=false" in axis
        assert "ytick={0,0.2,0.4,0.6,0.8,1}" in axis  # the PNG's ticks, not pgfplots' own
        widths = re.findall(r"\\addplot \[line width=([\d.]+)pt", axis)
        assert widths == ["1.6"] * 5
        # Baselines dashed as in the PNG (matplotlib's 3.7 on, 1.6 off, times the line width).
        assert axis.count("dashed, dash pattern=on 5.92pt off 2.56pt") == 2
        # Nothing clipped: the axes reach past [0, 1] (and past the thresholds).
        assert "ymin=-0.02, ymax=1.02" in axis
    assert "xticklabel style={/pgf/number format/fixed, /pgf/number format/fixed zerofill, " \
           "/pgf/number format/precision=0}" in precision
    header = (paper_dir / "fig2.tex").read_text().splitlines()[:4]
    assert header[2] == "% Needs in the preamble: \\usepackage{pgfplots} \\pgfplotsset{compat=newest}"


def test_styles_stay_when_a_tracker_is_removed(tmp_path: Path) -> None:
    dataset = make_dataset()
    all_five = make_paper(make_sources(tmp_path / "r", dataset), dataset, tmp_path / "a", PaperOptions(num_frames=1))
    styles = load_styles(all_five.folder / "styles.json")
    # A fresh folder (no saved styles) with one pair left out: the others keep their styles.
    three = make_paper(make_sources(tmp_path / "r", dataset, which=[0, 1, 4]), dataset, tmp_path / "b",
                       PaperOptions(num_frames=1))
    kept = load_styles(three.folder / "styles.json")
    assert kept == {n: styles[n] for n in ("SiamOT-NetA", "SiamFC-NetA", "MIL_v1")}
    fig2 = _tikz_styles((three.folder / "fig2.tex").read_text())
    assert fig2["MIL_v1"] == _tikz_styles((all_five.folder / "fig2.tex").read_text())["MIL_v1"]


def _has_pgfplots() -> bool:
    if shutil.which("pdflatex") is None or shutil.which("kpsewhich") is None:
        return False
    found = subprocess.run(["kpsewhich", "pgfplots.sty", "booktabs.sty"], capture_output=True, text=True)
    return len(found.stdout.split()) == 2


@pytest.mark.skipif(not _has_pgfplots(), reason="pdflatex with pgfplots and booktabs is not installed")
def test_generated_tex_compiles_in_a_minimal_document(paper_dir: Path, tmp_path: Path) -> None:
    for path in paper_dir.iterdir():
        shutil.copy(path, tmp_path / path.name)
    document = textwrap.dedent(r"""
        \documentclass{article}
        \usepackage{pgfplots}
        \pgfplotsset{compat=newest}
        \usepackage{booktabs}
        \usepackage{graphicx}
        \begin{document}
        \begin{figure}\input{fig2.tex}\caption{Overall.}\end{figure}
        \begin{figure}\input{fig3.tex}\caption{Attributes.}\end{figure}
        \begin{figure}\input{fig4.tex}\caption{Qualitative.}\end{figure}
        \begin{table}\input{table1.tex}\caption{FPS.}\end{table}
        \end{document}
        """)
    (tmp_path / "doc.tex").write_text(document)
    run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "doc.tex"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=300)
    log = (tmp_path / "doc.log").read_text(errors="replace")
    assert run.returncode == 0, log[-3000:]
    assert not re.search(r"^! ", log, re.M), log[-3000:]
    assert (tmp_path / "doc.pdf").stat().st_size > 0


# -- what a reader sees: layouts, legends, fonts, LaTeX -----------------------------------------------

FIG2_PANELS = [(None, "success", "Success plot - toyset (4)"), (None, "precision", "Precision plot - toyset (4)")]
FIG3_PANELS = [(a, "success", a) for a in ("IV", "DEF", "OPR", "IPR")]


@pytest.fixture(scope="module")
def toy_evaluation(tmp_path_factory: pytest.TempPathFactory):
    from evaluation.analysis.evaluate import evaluate, pairings

    dataset = make_dataset()
    evaluation, _ = evaluate(make_sources(tmp_path_factory.mktemp("eval"), dataset), dataset)
    return evaluation, assign_styles(pairings(evaluation.entries))


def _visible_inside(figure) -> list[str]:
    """Curve points drawn where a spine would hide half the line (on or outside the axes' box)."""
    figure.canvas.draw()
    hidden = []
    for axes in figure.axes:
        box = axes.get_window_extent()
        for line in axes.get_lines():
            half = line.get_linewidth() / 72.0 * figure.dpi / 2
            xy = axes.transData.transform(np.column_stack(line.get_data()).astype(float))
            inside = ((xy[:, 0] >= box.x0 + half) & (xy[:, 0] <= box.x1 - half) & (xy[:, 1] >= box.y0 + half)
                      & (xy[:, 1] <= box.y1 - half))
            if not inside.all():
                hidden.append(f"{axes.get_title()}: {line.get_label()}")
    return hidden


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_legends_cover_no_curve_and_no_text_and_curves_are_not_clipped(toy_evaluation, layout: str) -> None:
    evaluation, styles = toy_evaluation
    for panels in (FIG2_PANELS, FIG3_PANELS, FIG3_PANELS[:3]):
        figure = panel_grid_figure(evaluation, panels, styles, LAYOUTS[layout])
        assert legend_overlaps(figure) == [], (layout, len(panels))
        # Curves at 1.0 (success at low thresholds) and at the last threshold are drawn whole.
        assert _visible_inside(figure) == [], (layout, len(panels))
        assert all(ax.get_ylim()[0] < 0.0 and ax.get_ylim()[1] > 1.0 for ax in figure.axes)
        # The same grid as the TikZ panels: the layout's panels per row, a short last row centred.
        centres = [ax.get_position().x0 + ax.get_position().width / 2 for ax in figure.axes]
        if len(panels) == 3 and LAYOUTS[layout].columns == 2:
            assert centres[2] == pytest.approx(0.5, abs=0.03)
            assert centres[0] < 0.5 < centres[1]
        if LAYOUTS[layout].columns == 1:
            assert max(centres) - min(centres) < 1e-6


def test_legend_overlaps_finds_a_legend_on_a_curve_and_on_another_panel() -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(4, 3))
    FigureCanvasAgg(figure)
    axes = figure.add_subplot(1, 1, 1)
    axes.plot([0.0, 1.0], [0.08, 0.08], label="a curve along the bottom")
    axes.set_ylim(0.0, 1.0)
    axes.legend(loc="lower left")
    found = legend_overlaps(figure)
    assert len(found) == 1 and "covers" in found[0] and "a curve along the bottom" in found[0]
    axes.legend(loc="upper right")
    assert legend_overlaps(figure) == []
    left, right = Figure(figsize=(6, 3)), None
    FigureCanvasAgg(left)
    first, right = left.add_subplot(1, 2, 1), left.add_subplot(1, 2, 2)
    first.plot([0, 1], [0.9, 0.9], label="x")
    # Anchored past the gap between the panels, so it lies in the right-hand one whatever the font size.
    first.legend(loc="upper left", bbox_to_anchor=(1.3, 0.5))
    assert any("meets axes" in f for f in legend_overlaps(left))


@pytest.fixture(scope="module")
def layout_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("layouts")
    dataset = make_dataset()
    sources = make_sources(root / "results", dataset)
    return {layout: make_paper(sources, dataset, root / layout,
                               PaperOptions(num_frames=3, paper_fps=True, layout=layout), dataset_label="toyset").folder
            for layout in LAYOUTS}


def test_pdfs_embed_truetype_fonts_not_type3(layout_dirs: dict[str, Path]) -> None:
    for folder in layout_dirs.values():
        for stem in ("fig2", "fig3", "fig4"):
            pdf = (folder / f"{stem}.pdf").read_bytes()
            assert b"/Type3" not in pdf and b"/FontFile2" in pdf, folder / f"{stem}.pdf"


def test_column_layout_says_four_stacked_panels_do_not_fit_a_column(tmp_path: Path) -> None:
    dataset = make_dataset()
    output = make_paper(make_sources(tmp_path / "r", dataset), dataset, tmp_path / "o",
                        PaperOptions(num_frames=1, layout="column"))
    assert any("taller than a column" in note for note in output.notes)
    two = make_paper(make_sources(tmp_path / "r", dataset), dataset, tmp_path / "t",
                     PaperOptions(num_frames=1, layout="column", attributes=("IV", "DEF")))
    assert two.notes == []


#: (document class, [(float environment, layout, file)]): what each test document places. A one-column
#: paper takes either layout in a figure; a two-column one the column layout in a figure and the page
#: layout in a figure* (Fig. 3's four panels need the page layout: the column layout says so).
TEST_DOCUMENTS = {
    "one-column": (r"\documentclass{article}",
                   [("figure", "column", "fig2"), ("figure", "page", "fig2"), ("figure", "page", "fig3"),
                    ("figure", "column", "fig4"), ("figure", "page", "fig4"), ("table", "page", "table1")]),
    "two-column": (r"\documentclass[twocolumn]{article}",
                   [("figure", "column", "fig2"), ("figure*", "page", "fig2"), ("figure*", "page", "fig3"),
                    ("figure", "column", "fig4"), ("figure*", "page", "fig4"), ("table", "column", "table1")]),
}


def latex_reader_problems(log: str) -> list[str]:
    """What a reader would see go wrong, from a pdflatex log: errors, overfull boxes (text or figures
    past the margin), floats too large for the page."""
    found = re.findall(r"^! .*$", log, re.M)
    found += re.findall(r"^Overfull \\[hv]box .*$", log, re.M)
    found += re.findall(r"^LaTeX Warning: Float too large.*$", log, re.M)
    return found


def test_latex_reader_problems_are_found_in_a_log() -> None:
    log = ("Overfull \\hbox (32.99971pt too wide) in paragraph at lines 112--113\n"
           "LaTeX Warning: Float too large for page by 136.0pt on input line 9.\n"
           "Underfull \\hbox (badness 10000) in paragraph\n! Undefined control sequence.\n")
    assert len(latex_reader_problems(log)) == 3
    assert latex_reader_problems("Output written on doc.pdf (2 pages).\n") == []


@pytest.mark.skipif(not _has_pgfplots(), reason="pdflatex with pgfplots and booktabs is not installed")
@pytest.mark.parametrize("document", sorted(TEST_DOCUMENTS))
def test_both_layouts_fit_a_document_without_overfull_boxes_or_large_floats(
        layout_dirs: dict[str, Path], tmp_path: Path, document: str) -> None:
    documentclass, floats = TEST_DOCUMENTS[document]
    for layout, folder in layout_dirs.items():
        shutil.copytree(folder, tmp_path / layout)
    body = []
    for environment, layout, stem in floats:
        # fig4.tex names fig4.pdf beside it: a local graphics path finds the layout's own.
        body.append(f"\\begin{{{environment}}}\\centering\\graphicspath{{{{{layout}/}}}}"
                    f"\\input{{{layout}/{stem}.tex}}\\caption{{{layout} {stem}.}}\\end{{{environment}}}")
    document_tex = "\n".join([documentclass, r"\usepackage{pgfplots}", r"\pgfplotsset{compat=newest}",
                              r"\usepackage{booktabs}", r"\usepackage{graphicx}", r"\begin{document}",
                              *body, r"\end{document}"]) + "\n"
    (tmp_path / "doc.tex").write_text(document_tex)
    run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "doc.tex"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=600)
    log = (tmp_path / "doc.log").read_text(errors="replace")
    assert run.returncode == 0, log[-3000:]
    assert latex_reader_problems(log) == [], document
    assert (tmp_path / "doc.pdf").stat().st_size > 0


# -- command line -----------------------------------------------------------------------------------

EXPERIMENT = """
from pathlib import Path
import sys
sys.path.insert(0, {tests!r})
from test_paper import make_dataset, make_sources

def toy():
    dataset = make_dataset()
    return make_sources(Path({root!r}), dataset), dataset
"""


def test_cli_writes_the_folder_and_fails_with_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture) -> None:
    name = f"paper_toy_{abs(hash(str(tmp_path)))}"
    (tmp_path / f"{name}.py").write_text(EXPERIMENT.format(tests=str(Path(__file__).parent), root=str(tmp_path / "r")))
    monkeypatch.syspath_prepend(str(tmp_path))
    out = tmp_path / "out"
    assert main([name, "toy", "--output", str(out), "--attributes", "IV", "SV", "--num-frames", "1",
                 "--style", "MIL_v1=black,dotted", "--legend-font", "scriptsize", "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert str(out) in printed and "fig3" in printed
    fig3 = (out / "fig3.tex").read_text()
    assert fig3.count("\\begin{tikzpicture}") == 2 and fig3.count("legend style={font=\\scriptsize") == 2
    assert fig3.count("width=0.49\\linewidth-40pt") == 2  # no --width: the page layout's panel
    assert load_styles(out / "styles.json")["MIL_v1"] == TrackerStyle("#000000", ":")
    assert main([name, "toy", "--output", str(out), "--attributes", "LR", "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["error: --attributes not flagged on any evaluated sequence: LR (present: IV, SV, DEF, IPR, OPR)"]
    assert main([name, "toy", "--output", str(out), "--legend-font", "huge", "--no-progress"]) == 2
    assert capsys.readouterr().err.startswith("error: legend font 'huge' is not a LaTeX size")
    assert main(["no_such_experiment_module", "f"]) == 2
    assert "experiment module 'no_such_experiment_module' not found" in capsys.readouterr().err


def test_analyze_report_keeps_each_tracker_colour_in_every_plot(tmp_path: Path) -> None:
    from evaluation.analysis.report import generate_report

    dataset = make_dataset()
    sources = make_sources(tmp_path / "r", dataset)
    output = generate_report(sources, dataset, "r", tmp_path / "plots")
    files = sorted(p for p in output.plots if p.suffix == ".tex")
    assert len(files) == 3 * 6  # overall and five attributes, three kinds each
    reference = _tikz_styles(files[0].read_text())
    assert len(reference) == 5
    orders = set()
    for path in files[1:]:
        styles = _tikz_styles(path.read_text())
        assert styles == reference, path
        orders.add(tuple(styles))  # legend order = rank in that plot
    assert len(orders) > 1, "the toy results should rank the trackers differently in some plots"
