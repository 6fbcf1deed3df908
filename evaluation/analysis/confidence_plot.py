"""Confidence against IoU: one panel per confidence, one binned curve per tracker (PNG, PDF, TikZ).

Each curve is the mean IoU in equal-count confidence bins (:func:`evaluation.analysis.confidence.binned_iou`)
with the bins' IoU quartiles as a band; the dashed line is the success threshold IoU = 0.5. Legends read
``name [ROC AUC]`` (``-`` when undefined). Each tracker is drawn in its style, the one it has in every
other plot of the report (:mod:`evaluation.analysis.styles`). Drawn like the other report plots
(``Figure`` on the Agg canvas, axes a little past [0, 1], fixed-point TikZ ticks) and written with
:func:`evaluation.analysis.plots.save_plot`.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Mapping

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from evaluation.analysis.confidence import CONFIDENCE_KEYS, SUCCESS_IOU, binned_iou, roc_auc
from evaluation.analysis.plots import AXIS_MARGIN, join_tikz, name_styles, save_plot, tikz_code
from evaluation.analysis.states import TrackerStates

if TYPE_CHECKING:
    from evaluation.analysis.styles import TrackerStyle

CONFIDENCE_LABELS: dict[str, str] = {"peak": "Peak", "psr": "PSR", "jcpp": "JCPP", "apce": "APCE"}


def _shown(trackers: list[str], states: Mapping[str, TrackerStates]) -> tuple[list[str], list[str]]:
    shown = [t for t in trackers if t in states and states[t].confidence_keys()]
    keys = [k for k in CONFIDENCE_KEYS if any(k in states[t].confidence_keys() for t in shown)]
    return shown, keys


def _draw_panel(axes, key: str, shown: list[str], states: Mapping[str, TrackerStates], n_bins: int,
                ylabel: bool, styles: Mapping[str, "TrackerStyle"]) -> None:
    for tracker in shown:
        values, ious = states[tracker].pooled(key)
        if len(values) == 0:
            continue
        bins = binned_iou(values, ious, n_bins)
        auc = roc_auc(values, ious > SUCCESS_IOU).value
        label = f"{tracker} [{'-' if math.isnan(auc) else f'{auc:.3f}'}]"
        color = styles[tracker].color
        axes.fill_between(bins.confidence, bins.q25, bins.q75, color=color, alpha=0.15, linewidth=0)
        axes.plot(bins.confidence, bins.mean, marker="o", markersize=3, linewidth=1.4, color=color,
                  linestyle=styles[tracker].linestyle, label=label)
    axes.axhline(SUCCESS_IOU, color="0.4", linestyle="--", linewidth=0.8)
    axes.set_ylim(-AXIS_MARGIN, 1.0 + AXIS_MARGIN)
    axes.set_xlabel(f"{CONFIDENCE_LABELS.get(key, key)} (bins of equal frame counts)")
    if ylabel:
        axes.set_ylabel("IoU (mean, quartiles per bin)")
    axes.set_title(CONFIDENCE_LABELS.get(key, key))
    axes.grid(True, linestyle=":", linewidth=0.6)
    axes.legend(loc="best", fontsize="x-small", title="ROC AUC", title_fontsize="x-small")


def draw_confidence_plot(trackers: list[str], states: Mapping[str, TrackerStates], title: str,
                         n_bins: int = 10, only: str | None = None,
                         styles: Mapping[str, "TrackerStyle"] | None = None) -> Figure | None:
    """The figure (``None`` when no tracker has confidences); trackers keep the order given.

    ``only``: draw that confidence's panel alone (a single-axes figure, as the TikZ export needs).
    ``styles``: the report's styles by tracker (default: from the names alone, as
    :func:`evaluation.analysis.plots.name_styles`); a shown tracker without one is a ``ValueError``.
    """
    shown, keys = _shown(trackers, states)
    styles = styles if styles is not None else name_styles(list(trackers))
    missing = [t for t in shown if t not in styles]
    if missing:
        raise ValueError(f"no style for {', '.join(missing)}")
    if only is not None:
        keys = [k for k in keys if k == only]
    if not keys:
        return None
    figure = Figure(figsize=(3.3 * len(keys), 3.6))
    FigureCanvasAgg(figure)
    for panel, key in enumerate(keys):
        _draw_panel(figure.add_subplot(1, len(keys), panel + 1), key, shown, states, n_bins, panel == 0, styles)
    if only is None:
        figure.suptitle(title, fontsize="medium")
    figure.tight_layout()
    return figure


def plot_confidence(trackers: list[str], states: Mapping[str, TrackerStates], out_dir: Path, title: str,
                    tikz: bool = True, styles: Mapping[str, "TrackerStyle"] | None = None) -> list[Path]:
    """``out_dir/confidence.{png,pdf,tex}`` (the TikZ file has one ``tikzpicture`` per confidence);
    no files (empty list) when no tracker has confidences. ``styles``: see :func:`draw_confidence_plot`."""
    figure = draw_confidence_plot(trackers, states, title, styles=styles)
    if figure is None:
        return []
    paths = save_plot(figure, out_dir / "confidence", tikz=False)
    if tikz:
        _, keys = _shown(trackers, states)
        codes = [tikz_code(draw_confidence_plot(trackers, states, title, only=key, styles=styles),
                           f"{title}: {CONFIDENCE_LABELS.get(key, key)} (SiamOT analysis, PGFPlots)")
                 for key in keys]
        path = out_dir / "confidence.tex"
        path.write_text(join_tikz(codes, 2))
        paths.append(path)
    return paths
