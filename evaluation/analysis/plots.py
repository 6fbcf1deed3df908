"""Success, precision and normalised-precision plots: PNG, PDF and TikZ (``matplot2tikz``).

Figures are built with ``matplotlib.figure.Figure`` on the Agg canvas (no pyplot, no global backend
switch), legends read ``name [score]`` sorted by score, best first, under a title naming the score.
Each tracker keeps one style (colour, line style) in every plot: pass the report's styles
(:func:`evaluation.analysis.styles.assign_styles`); without them the styles come from the names alone.

TikZ export uses ``matplot2tikz`` (``tikzplotlib`` cannot import with matplotlib >= 3.8), then
:func:`finish_tikz` restores what the exporter drops (legend title and font size, grid style, curve
line widths) and adds a header naming the preamble the file needs.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from evaluation.analysis.metrics import (NORM_PRECISION_AT, NORM_PRECISION_THRESHOLDS, PRECISION_AT_PX,
                                         PRECISION_THRESHOLDS, SUCCESS_THRESHOLDS, Curves, Scores)

if TYPE_CHECKING:
    from evaluation.analysis.styles import TrackerStyle


@dataclass(frozen=True)
class PlotKind:
    """How to draw one curve type."""

    key: str
    title: str
    xlabel: str
    ylabel: str
    thresholds: np.ndarray
    curve: Callable[[Curves], np.ndarray]
    score: Callable[[Scores], float]
    score_label: str


PLOT_KINDS: dict[str, PlotKind] = {
    "success": PlotKind("success", "Success plot", "Overlap threshold", "Success rate", SUCCESS_THRESHOLDS,
                        lambda c: c.success, lambda s: s.auc, "AUC"),
    "precision": PlotKind("precision", "Precision plot", "Location error threshold (pixels)", "Precision",
                          PRECISION_THRESHOLDS, lambda c: c.precision, lambda s: s.precision,
                          f"at {PRECISION_AT_PX:g} px"),
    "norm_precision": PlotKind("norm_precision", "Normalised precision plot",
                               "Normalised location error threshold", "Normalised precision",
                               NORM_PRECISION_THRESHOLDS, lambda c: c.norm_precision,
                               lambda s: s.norm_precision, f"at {NORM_PRECISION_AT:g}"),
}

#: Curve and grid line widths (points), used by the PNG/PDF and restored in the TikZ files.
LINE_WIDTH = 1.6
GRID_LINE_WIDTH = 0.6
#: TikZ axis height relative to its width: the figures' 6 x 4.5 in.
TIKZ_ASPECT = 0.75


def legend_entries(scores: dict[str, Scores], kind: str) -> list[tuple[str, str]]:
    """``(tracker, "name [score]")`` pairs sorted by the plot's score, best first."""
    plot = PLOT_KINDS[kind]
    ordered = sorted(scores.items(), key=lambda item: -plot.score(item[1]))
    return [(name, f"{name} [{plot.score(s):.3f}]") for name, s in ordered]


def name_styles(names: list[str]) -> dict[str, "TrackerStyle"]:
    """Styles from display names alone (each its own colour, solid); see :mod:`evaluation.analysis.styles`."""
    from evaluation.analysis.styles import assign_styles
    from evaluation.sources import Pairing

    return assign_styles({n: Pairing(f":{n}") for n in names})


def draw_axes(axes: Any, curves: dict[str, Curves], scores: dict[str, Scores], kind: str, title: str,
              styles: dict[str, "TrackerStyle"] | None = None) -> None:
    """One plot into ``axes``: a curve per tracker in its style, legend ``name [score]`` titled with the score."""
    plot = PLOT_KINDS[kind]
    styles = styles if styles is not None else name_styles(list(scores))
    missing = sorted(set(scores) - set(styles))
    if missing:
        raise ValueError(f"no style for {', '.join(missing)}")
    for name, label in legend_entries(scores, kind):
        axes.plot(plot.thresholds, plot.curve(curves[name]), label=label, linewidth=LINE_WIDTH,
                  linestyle=styles[name].linestyle, color=styles[name].color)
    axes.set_xlim(float(plot.thresholds[0]), float(plot.thresholds[-1]))
    axes.set_ylim(0.0, 1.0)
    axes.set_xlabel(plot.xlabel)
    axes.set_ylabel(plot.ylabel)
    axes.set_title(title)
    axes.grid(True, linestyle=":", linewidth=GRID_LINE_WIDTH)
    axes.legend(loc="lower left" if kind == "success" else "lower right", fontsize="small",
                title=plot.score_label, title_fontsize="small")


