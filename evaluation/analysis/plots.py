"""Success, precision and normalised-precision plots: PNG, PDF and TikZ (``matplot2tikz``).

Figures are built with ``matplotlib.figure.Figure`` on the Agg canvas (no pyplot, no global backend
switch), legends read ``name [score]`` sorted by score, best first. TikZ export uses ``matplot2tikz``
(``tikzplotlib`` cannot import with matplotlib >= 3.8).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from evaluation.analysis.metrics import (NORM_PRECISION_AT, NORM_PRECISION_THRESHOLDS, PRECISION_AT_PX,
                                         PRECISION_THRESHOLDS, SUCCESS_THRESHOLDS, Curves, Scores)


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

_LINE_STYLES = ("-", "--", "-.", ":")


def legend_entries(scores: dict[str, Scores], kind: str) -> list[tuple[str, str]]:
    """``(tracker, "name [score]")`` pairs sorted by the plot's score, best first."""
    plot = PLOT_KINDS[kind]
    ordered = sorted(scores.items(), key=lambda item: -plot.score(item[1]))
    return [(name, f"{name} [{plot.score(s):.3f}]") for name, s in ordered]


def draw_plot(curves: dict[str, Curves], scores: dict[str, Scores], kind: str, title: str) -> Figure:
    """A figure with one curve per tracker; ``title`` is shown above the axes."""
    plot = PLOT_KINDS[kind]
    figure = Figure(figsize=(6.0, 4.5))
    FigureCanvasAgg(figure)
    axes = figure.add_subplot(1, 1, 1)
    for i, (name, label) in enumerate(legend_entries(scores, kind)):
        axes.plot(plot.thresholds, plot.curve(curves[name]), label=label, linewidth=1.6,
                  linestyle=_LINE_STYLES[(i // 10) % len(_LINE_STYLES)], color=f"C{i % 10}")
    axes.set_xlim(float(plot.thresholds[0]), float(plot.thresholds[-1]))
    axes.set_ylim(0.0, 1.0)
    axes.set_xlabel(plot.xlabel)
    axes.set_ylabel(plot.ylabel)
    axes.set_title(title)
    axes.grid(True, linestyle=":", linewidth=0.6)
    axes.legend(loc="lower left" if kind == "success" else "lower right", fontsize="small",
                title=plot.score_label, title_fontsize="small")
    figure.tight_layout()
    return figure


_LATEX_SPECIALS = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                   "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}


def latex_escape(text: str) -> str:
    """``text`` with LaTeX's special characters escaped (for legend entries in TikZ files)."""
    return "".join(_LATEX_SPECIALS.get(c, c) for c in text)


def save_plot(figure: Figure, out_stem: Path, tikz: bool = True) -> list[Path]:
    """Write ``<out_stem>.png``, ``.pdf`` and (with ``tikz``) ``.tex``; returns the paths.

    The TikZ export escapes the legend entries of ``figure`` in place (it is written last).
    """
    out_stem.parent.mkdir(parents=True, exist_ok=True)
    paths = []
    for suffix in (".png", ".pdf"):
        path = out_stem.with_suffix(suffix)
        figure.savefig(path, dpi=150 if suffix == ".png" else None)
        paths.append(path)
    if tikz:
        try:
            import matplot2tikz
        except ImportError as exc:
            raise ImportError("TikZ export needs the 'matplot2tikz' package: pip install matplot2tikz "
                              "(or pass --no-tikz)") from exc
        path = out_stem.with_suffix(".tex")
        # matplot2tikz escapes titles and labels but copies legend entries verbatim: a tracker named
        # KCF_GaussHog would not compile. The PNG/PDF are written already, so escape in place.
        for axes in figure.axes:
            legend = axes.get_legend()
            for text in legend.get_texts() if legend is not None else []:
                text.set_text(latex_escape(text.get_text()))
        matplot2tikz.save(path, figure=figure, strict=False)
        paths.append(path)
    return paths


def plot_all(curves: dict[str, Curves], scores: dict[str, Scores], out_dir: Path, title_suffix: str = "",
             tikz: bool = True, kinds: tuple[str, ...] = tuple(PLOT_KINDS)) -> list[Path]:
    """Every plot kind for one set of sequences into ``out_dir/<kind>.{png,pdf,tex}``."""
    paths: list[Path] = []
    for kind in kinds:
        title = PLOT_KINDS[kind].title + (f" {title_suffix}" if title_suffix else "")
        figure = draw_plot(curves, scores, kind, title)
        paths += save_plot(figure, out_dir / kind, tikz=tikz)
    return paths
