r"""Success, precision and normalised-precision plots: PNG, PDF and TikZ (``matplot2tikz``).

Figures are built with ``matplotlib.figure.Figure`` on the Agg canvas (no pyplot, no global backend
switch), legends read ``name [score]`` sorted by score, best first, under a title naming the score.
Each tracker keeps one style (colour, line style) in every plot: pass the report's styles
(:func:`evaluation.analysis.styles.assign_styles`); without them the styles come from the names alone.

Nothing is clipped at 0 or 1: the axes reach a little past the curves' range (:data:`AXIS_MARGIN`),
the ticks stay on the range. PDFs embed TrueType (Type 42) fonts, not Type 3 (:func:`save_figure`).

Paper layouts (:data:`LAYOUTS`, ``--layout column|page``) size the figures for a paper: text at the
sizes of a 10 pt document's ``\footnotesize`` (labels, titles) and ``\scriptsize`` (ticks, legends), a
legend under each panel (never over a curve; :func:`legend_overlaps` checks it), the score named in
the panel's title. Without a layout (``analyze``'s report) a plot is a 6 x 4.5 in screen figure with
its legend inside.

TikZ export uses ``matplot2tikz`` (``tikzplotlib`` cannot import with matplotlib >= 3.8), then
:func:`finish_tikz` restores what the exporter drops (legend title and font size, grid style, curve
line widths, fixed-point tick labels, a layout's sizes and legend place) and adds a header naming the
preamble the file needs.
"""
from __future__ import annotations

import logging
import math
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
#: The axes reach this share of the data range past each end, so a curve at 0 or 1 (or at the last
#: threshold) is drawn whole instead of half under a spine.
AXIS_MARGIN = 0.02
#: Matplotlib settings every saved figure is written with: TrueType (Type 42) fonts in PDF and
#: PostScript, which publishers' checks (IEEE PDF eXpress, ACM) accept; Type 3 fonts they flag.
SAVE_RC: dict[str, Any] = {"pdf.fonttype": 42, "ps.fonttype": 42}
# Embedding TrueType fonts runs fontTools' subsetter, which logs every font table it prunes at INFO:
# the command-line tools log at INFO, so that would be hundreds of lines per report.
logging.getLogger("fontTools").setLevel(logging.WARNING)

#: Text sizes (points) of the paper layouts: a 10 pt document's \footnotesize and \scriptsize, which
#: the TikZ files name, so PNG, PDF and TikZ read alike at 100 % scale.
FONT_PT = 8.0
SMALL_FONT_PT = 7.0
LATEX_FONT = r"\footnotesize"
LATEX_SMALL_FONT = r"\scriptsize"
#: Space (points) from the bottom of the axes to the top of a legend placed under it: tick labels and
#: the x label fit in between.
LEGEND_DROP_PT = 28.0
#: Width (points) the y label and tick labels take left of the axes in a TikZ panel.
TIKZ_LABELS_PT = 40.0


@dataclass(frozen=True)
class Layout:
    r"""Sizes of a paper figure: ``columns`` panels per row, the whole figure ``width_in`` inches wide in
    PNG/PDF and each TikZ panel ``tikz_panel`` wide (a TeX length, legend and labels included); the
    axes' height is ``aspect`` times their width; each panel's legend sits under it in
    ``legend_columns`` columns."""

    name: str
    columns: int
    width_in: float
    tikz_panel: str
    aspect: float
    legend_columns: int
    description: str

    @property
    def panel_width_in(self) -> float:
        return self.width_in / self.columns


#: The presets: ``column`` for a figure one column wide (a two-column paper's ``figure``; panels
#: stacked), ``page`` for the text width (a two-column paper's ``figure*``, a one-column paper's
#: ``figure``; two panels per row).
LAYOUTS: dict[str, Layout] = {
    "column": Layout("column", 1, 3.4, r"\linewidth", 0.5, 1,
                     "one column wide (figure in a two-column paper): one panel per row"),
    "page": Layout("page", 2, 7.0, r"0.49\linewidth", 0.62, 1,
                   "the text width (figure* in a two-column paper, figure in a one-column one): two panels per row"),
}


