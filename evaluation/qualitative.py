"""Qualitative figure like the paper's Fig. 4: chosen frames of chosen sequences in a grid, with the boxes of
several trackers; solid lines for trackers with online training, dashed for baselines.

    python -m evaluation.qualitative --trackers siamot:mobilenet_v2 siamot:mobilenet_v2_baseline \\
        siamot:efficientnet_lite0 siamot:efficientnet_lite0_baseline \\
        --dataset otb2013 --sequences Jogging-1 Tiger1 --frames 40 120 200 --output fig4

One row per sequence, one column per chosen frame. Each tracker is drawn in the style its plots give
it (:func:`evaluation.analysis.styles.source_styles`): a baseline (``siamot:<backbone>_baseline``, see
:class:`evaluation.sources.Pairing`) is dashed and shares the colour of its online-training twin (the
paper's colour = backbone), drawn after the solid boxes with white gaps so it stays visible where the
two agree; ``--style`` overrides colour and line style per tracker. Writes ``<output>.png`` and
``<output>.pdf`` (TrueType fonts).
"""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Mapping, Sequence as Seq

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from evaluation.analysis.plots import FONT_PT, SMALL_FONT_PT, save_figure as save_figure_file
from evaluation.analysis.styles import TrackerStyle, source_styles, split_style_spec
from evaluation.cli_errors import EXIT_OK, run_cli
from evaluation.cli_help import PlainHelpFormatter
from evaluation.data import Sequence
from evaluation.sources import ResultsSource, as_source
from evaluation.visualization.sources import add_source_arguments, load_sequence, load_sources

log = logging.getLogger(__name__)

#: How one tracker's boxes are drawn: a matplotlib colour and line style (``-`` or ``--`` ...); the
#: style plots use (:class:`evaluation.analysis.styles.TrackerStyle`).
BoxStyle = TrackerStyle


def parse_style(spec: str) -> tuple[str, BoxStyle]:
    """``KEY=COLOR[,LINESTYLE]`` (e.g. ``siamot:vgg19=tab:blue,dashed``) -> ``(key, style)``.

    KEY is a tracker spec as given to ``--trackers``/``--published`` or a display name.
    """
    key, color, linestyle = split_style_spec(spec, "KEY")
    return key, BoxStyle(color, linestyle)


def default_styles(sources: Seq[ResultsSource]) -> list[BoxStyle]:
    """The styles the trackers have in their plots: one colour per pairing group (a baseline and its
    online-training twin), dashed for baselines (:func:`evaluation.analysis.styles.source_styles`)."""
    return source_styles(sources)


def resolve_frames(sequence: Sequence, frames: Seq[int] | None, num_frames: int) -> list[int]:
    """0-based indices from 1-based positions ``frames`` (position 1 = the sequence's first frame),
    or ``num_frames`` evenly spaced positions after the first frame when ``frames`` is None."""
    n = len(sequence)
    if frames is None:
        if num_frames < 1:
            raise ValueError(f"--num-frames must be >= 1, got {num_frames}")
        start = 1 if n > 1 else 0
        return sorted({int(round(v)) for v in np.linspace(start, n - 1, num_frames)})
    indices = []
    for position in frames:
        if not 1 <= position <= n:
            raise ValueError(f"frame {position} is outside sequence '{sequence.name}' (1..{n})")
        indices.append(position - 1)
    return indices


