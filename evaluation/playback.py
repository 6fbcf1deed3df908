"""Replay saved results of several trackers over a sequence's frames, each tracker in its style.

    python -m evaluation.playback --trackers siamot:mobilenet_v2 siamot:mobilenet_v2_baseline \\
        --published ../shared/otb2013/peer_results/SiamFC-3s_cfnetrelease:SiamFC \\
        --dataset otb2013 --sequence Jogging-1 [--output jogging1.mp4]

Live trackers are read from their results folders (``<results_path>/<name>/<param>[_<runid>]``),
results-only trackers from published folders. Without ``--output`` a window opens (space: pause,
right arrow: step, q: quit); when no display is available the video goes to
``<plots_path>/playback/<dataset>_<sequence>.mp4``.

Each tracker has the colour and line style its plots give it (:func:`evaluation.analysis.styles.source_styles`):
a baseline is dashed in its online-training twin's colour, drawn over the solid boxes with white gaps
so that it stays visible where the two agree.
"""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Sequence as Seq

import numpy as np
from tqdm import tqdm

from evaluation.analysis.styles import TrackerStyle, source_styles
from evaluation.cli_errors import EXIT_OK, run_cli
from evaluation.cli_help import PlainHelpFormatter
from evaluation.data import Sequence
from evaluation.visualization.overlay import ColorRGB, draw_box_xywh, draw_legend, draw_text_lines
from evaluation.visualization.sinks import PngFramesSink, VideoSink, WindowSink, display_available
from evaluation.sources import ResultsSource, as_source
from evaluation.visualization.sources import add_source_arguments, load_sequence, load_sources

log = logging.getLogger(__name__)

TrackBox = tuple[str, np.ndarray, TrackerStyle]

#: Ground truth in playback: white and dashed, apart from every tracker colour (the palette has a green).
PLAYBACK_GT_COLOR: ColorRGB = (255, 255, 255)


def playback_frame(image_rgb: np.ndarray, boxes: Seq[TrackBox], gt_xywh: object = None,
                   frame_number: int | None = None) -> np.ndarray:
    """One playback frame (same size as ``image_rgb``): each tracker's box in its style, the ground truth
    (white, thin, dashed) when given, a legend top-left and the frame number under it.

    Solid boxes are drawn first; broken ones (a baseline's) after them, over a thin white box that shows
    in their gaps, so a dashed box stays visible on a solid one of the same colour.

    Args:
        boxes: ``(display name, [x, y, w, h], style)`` per tracker; undrawable boxes are skipped but keep
            their legend entry.
    """
    canvas = np.array(image_rgb, dtype=np.uint8, copy=True)
    if gt_xywh is not None:
        draw_box_xywh(canvas, gt_xywh, PLAYBACK_GT_COLOR, thickness=1, dashed=True)
    for _, bbox, style in sorted(boxes, key=lambda box: box[2].dashed):
        if style.dashed:
            draw_box_xywh(canvas, bbox, PLAYBACK_GT_COLOR, thickness=1)
        draw_box_xywh(canvas, bbox, style.rgb255, thickness=2, dashed=style.dashed)
    entries = [(name, style.rgb255, style.dashed) for name, _, style in boxes]
    if gt_xywh is not None:
        entries.append(("ground truth", PLAYBACK_GT_COLOR, True))
    x, y, _, height = draw_legend(canvas, entries)
    if frame_number is not None:
        draw_text_lines(canvas, [f"frame {frame_number}"], (x, y + height + 2))
    return canvas


def play(sequence: Sequence, sources: Seq[ResultsSource], sink: VideoSink | WindowSink | PngFramesSink,
         show_ground_truth: bool = True, progress: bool = True) -> int:
    """Show every frame of ``sequence`` with the sources' boxes; returns the number of frames shown.

    Stops early when the sink returns False (the window's q key). The sink is closed at the end.
    """
    tracks = [(source.display_name, as_source(source).aligned_results_for(sequence).boxes, style)
              for source, style in zip(sources, source_styles(sources))]
    shown = 0
    try:
        for index in tqdm(range(len(sequence)), desc=f"playback {sequence.name}", unit="frame",
                          disable=not progress):
            frame_boxes = [(name, boxes[index], color) for name, boxes, color in tracks]
            gt = sequence.ground_truth_rect[index] if show_ground_truth else None
            view = playback_frame(sequence.image(index), frame_boxes, gt, sequence.start_frame + index)
            shown += 1
            if not sink.show(view):
                break
    finally:
        sink.close()
    return shown


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m evaluation.playback", description=__doc__,
                                     formatter_class=PlainHelpFormatter)
    add_source_arguments(parser, "trackers whose saved results to show, e.g. siamot:mobilenet_v2 (run id optional)")
    parser.add_argument("--sequence", required=True, help="sequence name, or its index in the dataset")
    parser.add_argument("--output", type=Path, default=None,
                        help="write an MP4 video here instead of opening a window (a path without .mp4 "
                             "suffix gets one)")
    parser.add_argument("--fps", type=float, default=25.0, help="frames per second of the video / window (default 25)")
    parser.add_argument("--no-ground-truth", action="store_true", help="do not draw the ground-truth box")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    return parser


def _video_path(args: argparse.Namespace, sequence: Sequence) -> Path | None:
    if args.output is not None:
        path = args.output.expanduser()
        return path if path.suffix.lower() == ".mp4" else path.with_name(path.name + ".mp4")
    available, reason = display_available()
    if available:
        return None
    from evaluation.settings import load_settings
    path = load_settings().path("plots_path") / "playback" / f"{args.dataset}_{sequence.name}.mp4"
    print(f"playback: no display ({reason}); writing {path}", file=sys.stderr)
    return path


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    return run_cli(lambda: _play(args))


def _play(args: argparse.Namespace) -> int:
    sources = load_sources(args.trackers, args.published)
    sequence = load_sequence(args.dataset, args.sequence)
    video = _video_path(args, sequence)
    sink: VideoSink | WindowSink
    if video is None:
        sink = WindowSink(f"playback - {sequence.name}", delay_ms=max(1, int(1000 / args.fps)))
    else:
        sink = VideoSink(video, fps=args.fps)
    shown = play(sequence, sources, sink, show_ground_truth=not args.no_ground_truth, progress=not args.no_progress)
    if video is not None:
        print(f"playback: {shown} frames -> {sink.path}")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