def get_layout(name: str | Layout | None) -> Layout | None:
    """The preset named ``name`` (``None`` stays ``None``: the screen figure); ``ValueError`` for another name."""
    if name is None or isinstance(name, Layout):
        return name
    if name not in LAYOUTS:
        raise ValueError(f"unknown layout '{name}' (use one of: {', '.join(LAYOUTS)})")
    return LAYOUTS[name]


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


def _padded(low: float, high: float) -> tuple[float, float]:
    pad = AXIS_MARGIN * (high - low)
    return low - pad, high + pad


def draw_axes(axes: Any, curves: dict[str, Curves], scores: dict[str, Scores], kind: str, title: str,
              styles: dict[str, "TrackerStyle"] | None = None, layout: Layout | str | None = None) -> None:
    """One plot into ``axes``: a curve per tracker in its style, legend ``name [score]``, best first.

    The axes reach :data:`AXIS_MARGIN` past the thresholds and past [0, 1], ticks on the range only.
    Without ``layout`` the legend is inside, titled with the score; with one (see :class:`Layout`) it is
    under the axes (below the x label) and the title ends with the score's name, e.g. ``[AUC]``.
    """
    plot = PLOT_KINDS[kind]
    layout = get_layout(layout)
    styles = styles if styles is not None else name_styles(list(scores))
    missing = sorted(set(scores) - set(styles))
    if missing:
        raise ValueError(f"no style for {', '.join(missing)}")
    for name, label in legend_entries(scores, kind):
        axes.plot(plot.thresholds, plot.curve(curves[name]), label=label, linewidth=LINE_WIDTH,
                  linestyle=styles[name].linestyle, color=styles[name].color)
    low, high = float(plot.thresholds[0]), float(plot.thresholds[-1])
    axes.set_xlim(*_padded(low, high))
    axes.set_ylim(*_padded(0.0, 1.0))
    axes.set_yticks(np.linspace(0.0, 1.0, 6))
    axes.set_xticks(np.linspace(low, high, 6) if kind != "precision" else np.arange(low, high + 1e-9, 10.0))
    axes.grid(True, linestyle=":", linewidth=GRID_LINE_WIDTH)
    if layout is None:
        axes.set_xlabel(plot.xlabel)
        axes.set_ylabel(plot.ylabel)
        axes.set_title(title)
        axes.legend(loc="lower left" if kind == "success" else "lower right", fontsize="small",
                    title=plot.score_label, title_fontsize="small")
        return
    axes.set_xlabel(plot.xlabel, fontsize=FONT_PT)
    axes.set_ylabel(plot.ylabel, fontsize=FONT_PT)
    axes.set_title(f"{title} [{plot.score_label}]", fontsize=FONT_PT)
    axes.tick_params(labelsize=SMALL_FONT_PT)
    place_legend_below(axes, layout.legend_columns)


def place_legend_below(axes: Any, columns: int) -> Any:
    """The axes' legend under them, :data:`LEGEND_DROP_PT` below the axes (clear of the x label), in
    ``columns`` columns, without frame; returns it."""
    from matplotlib.transforms import offset_copy

    below = offset_copy(axes.transAxes, fig=axes.figure, y=-LEGEND_DROP_PT, units="points")
    # Matplotlib fills a legend column by column, pgfplots row by row: order the entries so both read
    # best first along the rows.
    handles, labels = axes.get_legend_handles_labels()
    order = [i for column in range(columns) for i in range(column, len(labels), columns)]
    return axes.legend([handles[i] for i in order], [labels[i] for i in order], loc="upper center", bbox_to_anchor=(0.5, 0.0), bbox_transform=below, ncols=columns,
                       fontsize=SMALL_FONT_PT, frameon=False, borderaxespad=0.0, borderpad=0.0,
                       handlelength=1.8, columnspacing=1.0, handletextpad=0.5)


