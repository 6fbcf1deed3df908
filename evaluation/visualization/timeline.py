"""Time-lines of the online state of one sequence: JCPP, loss and training / template-update events.

:class:`TimelineHistory` collects the per-frame tracker outputs; :func:`timeline_figure` draws
them with matplotlib (object API on an Agg canvas: no pyplot state, works headless);
:class:`TimelinePanel` redraws a compact version as an RGB image panel every frame (debug level 3), and
:func:`save_timeline` writes PNG and PDF files.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

import cv2
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure


def _as_float(value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan


@dataclass
class TimelineHistory:
    """Per-frame online state of one sequence (frames without a key get NaN / False).

    Attributes:
        frame_numbers: frame numbers as shown in the overlays (1-based video numbering).
        jcpp, loss, peak, psr: values of the output keys of the same names.
        trained, template_updated: the boolean events of each frame.
    """

    frame_numbers: list[int] = field(default_factory=list)
    jcpp: list[float] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    peak: list[float] = field(default_factory=list)
    psr: list[float] = field(default_factory=list)
    trained: list[bool] = field(default_factory=list)
    template_updated: list[bool] = field(default_factory=list)

    def append(self, frame_number: int, output: Mapping[str, object]) -> None:
        self.frame_numbers.append(int(frame_number))
        self.jcpp.append(_as_float(output.get("jcpp")))
        self.loss.append(_as_float(output.get("loss")))
        self.peak.append(_as_float(output.get("peak")))
        self.psr.append(_as_float(output.get("psr")))
        self.trained.append(bool(output.get("trained", False)))
        self.template_updated.append(bool(output.get("template_updated", False)))

    def __len__(self) -> int:
        return len(self.frame_numbers)

    def has_state(self) -> bool:
        """True when any frame carried JCPP, loss or an event (OpenCV peers carry none)."""
        return bool(np.isfinite(self.jcpp).any() or np.isfinite(self.loss).any()
                    or any(self.trained) or any(self.template_updated))


def timeline_figure(history: TimelineHistory, figsize: tuple[float, float] = (8.0, 2.4), dpi: int = 100,
                    title: str | None = None, jcpp_threshold: float | None = None,
                    num_frames: int | None = None) -> Figure:
    """A figure with JCPP (left axis), loss (right axis) and event ticks along the frame axis.

    Training events are orange ticks at the bottom, template-map updates magenta ticks at the top;
    ``jcpp_threshold`` (the paper's T_c) is a dotted line when given; ``num_frames`` fixes the x range
    so a growing time-line does not rescale.
    """
    fig = Figure(figsize=figsize, dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    frames = np.asarray(history.frame_numbers, dtype=float)
    ax.plot(frames, history.jcpp, color="tab:blue", lw=1.2, label="JCPP")
    ax.set_ylim(0.0, 1.05)
    ax.set_ylabel("JCPP", color="tab:blue", fontsize=8)
    ax.set_xlabel("frame", fontsize=8)
    ax.tick_params(labelsize=7)
    if jcpp_threshold is not None:
        ax.axhline(jcpp_threshold, color="tab:blue", ls=":", lw=0.8)
    trained = frames[np.asarray(history.trained, dtype=bool)] if len(history) else frames
    updated = frames[np.asarray(history.template_updated, dtype=bool)] if len(history) else frames
    if trained.size:
        ax.vlines(trained, 0.0, 0.12, color="tab:orange", lw=1.0, label="trained")
    if updated.size:
        ax.vlines(updated, 0.93, 1.05, color="m", lw=1.0, label="R_t updated")
    loss_ax = ax.twinx()
    loss_ax.plot(frames, history.loss, color="tab:red", lw=1.0, label="loss")
    loss_ax.set_ylabel("loss", color="tab:red", fontsize=8)
    loss_ax.tick_params(labelsize=7)
    finite_loss = np.asarray(history.loss)[np.isfinite(history.loss)]
    top = float(finite_loss.max()) if finite_loss.size else 1.0
    loss_ax.set_ylim(0.0, top * 1.1 if top > 0 else 1.0)
    if num_frames is not None and len(history):
        first = history.frame_numbers[0]
        ax.set_xlim(first, first + max(num_frames - 1, 1))
    handles = ax.get_legend_handles_labels()[0] + loss_ax.get_legend_handles_labels()[0]
    # Legend under the axes so it never hides data.
    fig.legend(handles=handles, loc="lower center", fontsize=7, ncol=len(handles), frameon=False)
    if title:
        ax.set_title(title, fontsize=8)
    fig.tight_layout(pad=0.3, rect=(0.0, 0.08, 1.0, 1.0))
    return fig


def figure_to_rgb(fig: Figure) -> np.ndarray:
    """Render a figure (with an Agg canvas) to an H x W x 3 uint8 RGB array."""
    canvas = fig.canvas
    if not isinstance(canvas, FigureCanvasAgg):
        canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()


def nice_upper_limit(value: float) -> float:
    """The smallest of 1, 2, 5 x 10^k that is >= ``value`` (1.0 for non-positive or non-finite values)."""
    if not math.isfinite(value) or value <= 0:
        return 1.0
    exponent = math.floor(math.log10(value))
    for step in (1.0, 2.0, 5.0, 10.0):
        limit = step * 10.0 ** exponent
        if limit >= value * (1 - 1e-12):
            return limit
    return 10.0 ** (exponent + 1)


class TimelinePanel:
    """A reusable time-line image for debug level 3: one figure per sequence, updated each frame.

    Axes, ticks and labels (most of matplotlib's drawing time) are drawn once and cached; each frame
    only the data artists are drawn on the cached background (blitting). The background is redrawn
    when the loss axis needs a larger range (it grows in 1-2-5 steps, so rarely) or, without
    ``num_frames``, when the frame range grows.

    Args:
        size_wh: image size in pixels.
        num_frames: the sequence length (fixes the x range); None: autoscale to the frames so far.
        first_frame: the frame number of the sequence's first frame.
        jcpp_threshold: T_c, drawn as a dotted line when given.
    """

    def __init__(self, size_wh: tuple[int, int], num_frames: int | None = None, first_frame: int = 1,
                 jcpp_threshold: float | None = None, dpi: int = 100) -> None:
        self.size_wh = (int(size_wh[0]), int(size_wh[1]))
        self.fig = Figure(figsize=(self.size_wh[0] / dpi, self.size_wh[1] / dpi), dpi=dpi)
        self.canvas = FigureCanvasAgg(self.fig)
        ax = self.fig.add_subplot(1, 1, 1)
        self.ax = ax
        (self.jcpp_line,) = ax.plot([], [], color="tab:blue", lw=1.2, label="JCPP", animated=True)
        (self.trained_marks,) = ax.plot([], [], ls="none", marker="|", ms=9, mew=1.2, color="tab:orange",
                                        label="trained", animated=True)
        (self.updated_marks,) = ax.plot([], [], ls="none", marker="|", ms=9, mew=1.2, color="m",
                                        label="R_t updated", animated=True)
        ax.set_ylim(0.0, 1.08)
        ax.set_ylabel("JCPP", color="tab:blue", fontsize=7)
        ax.tick_params(labelsize=6)
        if jcpp_threshold is not None:
            ax.axhline(jcpp_threshold, color="tab:blue", ls=":", lw=0.8)
        self.loss_ax = ax.twinx()
        (self.loss_line,) = self.loss_ax.plot([], [], color="tab:red", lw=1.0, label="loss", animated=True)
        self.loss_ax.set_ylabel("loss", color="tab:red", fontsize=7)
        self.loss_ax.tick_params(labelsize=6)
        self.num_frames = num_frames
        self.first_frame = first_frame
        if num_frames is not None:
            ax.set_xlim(first_frame, first_frame + max(num_frames - 1, 1))
        handles = [self.jcpp_line, self.loss_line, self.trained_marks, self.updated_marks]
        # Legend in the top margin: part of the cached background and never hidden by the data.
        self.fig.legend(handles=handles, loc="upper center", ncol=4, fontsize=6, frameon=False,
                        borderaxespad=0.1, handlelength=1.5)
        self.fig.subplots_adjust(left=0.07, right=0.93, bottom=0.14, top=0.86)
        self._background = None
        self._limits: tuple[float, ...] | None = None

    def render(self, history: TimelineHistory) -> np.ndarray:
        """The time-line of ``history`` as an RGB image of ``size_wh``."""
        frames = np.asarray(history.frame_numbers, dtype=float)
        self.jcpp_line.set_data(frames, history.jcpp)
        self.loss_line.set_data(frames, history.loss)
        trained = frames[np.asarray(history.trained, dtype=bool)] if len(history) else frames
        updated = frames[np.asarray(history.template_updated, dtype=bool)] if len(history) else frames
        self.trained_marks.set_data(trained, np.full(trained.shape, 0.04))
        self.updated_marks.set_data(updated, np.full(updated.shape, 1.04))
        finite_loss = np.asarray(history.loss)[np.isfinite(history.loss)]
        limits: tuple[float, ...] = (nice_upper_limit(float(finite_loss.max()) * 1.05 if finite_loss.size else 1.0),)
        if self.num_frames is None and len(history):
            limits += (frames[0], max(frames[-1], frames[0] + 1))
        if self._background is None or limits != self._limits:
            self.loss_ax.set_ylim(0.0, limits[0])
            if len(limits) == 3:
                self.ax.set_xlim(limits[1], limits[2])
            self.canvas.draw()  # everything except the animated data artists
            self._background = self.canvas.copy_from_bbox(self.fig.bbox)
            self._limits = limits
        else:
            self.canvas.restore_region(self._background)
        for artist in (self.jcpp_line, self.trained_marks, self.updated_marks):
            self.ax.draw_artist(artist)
        self.loss_ax.draw_artist(self.loss_line)
        image = np.asarray(self.canvas.buffer_rgba())[..., :3].copy()
        if image.shape[:2] != (self.size_wh[1], self.size_wh[0]):  # rounding of inches * dpi
            image = cv2.resize(image, self.size_wh, interpolation=cv2.INTER_AREA)
        return image


def render_timeline_rgb(history: TimelineHistory, size_wh: tuple[int, int],
                        jcpp_threshold: float | None = None, num_frames: int | None = None) -> np.ndarray:
    """The time-line as an RGB image of exactly ``size_wh`` pixels (one-off; use
    :class:`TimelinePanel` to redraw every frame)."""
    first = history.frame_numbers[0] if len(history) else 1
    return TimelinePanel(size_wh, num_frames, first, jcpp_threshold).render(history)


def save_timeline(history: TimelineHistory, path_stem: Path, title: str | None = None,
                  jcpp_threshold: float | None = None) -> list[Path]:
    """Write the time-line as ``<path_stem>.png`` and ``<path_stem>.pdf`` (TrueType fonts); returns the paths."""
    from evaluation.analysis.plots import save_figure

    path_stem = Path(path_stem)
    path_stem.parent.mkdir(parents=True, exist_ok=True)
    fig = timeline_figure(history, figsize=(8.0, 2.8), dpi=150, title=title, jcpp_threshold=jcpp_threshold)
    paths = [path_stem.with_name(path_stem.name + ".png"), path_stem.with_name(path_stem.name + ".pdf")]
    for path in paths:
        save_figure(fig, path)
    return paths
