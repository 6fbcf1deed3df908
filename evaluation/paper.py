r"""The paper's figures and table in one command, paper-ready (PNG, PDF, TikZ, LaTeX).

    python -m evaluation.paper demo demo
    python -m evaluation.paper otb2013_offline otb2013_offline_available --paper-fps
    python -m evaluation.paper otb2013_paper otb2013_paper --layout column --attributes IV DEF

For the experiment's trackers and dataset (``MODULE FUNCTION`` as in ``evaluation.run_experiment``,
whose saved results are read; nothing is run) it writes into one folder
(default ``<plots_path>/paper/<FUNCTION>/``):

- ``fig2``: overall success and precision plots side by side (the paper's Fig. 2);
- ``fig3``: a grid of per-attribute success plots (Fig. 3; the paper's IV, DEF, OPR, IPR by default);
- ``fig4``: qualitative frames with every backbone's boxes, one colour per backbone, solid with online
  training, dashed without (Fig. 4; ``evaluation.qualitative``);
- ``table1``: FPS without / with online training per backbone and whether each is real time
  (> 25 FPS), from the per-frame times the runners recorded (Table 1), as ``.md``, ``.csv`` and a
  booktabs ``.tex`` tabular; ``--paper-fps`` adds the paper's TITAN X figures;
- ``index.md`` listing every file; ``styles.json``, the trackers' styles (kept for the next run, so
  a tracker keeps its colour and line style when others are added or removed; delete it to choose
  afresh); ``eval_cache.json``, the analysis cache.

Figures come as PNG, PDF (TrueType fonts) and TikZ ``.tex`` (PGFPlots, one ``tikzpicture`` per panel
in the PNG's rows, the header comment names the preamble). ``--layout`` sizes them for the paper:
``page`` (default) for the text width, two panels per row (``figure*`` in a two-column paper,
``figure`` in a one-column one), ``column`` for one column of a two-column paper, panels stacked;
text is 7-8 pt at 100 % scale, each panel's legend sits under it, the TikZ panels are ``\linewidth``
relative (``--width``, ``--legend-font`` override). Table 1 fits a column. ``fig4.tex`` places
``fig4.pdf`` with ``\includegraphics`` (photos are not vector graphics). Every tracker keeps one style
in all figures; ``--style`` overrides it.
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from evaluation.cli_errors import EXIT_OK, run_cli, warnings_summarised
from evaluation.cli_help import PlainHelpFormatter

#: The paper's Fig. 3 attributes: illumination variation, deformation, out-of-plane and in-plane rotation.
PAPER_ATTRIBUTES: tuple[str, ...] = ("IV", "DEF", "OPR", "IPR")
#: The paper's Fig. 4 sequences (used when the dataset has them).
PAPER_SEQUENCES: tuple[str, ...] = ("MotorRolling", "Football", "Basketball", "Bolt")
STYLES_FILE = "styles.json"
INDEX_FILE = "index.md"


@dataclass(frozen=True)
class PaperOptions:
    r"""What :func:`make_paper` draws.

    Attributes:
        attributes: Fig. 3's attributes (None: the paper's four, those absent from the dataset left out).
        sequences: Fig. 4's rows (None: the paper's four present in the dataset, else the evaluated
            sequences where the drawn trackers' AUC differ most, at most four).
        frames: ``--frames`` tokens of ``evaluation.qualitative`` (None: ``num_frames`` evenly spaced).
        num_frames: Fig. 4's columns when ``frames`` is None.
        fig4_trackers: display names drawn in Fig. 4 (None: the trackers of backbone pairs, else all
            trackers that have results).
        layout: ``column`` (a two-column paper's column: panels stacked) or ``page`` (the text width:
            two panels per row), see :data:`evaluation.analysis.plots.LAYOUTS`.
        width: TikZ width of one panel, legend and labels included (a TeX length; None: the layout's,
            ``\linewidth`` or ``0.49\linewidth``).
        legend_font: TikZ legend font (a LaTeX size such as ``\tiny``; None: ``\scriptsize``, as in the PNG).
        paper_fps: add the paper's TITAN X FPS to Table 1.
        styles: explicit styles by display name (``--style``).
        strict: fail on missing results instead of skipping those sequences.
        use_cache: read/write ``eval_cache.json``.
    """

    attributes: tuple[str, ...] | None = None
    sequences: tuple[str, ...] | None = None
    frames: tuple[str, ...] | None = None
    num_frames: int = 4
    fig4_trackers: tuple[str, ...] | None = None
    layout: str = "page"
    width: str | None = None
    legend_font: str | None = None
    paper_fps: bool = False
    styles: dict[str, Any] = field(default_factory=dict)
    strict: bool = False
    use_cache: bool = True


@dataclass
class PaperOutput:
    """The folder, the files written with one-line descriptions, and notes (what was left out and why)."""

    folder: Path
    files: list[tuple[Path, str]]
    notes: list[str]


def _attribute_title(attribute: str, n: int) -> str:
    from evaluation.datasets.attributes import ATTRIBUTE_DESCRIPTIONS

    full = ATTRIBUTE_DESCRIPTIONS.get(attribute, attribute).split(":")[0]
    return f"{full} ({n})"


def _panel_grid(evaluation: Any, panels: list[tuple[str | None, str, str]], styles: dict[str, Any],
                stem: Path, options: PaperOptions, description: str) -> list[Path]:
    """A figure of plot panels ``(attribute or None, kind, title)`` in ``options.layout``'s grid: PNG and
    PDF of the grid, TikZ with one ``tikzpicture`` per panel in the same rows."""
    from evaluation.analysis.plots import draw_plot, get_layout, join_tikz, save_figure, tikz_code

    layout = get_layout(options.layout)
    figure = panel_grid_figure(evaluation, panels, styles, layout)
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = [save_figure(figure, stem.with_suffix(".png"), dpi=300), save_figure(figure, stem.with_suffix(".pdf"))]
    codes = [tikz_code(draw_plot(evaluation.curves(a), evaluation.scores(a), kind, title, styles, layout),
                       f"{description}, panel {i + 1}: {title}", options.width, options.legend_font, layout)
             for i, (a, kind, title) in enumerate(panels)]
    paths.append(stem.with_suffix(".tex"))
    paths[-1].write_text(join_tikz(codes, layout.columns))
    return paths


def panel_grid_figure(evaluation: Any, panels: list[tuple[str | None, str, str]], styles: dict[str, Any],
                      layout: Any) -> Any:
    """The PNG/PDF figure of plot panels ``(attribute or None, kind, title)`` in ``layout``'s grid
    (a :class:`evaluation.analysis.plots.Layout`), drawn as Fig. 2 and 3 are."""
    from evaluation.analysis.plots import draw_axes, panel_figure

    figure, axes = panel_figure(len(panels), layout)
    for ax, (attribute, kind, title) in zip(axes, panels):
        draw_axes(ax, evaluation.curves(attribute), evaluation.scores(attribute), kind, title, styles, layout)
    return figure


def _fig4_sources(entries: list[Any], evaluation: Any, options: PaperOptions) -> list[Any]:
    by_name = {e.display_name: e for e in entries}
    if options.fig4_trackers is not None:
        unknown = [n for n in options.fig4_trackers if n not in by_name]
        if unknown:
            raise ValueError(f"--fig4-trackers names no tracker: {', '.join(unknown)} "
                             f"(trackers: {', '.join(by_name)})")
        chosen = [by_name[n] for n in options.fig4_trackers]
    else:
        groups: dict[str, set[bool]] = {}
        for e in entries:
            groups.setdefault(e.pairing.group, set()).add(e.pairing.baseline)
        chosen = [e for e in entries if len(groups[e.pairing.group]) == 2] or list(entries)
    return chosen


def _fig4_sequences(evaluation: Any, names: list[str], options: PaperOptions) -> tuple[list[Any], str]:
    """Fig. 4's sequences and how they were chosen."""
    evaluated = evaluation.sequences
    if options.sequences is not None:
        missing = [s for s in options.sequences if s not in evaluated.names()]
        if missing:
            raise ValueError(f"--sequences not among the evaluated sequences: {', '.join(missing)} "
                             f"(evaluated: {', '.join(evaluated.names())})")
        return [evaluated[s] for s in options.sequences], "chosen with --sequences"
    paper = [s for s in PAPER_SEQUENCES if s in evaluated.names()]
    if paper:
        return [evaluated[s] for s in paper], "the paper's sequences present in the dataset"
    spread = {s.name: float(np.ptp([evaluation.metrics[t][s.name].auc for t in names])) for s in evaluated}
    chosen = sorted(evaluated, key=lambda s: -spread[s.name])[:4]
    chosen.sort(key=lambda s: evaluated.names().index(s.name))
    return chosen, "the evaluated sequences where the drawn trackers' AUC differ most (the paper's are absent)"