def panel_figure(n_panels: int, layout: Layout) -> tuple[Figure, list[Any]]:
    """A figure of ``n_panels`` axes in ``layout``'s grid (``layout.columns`` per row, a short last row
    centred, as the TikZ panels are), sized for the paper; constrained layout keeps legends inside it."""
    columns = min(layout.columns, n_panels)
    rows = math.ceil(n_panels / columns)
    panel_w = layout.panel_width_in
    axes_h = layout.aspect * (panel_w - TIKZ_LABELS_PT / 72.0)
    panel_h = axes_h + (FONT_PT * 2.2 + LEGEND_DROP_PT + _legend_height_pt(layout)) / 72.0
    figure = Figure(figsize=(panel_w * columns, panel_h * rows), layout="constrained")
    FigureCanvasAgg(figure)
    if n_panels % columns == 0:
        return figure, [figure.add_subplot(rows, columns, i + 1) for i in range(n_panels)]
    # Half-width grid cells: a panel spans two, so a short last row can be centred.
    grid = figure.add_gridspec(rows, 2 * columns)
    axes = []
    for i in range(n_panels):
        row, col = divmod(i, columns)
        in_row = min(columns, n_panels - row * columns)
        start = (columns - in_row) + 2 * col
        axes.append(figure.add_subplot(grid[row, start:start + 2]))
    return figure, axes


#: Legend rows the layout's panel heights leave room for (a legend of more rows makes the figure taller).
_LEGEND_ROWS = 5


def _legend_height_pt(layout: Layout) -> float:
    return math.ceil(_LEGEND_ROWS / layout.legend_columns) * SMALL_FONT_PT * 1.25


def draw_plot(curves: dict[str, Curves], scores: dict[str, Scores], kind: str, title: str,
              styles: dict[str, "TrackerStyle"] | None = None, layout: Layout | str | None = None) -> Figure:
    """A figure with one curve per tracker; ``title`` is shown above the axes. Without ``layout`` a
    6 x 4.5 in screen figure, with one a single panel of the layout's size."""
    layout = get_layout(layout)
    if layout is None:
        figure = Figure(figsize=(6.0, 4.5))
        FigureCanvasAgg(figure)
        draw_axes(figure.add_subplot(1, 1, 1), curves, scores, kind, title, styles)
        figure.tight_layout()
        return figure
    figure, (axes,) = panel_figure(1, layout)
    draw_axes(axes, curves, scores, kind, title, styles, layout)
    return figure