def draw_plot(curves: dict[str, Curves], scores: dict[str, Scores], kind: str, title: str,
              styles: dict[str, "TrackerStyle"] | None = None) -> Figure:
    """A figure with one curve per tracker; ``title`` is shown above the axes."""
    figure = Figure(figsize=(6.0, 4.5))
    FigureCanvasAgg(figure)
    draw_axes(figure.add_subplot(1, 1, 1), curves, scores, kind, title, styles)
    figure.tight_layout()
    return figure


_LATEX_SPECIALS = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                   "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}


def latex_escape(text: str) -> str:
    """``text`` with LaTeX's special characters escaped (for legend entries in TikZ files)."""
    return "".join(_LATEX_SPECIALS.get(c, c) for c in text)


#: LaTeX size commands by font size relative to the figure's base font size (largest first).
_LATEX_SIZES = ((1.15, r"\large"), (0.95, r"\normalsize"), (0.85, r"\small"), (0.75, r"\footnotesize"),
                (0.65, r"\scriptsize"), (0.0, r"\tiny"))

#: The preamble every exported ``.tex`` needs (stated in its header comment).
TIKZ_PREAMBLE = (r"\usepackage{pgfplots}", r"\pgfplotsset{compat=newest}")


def latex_font_size(points: float) -> str:
    """The LaTeX size command closest to ``points`` relative to matplotlib's base font size."""
    import matplotlib

    ratio = points / float(matplotlib.rcParams["font.size"])
    return next(command for threshold, command in _LATEX_SIZES if ratio >= threshold)


def check_latex_size(command: str) -> str:
    r"""``command`` (``\small`` or ``small``) as a LaTeX size command; ``ValueError`` when it is not one."""
    name = command.lstrip("\\")
    sizes = [c for _, c in _LATEX_SIZES]
    if "\\" + name not in sizes:
        raise ValueError(f"legend font '{command}' is not a LaTeX size (use one of: {', '.join(sizes)})")
    return "\\" + name


_TIKZ_DASHES = {"--": "dashed", ":": "dotted", "-.": "dashdotted"}


class TikzExportError(ValueError):
    """The exporter's output does not have the structure :func:`finish_tikz` edits."""


def finish_tikz(code: str, axes: Any, description: str, width: str | None = None,
                legend_font: str | None = None) -> str:
    r"""Restore in ``code`` (``matplot2tikz`` output of a figure whose only axes is ``axes``) what the
    exporter drops, and prepend a header comment.

    - the legend title (an empty-image first legend entry, as pgfplots has no legend title) and the
      legend font size (the LaTeX size closest to the PNG's relative size, or ``legend_font``, e.g.
      ``\scriptsize`` for narrow panels);
    - the grid's line style and width; the curves' line widths (``line width`` of each ``\addplot``);
    - with ``width`` (a TeX length such as ``0.48\linewidth``): the axis width, height ``0.75 *`` it.

    Raises:
        TikzExportError: ``code`` has not exactly one ``axis`` environment.
    """
    begin = code.count(r"\begin{axis}[")
    if begin != 1 or code.count(r"\end{axis}") != 1:
        raise TikzExportError(f"expected one axis environment in the TikZ code, found {begin}")
    end = _options_end(code)
    options = []
    legend = axes.get_legend()
    grid_lines = axes.xaxis.get_gridlines()
    if grid_lines:
        grid = grid_lines[0]
        dash = _TIKZ_DASHES.get(grid.get_linestyle(), "solid")
        options.append(f"grid style={{{dash}, line width={grid.get_linewidth():g}pt}}")
    if legend is not None:
        texts = legend.get_texts()
        if texts or legend_font:
            font = check_latex_size(legend_font) if legend_font else latex_font_size(texts[0].get_fontsize())
            options.append(f"legend style={{font={font}}}")
    if width:
        options.append(f"width={width}, height={TIKZ_ASPECT:g}*({width})")
    # Appended last, so these keys win over the exporter's (pgfplots' "style" keys append).
    addition = ",\n" + ",\n".join(options) + "\n" if options else ""
    body = code[:end].rstrip() + addition + code[end:]
    # Curve widths: every \addplot gets the width its matplotlib line has (all curves share LINE_WIDTH
    # here; the exporter scales widths by its own factor).
    lines = [line for line in axes.get_lines() if not line.get_label().startswith("_")]
    widths = iter(line.get_linewidth() for line in lines)

    def _width(match: re.Match[str]) -> str:
        value = next(widths, None)
        plot_options = match.group(1)
        if value is None:
            return match.group(0)
        if re.search(r"line width=[0-9.]+pt", plot_options):
            plot_options = re.sub(r"line width=[0-9.]+pt", f"line width={value:g}pt", plot_options)
        else:
            plot_options = f"line width={value:g}pt, {plot_options}"
        return f"\\addplot [{plot_options}]"

    body = re.sub(r"\\addplot\s*\[([^\]]*)\]", _width, body)
    title = legend.get_title().get_text() if legend is not None else ""
    if title:
        axis_end = _options_end(body)
        entry = ("\n\\addlegendimage{empty legend}\n"
                 f"\\addlegendentry{{\\hspace{{-0.6cm}}{latex_escape(title)}}}")
        body = body[:axis_end + 1] + entry + body[axis_end + 1:]
    header = [f"% {description}",
              "% Needs in the preamble: " + " ".join(TIKZ_PREAMBLE),
              r"% Use in a document: \input{<this file>} (e.g. inside a figure environment)."]
    return "\n".join(header) + "\n" + body