def make_paper(sources: list[Any], dataset: Any, folder: Path, options: PaperOptions = PaperOptions(),
               dataset_label: str = "", progress: bool = False) -> PaperOutput:
    """Evaluate ``sources`` on ``dataset`` and write Fig. 2-4, Table 1 and ``index.md`` into ``folder``.

    Raises:
        ValueError: an option names an attribute, sequence or tracker that is not there; bad results.
        MissingResultsError: ``options.strict`` and some results are missing.
    """
    from evaluation.analysis.evaluate import evaluate, pairings
    from evaluation.analysis.plots import PLOT_KINDS
    from evaluation.analysis.report import write_table
    from evaluation.analysis.speed_table import speed_rows, speed_table, speed_table_latex
    from evaluation.analysis.styles import assign_styles, load_styles, save_styles
    from evaluation.boxes_io import atomic_write_text
    from evaluation.analysis.plots import get_layout
    from evaluation.qualitative import frames_by_sequence, qualitative_figure, save_figure

    folder = Path(folder).expanduser()
    folder.mkdir(parents=True, exist_ok=True)
    evaluation, _ = evaluate(sources, dataset, cache_path=folder / "eval_cache.json" if options.use_cache else None,
                             strict=options.strict, progress=progress)
    entries = evaluation.entries
    styles = assign_styles(pairings(entries), load_styles(folder / STYLES_FILE), options.styles)
    n = evaluation.n_sequences()
    label = f"{dataset_label} " if dataset_label else ""
    present = evaluation.attributes()
    if options.attributes is None:
        attributes = [a for a in PAPER_ATTRIBUTES if a in present]
    else:
        absent = [a for a in options.attributes if a not in present]
        if absent:
            raise ValueError(f"--attributes not flagged on any evaluated sequence: {', '.join(absent)} "
                             f"(present: {', '.join(present) or 'none'})")
        attributes = list(options.attributes)
    files: list[tuple[Path, str]] = []
    notes: list[str] = []
    steps = ["fig2", "fig3", "fig4", "table1"]
    iterator: Any = steps
    if progress:
        from tqdm import tqdm
        iterator = tqdm(steps, desc="paper", unit="artefact")
    for step in iterator:
        if step == "fig2":
            panels = [(None, kind, f"{PLOT_KINDS[kind].title} - {label}({n})") for kind in ("success", "precision")]
            paths = _panel_grid(evaluation, panels, styles, folder / "fig2", options,
                                "Fig. 2: overall success and precision plots")
            files += [(p, f"Fig. 2: overall success and precision plots on {label}({n} sequences)") for p in paths]
        elif step == "fig3":
            if not attributes:
                notes.append(f"Fig. 3 left out: none of {', '.join(PAPER_ATTRIBUTES)} is flagged on the evaluated "
                             "sequences (choose others with --attributes)")
                continue
            skipped = [a for a in PAPER_ATTRIBUTES if a not in attributes] if options.attributes is None else []
            if skipped:
                notes.append(f"Fig. 3: {', '.join(skipped)} left out (no evaluated sequence has them)")
            panels = [(a, "success", f"{_attribute_title(a, evaluation.n_sequences(a))}") for a in attributes]
            if options.layout == "column" and len(panels) > 2:
                notes.append(f"Fig. 3: {len(panels)} panels stacked are taller than a column; place the page "
                             "layout's fig3 in a figure* (--layout page) or choose two --attributes")
            paths = _panel_grid(evaluation, panels, styles, folder / "fig3", options,
                                "Fig. 3: success plots per attribute")
            files += [(p, f"Fig. 3: success plots per attribute ({', '.join(attributes)})") for p in paths]
        elif step == "fig4":
            chosen = _fig4_sources(entries, evaluation, options)
            sequences, how = _fig4_sequences(evaluation, [e.display_name for e in chosen], options)
            frames = frames_by_sequence(sequences, options.frames, options.num_frames)
            drawn = [e.runs[0] for e in chosen]
            layout = get_layout(options.layout)
            columns = max(len(f) for f in frames.values())
            # Cells sized so the grid is the layout's width: its text then prints at 7-8 pt.
            cell_width = (layout.width_in - 0.25) / (columns + 0.03 * (columns - 1))
            figure = qualitative_figure(sequences, frames, drawn, [styles[e.display_name] for e in chosen],
                                        cell_width_in=cell_width, linewidth=1.2 if layout.columns == 1 else 1.5,
                                        legend_columns=2 if layout.columns == 1 else 4)
            paths = save_figure(figure, folder / "fig4")
            tex = folder / "fig4.tex"
            atomic_write_text(tex, "% Fig. 4: qualitative results (frames of the sequences, boxes of the trackers).\n"
                                   "% Needs in the preamble: \\usepackage{graphicx}\n"
                                   "% Photos are raster images: this places fig4.pdf (keep it beside this file,\n"
                                   "% or change the path) at the width of the figure.\n"
                                   f"\\includegraphics[width=\\linewidth]{{fig4.pdf}}%\n")
            what = (f"Fig. 4: qualitative frames of {', '.join(s.name for s in sequences)} ({how}), "
                    f"boxes of {', '.join(e.display_name for e in chosen)}")
            files += [(p, what) for p in paths + [tex]]
        else:
            try:
                rows = speed_rows(pairings(entries), evaluation.scores(), paper=options.paper_fps)
            except ValueError as exc:
                notes.append(f"Table 1 left out: {exc}")
                continue
            from evaluation.machine import machine_note

            where = ("our FPS: frames / summed per-frame tracking time recorded by the runners on this machine "
                     f"({machine_note()})" + (", paper: GTX TITAN X" if options.paper_fps else ""))
            table = speed_table(rows, f"Table 1: FPS of the evaluated trackers ({where})")
            paths = write_table(table, folder / "table1")
            tex = folder / "table1.tex"
            atomic_write_text(tex, speed_table_latex(rows, where))
            files += [(p, "Table 1: FPS without / with online training per backbone, real time = > 25 FPS")
                      for p in paths + [tex]]
    save_styles(folder / STYLES_FILE, styles)
    files.append((folder / STYLES_FILE, "the trackers' styles (colour, line style), reused by the next run"))
    index = folder / INDEX_FILE
    atomic_write_text(index, _index_text(files, notes, styles, label, n, options.layout))
    files.append((index, "this index"))
    return PaperOutput(folder, files, notes)