def legend_overlaps(figure: Figure) -> list[str]:
    """What each legend of ``figure`` covers, as a reader would see it, from matplotlib's drawn extents.

    For every axes with a legend: each curve point (of any axes; vertices and points along the
    segments between them) that lies inside the legend's box, mapped into that axes' data
    coordinates; and every other axes, tick label, axis label and title whose box meets the
    legend's (its own axes' area excepted: an inside legend is judged by the curves it covers).
    Empty when nothing is covered.
    """
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    found: list[str] = []
    for axes in figure.axes:
        legend = axes.get_legend()
        if legend is None:
            continue
        box = legend.get_window_extent(renderer)
        corners = axes.transData.inverted().transform([[box.x0, box.y0], [box.x1, box.y1]])
        (x0, y0), (x1, y1) = corners
        for other in figure.axes:
            for line in other.get_lines():
                if line.get_label().startswith("_"):
                    continue
                xy = other.transData.transform(np.column_stack(line.get_data()).astype(float))
                # Points along each segment too: a straight stretch can cross a legend between vertices.
                steps = np.linspace(0.0, 1.0, 17)[:-1, None]
                xy = np.vstack([(a + steps * (b - a)) for a, b in zip(xy[:-1], xy[1:])] + [xy[-1:]])
                data = axes.transData.inverted().transform(xy)
                inside = (data[:, 0] >= x0) & (data[:, 0] <= x1) & (data[:, 1] >= y0) & (data[:, 1] <= y1)
                if inside.any():
                    found.append(f"legend of '{axes.get_title()}' covers {int(inside.sum())} points of "
                                 f"'{line.get_label()}' (data box x {x0:.3g}..{x1:.3g}, y {y0:.3g}..{y1:.3g})")
        texts = []
        for other in figure.axes:
            if other is not axes:
                texts.append((f"axes '{other.get_title()}'", other.get_window_extent(renderer)))
            for text in (other.xaxis.label, other.yaxis.label, other.title, *other.get_xticklabels(),
                         *other.get_yticklabels()):
                if text.get_text() and text.get_visible():
                    texts.append((f"text '{text.get_text()}'", text.get_window_extent(renderer)))
        for what, extent in texts:
            if extent.width > 0 and extent.height > 0 and box.overlaps(extent):
                found.append(f"legend of '{axes.get_title()}' meets {what}")
    return found


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
                legend_font: str | None = None, layout: Layout | str | None = None) -> str:
    r"""Restore in ``code`` (``matplot2tikz`` output of a figure whose only axes is ``axes``) what the
    exporter drops, and prepend a header comment.

    - the legend title (an empty-image first legend entry, as pgfplots has no legend title) and the
      legend font size (the LaTeX size closest to the PNG's relative size, or ``legend_font``, e.g.
      ``\scriptsize`` for narrow panels);
    - the grid's line style and width; the curves' line widths (``line width`` of each ``\addplot``);
    - with ``width`` (a TeX length such as ``0.48\linewidth``): the axis width, height ``0.75 *`` it;
    - the PNG's ticks, labelled in fixed point with the decimals they need (no ``4\cdot 10^{-2}`` beside
      ``0.12``);
    - with ``layout``: the panel ``width`` wide (default the layout's ``tikz_panel``; labels included,
      ``scale only axis``), the layout's fonts, and the legend under the axes as in the PNG.

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
    layout = get_layout(layout)
    xticks, yticks = _shown_ticks(axes.get_xticks(), axes.get_xlim()), _shown_ticks(axes.get_yticks(), axes.get_ylim())
    ticks = (f"xtick={{{','.join(f'{t:g}' for t in xticks)}}}, ytick={{{','.join(f'{t:g}' for t in yticks)}}}, "
             f"scaled ticks=false, xticklabel style={{{_fixed_ticks(xticks)}}}, "
             f"yticklabel style={{{_fixed_ticks(yticks)}}}")
    if layout is None:
        options.append(ticks)
        if legend is not None:
            texts = legend.get_texts()
            if texts or legend_font:
                font = check_latex_size(legend_font) if legend_font else latex_font_size(texts[0].get_fontsize())
                options.append(f"legend style={{font={font}}}")
        if width:
            options.append(f"width={width}, height={TIKZ_ASPECT:g}*({width})")
    else:
        axis_width = f"{width or layout.tikz_panel}-{TIKZ_LABELS_PT:g}pt"
        options += [f"scale only axis, width={axis_width}, height={layout.aspect:g}*({axis_width})",
                    ticks, f"tick label style={{font={LATEX_SMALL_FONT}}}",
                    f"label style={{font={LATEX_FONT}}}, title style={{font={LATEX_FONT}}}"]
        if legend is not None:
            font = check_latex_size(legend_font) if legend_font else LATEX_SMALL_FONT
            options.append(f"legend style={{font={font}, draw=none, fill=none, at={{(0.5,0)}}, anchor=north, "
                           f"yshift=-{LEGEND_DROP_PT:g}pt, legend columns={layout.legend_columns}, "
                           "/tikz/every even column/.append style={column sep=0.5em}}")
    # Appended last, so these keys win over the exporter's (pgfplots' "style" keys append).
    addition = ",\n" + ",\n".join(options) + "\n" if options else ""
    body = code[:end].rstrip() + addition + code[end:]
    # Curve widths: every \addplot gets the width its matplotlib line has (all curves share LINE_WIDTH
    # here; the exporter scales widths by its own factor).
    lines = [line for line in axes.get_lines() if not line.get_label().startswith("_")]
    widths = iter((line.get_linewidth(), line.get_linestyle()) for line in lines)

    def _width(match: re.Match[str]) -> str:
        value, linestyle = next(widths, (None, None))
        plot_options = match.group(1)
        if value is None:
            return match.group(0)
        if re.search(r"line width=[0-9.]+pt", plot_options):
            plot_options = re.sub(r"line width=[0-9.]+pt", f"line width={value:g}pt", plot_options)
        else:
            plot_options = f"line width={value:g}pt, {plot_options}"
        dashes = _dash_pattern(linestyle, value)
        if dashes and re.search(r"\b(dashed|dotted|dashdotted)\b", plot_options):
            plot_options += f", dash pattern={dashes}"
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


def _dash_pattern(linestyle: str | None, width: float) -> str | None:
    """Matplotlib's dash pattern of ``linestyle`` at line ``width`` (points) as a TikZ ``dash pattern``:
    pgfplots' own ``dashed`` (3pt on, 3pt off) reads as dotted on a 1.6 pt curve."""
    import matplotlib

    name = {"--": "dashed", ":": "dotted", "-.": "dashdot"}.get(linestyle or "")
    if name is None:
        return None
    pattern = matplotlib.rcParams[f"lines.{name}_pattern"]
    scale = width if matplotlib.rcParams["lines.scale_dashes"] else 1.0
    return " ".join(f"{'on' if i % 2 == 0 else 'off'} {v * scale:.2f}pt" for i, v in enumerate(pattern))


