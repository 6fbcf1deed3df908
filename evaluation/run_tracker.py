"""Run one tracker configuration on a dataset, a single sequence, or a video file.

Examples::

    python -m evaluation.run_tracker siamot mobilenet_v2 --dataset otb2013 --threads 2
    python -m evaluation.run_tracker opencv mil --dataset synthetic --sequence 0 --debug 1
    python -m evaluation.run_tracker siamot mobilenet_v2 --video clip.mp4 --init-box 10,20,40,60

Results go to ``<results_path>/<name>/<param>[_<runid:03d>]/`` (see
``python -m evaluation.settings show``); complete results made from the same inputs are
skipped, so an interrupted run resumes (results whose initial box, frame count or parameters
changed are recomputed). Setup problems (names, settings, weights, the results folder) stop the
run before any tracking with one ``error:`` line (exit code 2). A pair whose tracker stalls
(``--frame-timeout``) or whose worker process dies fails alone; the exit code is 1 when any
pair failed (each failure is logged and listed at the end); Ctrl-C exits 130 and keeps complete
results (exit codes: :mod:`evaluation.cli_errors`).
"""
from __future__ import annotations

import argparse
import logging
import math
import sys
from typing import Any

from evaluation.cli_errors import EXIT_FAILED, EXIT_OK, run_cli
from evaluation.cli_help import PlainHelpFormatter
from evaluation.data import SequenceList