#: Where each layout's figures go in a paper (index.md).
_PLACEMENT = {
    "page": "the text width: in a two-column paper `\\begin{figure*}`, in a one-column paper `\\begin{figure}`",
    "column": "one column: `\\begin{figure}` in a two-column paper (Fig. 3 with more than two panels is "
              "taller than a column: use `--layout page` and `figure*` for it)",
}


def _index_text(files: list[tuple[Path, str]], notes: list[str], styles: dict[str, Any], label: str, n: int,
                layout: str = "page") -> str:
    env = "figure*" if layout == "page" else "figure"
    lines = [f"# Paper figures and table: {label}({n} sequences)", "",
             "Written by `python -m evaluation.paper`. TikZ files need `\\usepackage{pgfplots}` and "
             "`\\pgfplotsset{compat=newest}`; `table1.tex` needs `\\usepackage{booktabs}`.", "",
             f"Layout `{layout}`: figures sized for {_PLACEMENT.get(layout, layout)}; e.g. "
             f"`\\begin{{{env}}}\\centering\\input{{fig2.tex}}\\caption{{...}}\\end{{{env}}}`. "
             "`table1.tex` fits one column (`\\begin{table}`).", "",
             "| file | what |", "|:---|:---|"]
    by_stem: dict[str, tuple[list[str], str]] = {}
    for path, what in files:
        by_stem.setdefault(path.stem, ([], what))[0].append(f"`{path.name}`")
    lines += [f"| {', '.join(names)} | {what} |" for names, what in by_stem.values()]
    lines += ["", "## Tracker styles (the same in every figure)", "", "| tracker | colour | line |", "|:---|:---|:---|"]
    lines += [f"| {name} | `{s.color}` | `{s.linestyle}` |" for name, s in styles.items()]
    if notes:
        lines += ["", "## Notes", ""] + [f"- {note}" for note in notes]
    return "\n".join(lines) + "\n"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m evaluation.paper", description=__doc__,
                                     formatter_class=PlainHelpFormatter)
    from evaluation.experiments import add_experiment_arguments

    add_experiment_arguments(parser)
    parser.add_argument("--output", type=Path, default=None,
                        help="output folder (default: <plots_path>/paper/<FUNCTION>)")
    parser.add_argument("--plots-path", type=Path, default=None,
                        help="plots path for the default output folder (default: the settings' plots_path, "
                             "env SIAMOT_PLOTS_PATH)")
    parser.add_argument("--attributes", nargs="+", default=None, metavar="ATTR",
                        help="Fig. 3's attributes, e.g. IV SV OCC (default: the paper's IV DEF OPR IPR, those "
                             "flagged on no evaluated sequence left out)")
    parser.add_argument("--sequences", nargs="+", default=None, metavar="SEQ",
                        help="Fig. 4's sequences, one row each (default: the paper's MotorRolling Football "
                             "Basketball Bolt when present, else the four where the trackers differ most)")
    parser.add_argument("--frames", nargs="+", default=None, metavar="N|SEQ=N,N,...",
                        help="Fig. 4's 1-based frame positions for every sequence, or SEQ=N,N,... per sequence "
                             "(default: --num-frames evenly spaced frames)")
    parser.add_argument("--num-frames", type=int, default=4, help="Fig. 4's frames per sequence (default 4)")
    parser.add_argument("--fig4-trackers", nargs="+", default=None, metavar="NAME",
                        help="display names drawn in Fig. 4 (default: the <backbone>/<backbone>_baseline pairs, "
                             "else all trackers)")
    parser.add_argument("--style", nargs="+", default=[], metavar="NAME=COLOR[,LINESTYLE]",
                        help="a tracker's style in every figure: NAME its display name, COLOR a matplotlib colour, "
                             "LINESTYLE solid|dashed|dotted|dashdot (default: chosen once, kept in styles.json; "
                             "a backbone and its baseline share a colour, the baseline dashed)")
    parser.add_argument("--layout", choices=("column", "page"), default="page",
                        help="figure size: 'column' for one column of a two-column paper (panels stacked; "
                             "\\begin{figure}), 'page' for the text width (two panels per row; \\begin{figure*} in a "
                             "two-column paper, \\begin{figure} in a one-column one). Text is 7-8 pt at 100%% scale, "
                             "legends sit under each panel (default: page)")
    parser.add_argument("--width", default=None, metavar="LENGTH",
                        help="TikZ width of one plot panel with its labels, a TeX length (default: the layout's, "
                             "\\linewidth for column, 0.49\\linewidth for page)")
    parser.add_argument("--legend-font", default=None, metavar="SIZE",
                        help="TikZ legend font, a LaTeX size: tiny, scriptsize, footnotesize, small, normalsize "
                             "(default: scriptsize, as in the PNG)")
    parser.add_argument("--dataset-label", default=None, metavar="TEXT",
                        help="the dataset's name in plot titles (default: the sequences' dataset, e.g. otb2013)")
    parser.add_argument("--paper-fps", action="store_true",
                        help="add the paper's Table 1 FPS (GTX TITAN X) beside ours")
    parser.add_argument("--strict", action="store_true",
                        help="fail when a tracker lacks results for a sequence (default: skip such sequences for "
                             "all trackers with a warning)")
    parser.add_argument("--no-cache", action="store_true", help="recompute every metric, write no eval_cache.json")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run_cli(lambda: _main(args))