def _shown_ticks(ticks: Any, limits: tuple[float, float]) -> list[float]:
    """The ticks matplotlib shows (those within the axis limits), rounded off float noise."""
    low, high = min(limits), max(limits)
    return [float(np.round(t, 10)) for t in ticks if low - 1e-12 <= t <= high + 1e-12]


def _fixed_ticks(ticks: Any) -> str:
    """pgfplots' number format for tick labels in fixed point with the decimals ``ticks`` need (at most 3)."""
    values = np.asarray(ticks, dtype=float)
    decimals = next((d for d in range(4) if np.allclose(values, np.round(values, d), atol=1e-9)), 3)
    return f"/pgf/number format/fixed, /pgf/number format/fixed zerofill, /pgf/number format/precision={decimals}"


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


def tikz_code(figure: Figure, description: str, width: str | None = None, legend_font: str | None = None,
              layout: Layout | str | None = None) -> str:
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
    return finish_tikz(code, axes, description, width, legend_font, layout)


def join_tikz(codes: list[str], columns: int) -> str:
    r"""Panels side by side (``\hfill``), ``columns`` per row, a short last row centred (as in the PNG);
    each panel keeps its own header comment."""
    parts = ["{\\centering%\n"]
    for i, code in enumerate(codes):
        if i and i % columns == 0:
            parts.append("\\par\\medskip\n")
        elif i:
            parts.append("\\hfill\n")
        parts.append(code.rstrip("\n") + "%\n")
    parts.append("\\par}%\n")
    return "".join(parts)


def save_figure(figure: Figure, path: Path, **savefig: Any) -> Path:
    """``figure.savefig(path, **savefig)`` with :data:`SAVE_RC` (TrueType fonts in PDF); returns ``path``."""
    import matplotlib

    with matplotlib.rc_context(SAVE_RC):
        figure.savefig(path, **savefig)
    return Path(path)


def save_plot(figure: Figure, out_stem: Path, tikz: bool = True, tikz_width: str | None = None,
              layout: Layout | str | None = None) -> list[Path]:
    """Write ``<out_stem>.png``, ``.pdf`` (TrueType fonts) and (with ``tikz``) ``.tex`` (a dot in the name is kept); returns the paths.

    The TikZ export escapes the legend entries of ``figure`` in place (it is written last);
    ``tikz_width`` sets the TikZ axis width (a TeX length; default: pgfplots' own, or the layout's).
    """
    out_stem.parent.mkdir(parents=True, exist_ok=True)
    paths = []
    for suffix in (".png", ".pdf"):
        path = out_stem.parent / f"{out_stem.name}{suffix}"
        dpi = (300 if get_layout(layout) else 150) if suffix == ".png" else None  # print or screen resolution
        paths.append(save_figure(figure, path, dpi=dpi))
    if tikz:
        path = out_stem.parent / f"{out_stem.name}.tex"
        title = figure.axes[0].get_title() if figure.axes else ""
        path.write_text(tikz_code(figure, f"{title or out_stem.name} (SiamOT analysis, PGFPlots)", tikz_width,
                                  layout=layout))
        paths.append(path)
    return paths


def plot_all(curves: dict[str, Curves], scores: dict[str, Scores], out_dir: Path, title_suffix: str = "",
             tikz: bool = True, kinds: tuple[str, ...] = tuple(PLOT_KINDS),
             styles: dict[str, "TrackerStyle"] | None = None, layout: Layout | str | None = None) -> list[Path]:
    """Every plot kind for one set of sequences into ``out_dir/<kind>.{png,pdf,tex}`` (``styles``,
    ``layout``: see :func:`draw_plot`)."""
    paths: list[Path] = []
    for kind in kinds:
        title = PLOT_KINDS[kind].title + (f" {title_suffix}" if title_suffix else "")
        figure = draw_plot(curves, scores, kind, title, styles, layout)
        paths += save_plot(figure, out_dir / kind, tikz=tikz, layout=layout)
    return paths