def qualitative_figure(sequences: Seq[Sequence], frame_indices: Mapping[str, Seq[int]],
                       sources: Seq[ResultsSource], styles: Seq[BoxStyle], show_ground_truth: bool = False,
                       cell_width_in: float = 2.4, linewidth: float = 1.6,
                       legend_columns: int = 4) -> Figure:
    """The grid figure: a row per sequence, a column per chosen frame (0-based ``frame_indices[name]``).

    Each cell shows the frame, the boxes of ``sources`` in ``styles`` (solid ones first, broken ones
    over them with white gaps), and the frame number; a legend of all trackers, in at most
    ``legend_columns`` columns, sits under the grid. Text is 7-8 pt: at ``cell_width_in`` chosen so
    the figure is as wide as it is printed, it reads as a paper's small text.
    """
    if len(styles) != len(sources):
        raise ValueError(f"{len(styles)} styles for {len(sources)} trackers")
    columns = max(len(frame_indices[s.name]) for s in sequences)
    shapes = [s.image(frame_indices[s.name][0] if frame_indices[s.name] else 0).shape for s in sequences]
    aspects = [shape[0] / shape[1] for shape in shapes]
    cell_heights = [cell_width_in * a for a in aspects]
    # Size the figure so each cell is exactly an image's shape: no slack around the equal-aspect images.
    wspace, hspace = 0.03, 0.04
    handles_count = len(sources) + int(show_ground_truth)
    legend_rows = -(-handles_count // max(1, min(handles_count, legend_columns)))
    left_in, right_in, top_in = 0.2, 0.03, 0.03
    legend_in = 0.08 + legend_rows * SMALL_FONT_PT * 1.4 / 72.0
    grid_w = cell_width_in * (columns + (columns - 1) * wspace)
    grid_h = sum(cell_heights) + hspace * (len(sequences) - 1) * float(np.mean(cell_heights))
    fig_w, fig_h = left_in + grid_w + right_in, top_in + grid_h + legend_in
    fig = Figure(figsize=(fig_w, fig_h), dpi=100)
    FigureCanvasAgg(fig)
    grid = fig.add_gridspec(len(sequences), columns, height_ratios=cell_heights, wspace=wspace, hspace=hspace,
                            left=left_in / fig_w, right=1 - right_in / fig_w, top=1 - top_in / fig_h,
                            bottom=legend_in / fig_h)
    for row, sequence in enumerate(sequences):
        boxes = [as_source(source).aligned_results_for(sequence).boxes for source in sources]
        for col in range(columns):
            ax = fig.add_subplot(grid[row, col])
            ax.set_xticks([])
            ax.set_yticks([])
            if col == 0:
                ax.set_ylabel(sequence.name, fontsize=FONT_PT, labelpad=2)
            if col >= len(frame_indices[sequence.name]):
                ax.set_axis_off()
                continue
            index = frame_indices[sequence.name][col]
            ax.imshow(sequence.image(index), interpolation="bilinear")
            if show_ground_truth:
                _add_box(ax, sequence.ground_truth_rect[index], BoxStyle("white", ":"), linewidth)
            for source_boxes, style in sorted(zip(boxes, styles), key=lambda pair: pair[1].dashed):
                _add_box(ax, source_boxes[index], style, linewidth)
            ax.text(0.02, 0.97, f"#{sequence.start_frame + index}", transform=ax.transAxes, va="top", ha="left",
                    fontsize=SMALL_FONT_PT, color="yellow", fontweight="bold",
                    bbox=dict(facecolor="black", alpha=0.5, pad=1.0, edgecolor="none"))
    handles = [Line2D([], [], color=style.color, linestyle=style.linestyle, lw=linewidth, label=source.display_name)
               for source, style in zip(sources, styles)]
    if show_ground_truth:
        handles.append(Line2D([], [], color="gray", linestyle=":", lw=linewidth, label="ground truth"))
    fig.legend(handles=handles, loc="lower center", ncol=max(1, min(len(handles), legend_columns)),
               fontsize=SMALL_FONT_PT, frameon=False, borderaxespad=0.2, handlelength=2.0, columnspacing=1.2)
    return fig


def _add_box(ax: object, bbox_xywh: np.ndarray, style: BoxStyle, linewidth: float) -> None:
    b = np.asarray(bbox_xywh, dtype=np.float64)
    if b.shape != (4,) or not np.all(np.isfinite(b)) or b[2] <= 0 or b[3] <= 0:
        return
    # Pixel centres sit at integer coordinates in imshow: a box's outer edge is at x - 0.5.
    x0, y0, x1, y1 = b[0] - 0.5, b[1] - 0.5, b[0] - 0.5 + b[2], b[1] - 0.5 + b[3]
    # A broken line gets white gaps: over a solid box of the same colour (a baseline on its online twin,
    # where they agree) it still shows.
    ax.add_line(Line2D([x0, x1, x1, x0, x0], [y0, y0, y1, y1, y0], color=style.color, linestyle=style.linestyle,
                       linewidth=linewidth, gapcolor="white" if style.dashed else None,
                       solid_joinstyle="miter", zorder=3 if style.dashed else 2))


def save_figure(fig: Figure, stem: Path, dpi: int = 200) -> list[Path]:
    """Write ``<stem>.png`` and ``<stem>.pdf``; returns the paths."""
    stem = Path(stem).expanduser()
    if stem.suffix.lower() in (".png", ".pdf"):
        stem = stem.with_suffix("")
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = [stem.with_name(stem.name + ".png"), stem.with_name(stem.name + ".pdf")]
    for path in paths:
        save_figure_file(fig, path, dpi=dpi, bbox_inches="tight", pad_inches=0.03)
    return paths


def frames_by_sequence(sequences: Seq[Sequence], frame_args: Seq[str] | None, num_frames: int) -> dict[str, list[int]]:
    """0-based frame indices per sequence name from ``--frames`` tokens (``N`` for every sequence or
    ``SEQ=N,N,...``, 1-based) or ``num_frames`` evenly spaced frames (see :func:`resolve_frames`)."""
    common: list[int] | None = None
    per_sequence: dict[str, list[int]] = {}
    for token in frame_args or []:
        if "=" in token:
            name, _, values = token.partition("=")
            per_sequence[name] = [int(v) for v in values.split(",") if v]
        else:
            common = (common or []) + [int(token)]
    unknown = set(per_sequence) - {s.name for s in sequences}
    if unknown:
        raise ValueError(f"--frames names sequences not in --sequences: {', '.join(sorted(unknown))}")
    return {s.name: resolve_frames(s, per_sequence.get(s.name, common), num_frames) for s in sequences}


def _styles_for(sources: Seq[ResultsSource], keys: Seq[str], style_args: Seq[str]) -> list[BoxStyle]:
    styles = default_styles(sources)
    overrides = dict(parse_style(spec) for spec in style_args)
    used = set()
    for i, (source, key) in enumerate(zip(sources, keys)):
        for candidate in (key, source.display_name):
            if candidate in overrides:
                styles[i] = overrides[candidate]
                used.add(candidate)
                break
    unused = set(overrides) - used
    if unused:
        raise ValueError(f"--style keys match no tracker: {', '.join(sorted(unused))} "
                         f"(use a --trackers/--published spec or one of: {', '.join(s.display_name for s in sources)})")
    return styles


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m evaluation.qualitative", description=__doc__,
                                     formatter_class=PlainHelpFormatter)
    add_source_arguments(parser, "trackers whose saved results to draw, e.g. siamot:mobilenet_v2 siamot:mobilenet_v2_baseline")
    parser.add_argument("--sequences", nargs="+", required=True, help="sequence names, one grid row each")
    parser.add_argument("--frames", nargs="+", default=None, metavar="N|SEQ=N,N,...",
                        help="1-based frame positions in each sequence (1 = its first frame) used for every "
                             "sequence, or SEQ=N,N,... per sequence; default: --num-frames evenly spaced frames")
    parser.add_argument("--num-frames", type=int, default=4, help="frames per sequence when --frames is not given (default 4)")
    parser.add_argument("--style", nargs="+", default=[], metavar="KEY=COLOR[,LINESTYLE]",
                        help="explicit style per tracker: KEY is its spec or display name, COLOR a matplotlib colour, "
                             "LINESTYLE solid|dashed|dotted|dashdot (default: colour per backbone, dashed for *_baseline)")
    parser.add_argument("--ground-truth", action="store_true", help="also draw the ground truth (white, dotted)")
    parser.add_argument("--output", type=Path, default=None,
                        help="output path without suffix (default: <plots_path>/qualitative/<dataset>_fig4)")
    parser.add_argument("--dpi", type=int, default=200, help="resolution of the PNG (default 200)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    return run_cli(lambda: _draw(args))


def _draw(args: argparse.Namespace) -> int:
    sources = load_sources(args.trackers, args.published)
    keys = list(args.trackers) + list(args.published)
    styles = _styles_for(sources, keys, args.style)
    sequences = [load_sequence(args.dataset, name) for name in args.sequences]
    frames = frames_by_sequence(sequences, args.frames, args.num_frames)
    stem = args.output
    if stem is None:
        from evaluation.settings import load_settings
        stem = load_settings().path("plots_path") / "qualitative" / f"{args.dataset}_fig4"
    fig = qualitative_figure(sequences, frames, sources, styles, show_ground_truth=args.ground_truth)
    for path in save_figure(fig, stem, dpi=args.dpi):
        print(path)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