def _options_end(code: str) -> int:
    r"""Index of the "]" closing the ``\begin{axis}[`` option list."""
    depth = 0
    for i in range(code.index(r"\begin{axis}[") + len(r"\begin{axis}"), len(code)):
        char = code[i]
        if char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
            if depth == 0:
                return i
    raise TikzExportError("unterminated option list of the axis environment")


def tikz_code(figure: Figure, description: str, width: str | None = None, legend_font: str | None = None) -> str:
    """The finished TikZ code of a single-axes ``figure`` (see :func:`finish_tikz`).

    Legend entries are escaped for LaTeX in place (write the PNG/PDF first).
    """
    try:
        import matplot2tikz
    except ImportError as exc:
        raise ImportError("TikZ export needs the 'matplot2tikz' package: pip install matplot2tikz "
                          "(or pass --no-tikz)") from exc
    if len(figure.axes) != 1:
        raise TikzExportError(f"TikZ export draws one axes per file, the figure has {len(figure.axes)}")
    axes = figure.axes[0]
    # matplot2tikz escapes titles and labels but copies legend entries verbatim: a tracker named
    # KCF_GaussHog would not compile.
    legend = axes.get_legend()
    for text in legend.get_texts() if legend is not None else []:
        text.set_text(latex_escape(text.get_text()))
    code = matplot2tikz.get_tikz_code(figure=figure, strict=False)
    return finish_tikz(code, axes, description, width, legend_font)


def join_tikz(codes: list[str], columns: int) -> str:
    r"""Panels side by side (``\hfill``), ``columns`` per row; each panel keeps its own header comment."""
    parts = []
    for i, code in enumerate(codes):
        if i and i % columns == 0:
            parts.append("\\par\\medskip\n")
        elif i:
            parts.append("\\hfill\n")
        parts.append(code.rstrip("\n") + "%\n")
    return "".join(parts)


def save_plot(figure: Figure, out_stem: Path, tikz: bool = True, tikz_width: str | None = None) -> list[Path]:
    """Write ``<out_stem>.png``, ``.pdf`` and (with ``tikz``) ``.tex``; returns the paths.

    The TikZ export escapes the legend entries of ``figure`` in place (it is written last);
    ``tikz_width`` sets the TikZ axis width (a TeX length; default: pgfplots' own).
    """
    out_stem.parent.mkdir(parents=True, exist_ok=True)
    paths = []
    for suffix in (".png", ".pdf"):
        path = out_stem.with_suffix(suffix)
        figure.savefig(path, dpi=150 if suffix == ".png" else None)
        paths.append(path)
    if tikz:
        path = out_stem.with_suffix(".tex")
        title = figure.axes[0].get_title() if figure.axes else ""
        path.write_text(tikz_code(figure, f"{title or out_stem.name} (SiamOT analysis, PGFPlots)", tikz_width))
        paths.append(path)
    return paths


def plot_all(curves: dict[str, Curves], scores: dict[str, Scores], out_dir: Path, title_suffix: str = "",
             tikz: bool = True, kinds: tuple[str, ...] = tuple(PLOT_KINDS),
             styles: dict[str, "TrackerStyle"] | None = None) -> list[Path]:
    """Every plot kind for one set of sequences into ``out_dir/<kind>.{png,pdf,tex}`` (``styles``: see
    :func:`draw_plot`)."""
    paths: list[Path] = []
    for kind in kinds:
        title = PLOT_KINDS[kind].title + (f" {title_suffix}" if title_suffix else "")
        figure = draw_plot(curves, scores, kind, title, styles)
        paths += save_plot(figure, out_dir / kind, tikz=tikz)
    return paths