#: What Ctrl-C prints in a run command line.
INTERRUPTED = "interrupted: complete results are kept; run the same command again to resume"


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags shared by ``run_tracker`` and ``run_experiment``."""
    parser.add_argument("--debug", type=int, default=0, metavar="L",
                        help="debug level: 0 plain run; 1 frames with boxes and the online state; "
                             "2 adds search crop and score maps; 3 adds time-lines. Shown in a window "
                             "when a display is available, else saved as videos. Results are saved at "
                             "every level (default: 0)")
    parser.add_argument("--save-debug", action="store_true",
                        help="save the debug views as videos under <plots_path>/debug/ instead of "
                             "showing them (level max(L, 1))")
    parser.add_argument("--threads", type=int, default=1, metavar="N",
                        help="run (sequence, tracker) pairs in N worker processes, one compute "
                             "thread each; results are identical to a serial run (default: 1, serial)")
    parser.add_argument("--torch-threads", type=int, default=1, metavar="K",
                        help="torch threads per (sequence, tracker) task in every mode (default: 1, "
                             "which makes serial, --threads and --scheduler runs bit-identical; more "
                             "speeds up a single sequence on a many-core machine, with differences in "
                             "the last digits)")
    parser.add_argument("--scheduler", metavar="ADDRESS", default=None,
                        help="send the (sequence, tracker) pairs to a Dask distributed scheduler, e.g. "
                             "tcp://host:8786 (needs pip install 'dask[distributed]'); the workers must "
                             "reach the frames and the results folder; the pairs not done fail when the "
                             "scheduler has had no worker for 60 s")
    parser.add_argument("--frame-timeout", type=float, default=None, metavar="S",
                        help="watchdog: fail a (sequence, tracker) pair, killing its worker process, when no "
                             "frame finishes for S seconds (building the tracker counts with the first frame); "
                             "per frame, so long sequences are fine. Tasks then run in a child process also "
                             "without --threads. 0 turns it off (default: 120; not applied with --scheduler)")
    parser.add_argument("--overwrite", action="store_true",
                        help="rerun pairs whose results are already complete (default: skip them; results "
                             "whose initial box, frame count or parameters changed are recomputed); "
                             "needed for debug views of finished pairs, which are drawn while tracking")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def check_run_arguments(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if args.debug < 0:
        parser.error("--debug must be >= 0")
    if args.threads < 1:
        parser.error("--threads must be >= 1")
    if args.torch_threads < 1:
        parser.error("--torch-threads must be >= 1")
    if args.frame_timeout is not None and not (math.isfinite(args.frame_timeout) and args.frame_timeout >= 0):
        parser.error(f"--frame-timeout must be a finite number of seconds >= 0 (0 turns the watchdog off), "
                     f"got {args.frame_timeout:g}")
    if args.scheduler and args.threads > 1:
        parser.error("--threads and --scheduler exclude each other (Dask workers set their own parallelism)")


def execute(trackers: list[Any], dataset: SequenceList, args: argparse.Namespace) -> int:
    """Run and report; returns the exit code (non-zero when any pair failed)."""
    from evaluation.running import (DEFAULT_FRAME_TIMEOUT_S, debug_observer_factory, failures, run_dataset,
                                    summary_line)
    from evaluation.settings import load_settings

    level = max(args.debug, 1) if args.save_debug else args.debug
    # Only debug videos need the plots path ("not set" is then an error, never the working directory).
    plots_path = str(load_settings().path("plots_path")) if args.debug or args.save_debug else ""
    factory = debug_observer_factory(args.debug, args.save_debug, plots_path)
    results = run_dataset(trackers, dataset, debug=level, threads=args.threads, scheduler=args.scheduler,
                          observer_factory=factory, overwrite=args.overwrite,
                          progress=not args.no_progress, torch_threads=args.torch_threads,
                          frame_timeout_s=frame_timeout_s(args, DEFAULT_FRAME_TIMEOUT_S))
    print(summary_line(results))
    if factory is not None:
        notice = debug_skipped_notice(results)
        if notice:
            print(notice)
    folders = sorted({str(t.results_dir) for t in trackers if hasattr(t, "results_dir")})
    for folder in folders:
        print(f"results: {folder}")
    failed = failures(results)
    if failed:
        names = ", ".join(f"{r.tracker}/{r.sequence}" for r in failed)
        print(f"error: {len(failed)} of {len(results)} sequences failed (tracebacks above): {names}",
              file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def debug_skipped_notice(results: list[Any]) -> str | None:
    """One line for a debug run whose pairs were skipped because their results are complete
    (debug views are drawn while tracking, so none were drawn for them); ``None`` when none was."""
    skipped = sum(r.status == "skipped" for r in results)
    if not skipped:
        return None
    return (f"debug views: {skipped} of {len(results)} (tracker, sequence) pairs already have complete results, "
            f"so they were not tracked and no views were drawn; add --overwrite to track them again with the views")


def frame_timeout_s(args: argparse.Namespace, default: float) -> float | None:
    """``--frame-timeout`` in seconds for ``run_dataset`` (``None``: off, also under ``--scheduler``)."""
    if args.scheduler:
        return None
    value = default if args.frame_timeout is None else args.frame_timeout
    return value if value > 0 else None


def parse_init_box(text: str) -> list[float]:
    """``'x,y,w,h'`` -> four floats (0-based top-left corner and size)."""
    parts = [p for p in text.replace(" ", ",").split(",") if p]
    try:
        values = [float(p) for p in parts]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"--init-box must be x,y,w,h numbers, got {text!r}") from exc
    if len(values) != 4:
        raise argparse.ArgumentTypeError(f"--init-box must be 4 numbers x,y,w,h, got {len(values)}: {text!r}")
    for name, part, value in zip("xywh", parts, values):
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"--init-box {text!r}: {name} is {part!r}, not a finite number")
    if values[2] <= 0 or values[3] <= 0:
        raise argparse.ArgumentTypeError(f"--init-box must be x,y,w,h with w, h > 0, got {text!r}")
    return values


def select_sequences(dataset: SequenceList, selector: str | None) -> SequenceList:
    """``--sequence NAME|INDEX`` applied to ``dataset`` (a one-sequence list)."""
    return dataset if selector is None else SequenceList([dataset.pick(selector)])


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m evaluation.run_tracker", description=__doc__,
                                     formatter_class=PlainHelpFormatter)
    parser.add_argument("name", help="tracker name: siamot, opencv or a plugin's name "
                                     "(list them with python -m evaluation.registry)")
    parser.add_argument("parameter_name", metavar="param",
                        help="parameter name, e.g. mobilenet_v2, mobilenet_v2_baseline (siamot) or "
                             "mil, nano, vit (opencv)")
    parser.add_argument("--dataset", "--dataset_name", nargs="+", default=None, metavar="NAME",
                        dest="dataset",
                        help="dataset name(s), concatenated: synthetic, otb2013, otb, or folder:PATH for your own "
                             "sequences in OTB layout (default: synthetic, built in, no download; "
                             "--dataset_name is pytracking's spelling)")
    parser.add_argument("--sequence", metavar="NAME|INDEX", default=None,
                        help="run only this sequence, by name or 0-based index in the dataset")
    parser.add_argument("--runid", type=int, default=None, metavar="N",
                        help="run number; results go to <param>_<N:03d> (for repeated runs)")
    parser.add_argument("--video", metavar="FILE", default=None,
                        help="track in a video file instead of a dataset (needs --init-box); results "
                             "are named after the file")
    parser.add_argument("--init-box", type=parse_init_box, metavar="x,y,w,h", default=None,
                        help="initial box of the target in the video's first frame, 0-based pixels")
    add_run_arguments(parser)
    return parser


def _join_negative_init_box(argv: list[str]) -> list[str]:
    """``--init-box -5,0,10,10`` -> ``--init-box=-5,0,10,10``: argparse takes a value starting with
    ``-`` (other than one plain number) for an option and would report a missing argument."""
    out: list[str] = []
    for i, item in enumerate(argv):
        if i > 0 and argv[i - 1] == "--init-box" and item.startswith("-") and out and out[-1] == "--init-box":
            out[-1] = f"--init-box={item}"
        else:
            out.append(item)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(_join_negative_init_box(list(sys.argv[1:] if argv is None else argv)))
    check_run_arguments(parser, args)
    if (args.video is None) != (args.init_box is None):
        parser.error("--video and --init-box go together")
    if args.video is not None and (args.dataset is not None or args.sequence is not None):
        parser.error("--video tracks the video file alone: drop --dataset/--sequence, or drop --video and --init-box")
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    return run_cli(lambda: _run(args), interrupted=INTERRUPTED)


def _run(args: argparse.Namespace) -> int:
    from evaluation.tracker import Tracker

    tracker = Tracker(args.name, args.parameter_name, run_id=args.runid)
    if args.video is not None:
        from evaluation.datasets import video_sequence
        dataset = SequenceList([video_sequence(args.video, args.init_box)])
    else:
        from evaluation.datasets import get_dataset
        dataset = select_sequences(get_dataset(*(args.dataset or ["synthetic"])), args.sequence)
    return execute([tracker], dataset, args)


if __name__ == "__main__":
    sys.exit(main())