def _main(args: argparse.Namespace) -> int:
    with warnings_summarised():
        from evaluation.analysis.plots import check_latex_size
        from evaluation.analysis.styles import parse_style_override
        from evaluation.experiments import load_experiment

        overrides = dict(parse_style_override(spec) for spec in args.style)
        if args.num_frames < 1:
            raise ValueError(f"--num-frames must be >= 1, got {args.num_frames}")
        options = PaperOptions(
            attributes=tuple(args.attributes) if args.attributes else None,
            sequences=tuple(args.sequences) if args.sequences else None,
            frames=tuple(args.frames) if args.frames else None, num_frames=args.num_frames,
            fig4_trackers=tuple(args.fig4_trackers) if args.fig4_trackers else None, layout=args.layout,
            width=args.width,
            legend_font=check_latex_size(args.legend_font) if args.legend_font else None,
            paper_fps=args.paper_fps, styles=overrides, strict=args.strict, use_cache=not args.no_cache)
        sources, dataset = load_experiment(args.module, args.function)
        folder = args.output
        if folder is None:
            from evaluation.analysis.report import safe_report_name
            from evaluation.settings import load_settings

            plots_path = args.plots_path or load_settings().path("plots_path")
            folder = Path(plots_path).expanduser() / "paper" / safe_report_name(args.function)
        label = args.dataset_label or ", ".join(sorted({s.dataset for s in dataset}))
        output = make_paper(sources, dataset, folder, options, dataset_label=label,
                            progress=not args.no_progress)
    for note in output.notes:
        print(f"note: {note}")
    print(f"{output.folder}:")
    by_stem: dict[str, tuple[list[str], str]] = {}
    for path, what in output.files:
        by_stem.setdefault(path.stem, ([], what))[0].append(path.suffix)
    for stem, (suffixes, what) in by_stem.items():
        print(f"  {stem + '{' + ','.join(suffixes) + '}' if len(suffixes) > 1 else stem + suffixes[0]:<26} {what}")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
