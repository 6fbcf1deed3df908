"""Per benchmark: its frame count and the wall time a tracker's measured speed implies for a full run.

Measures frames per second per core of one tracker configuration (default: SiamOT-MobileNetV2 with
online training) on real frames: the development targets on disk
(:func:`evaluation.experiments.ablation.development_targets`), tracked serially in this process with
one torch thread into a temporary results folder. The speed is frames over seconds of whole pairs as
the runner times them (reading and decoding frames, tracking, online training; building the tracker
and writing the files are left out), summed over the targets, so long targets weigh more.

Then prints, per benchmark of :func:`evaluation.datasets.sizes.benchmark_sizes`, its sequences and
frames, the speed measured on its own development targets where any are on disk (else the speed over
all of them, marked ``*``) and the wall time implied on one core, on one 2-core machine (two single-threaded workers) and
on ``--workers`` workers, assuming workers scale linearly (one core each, no shared-memory
contention) and ignoring per-sequence set-up (a second or so per sequence and tracker).

    python benchmarks/runner_wall_times.py                       # measure, then print the table
    python benchmarks/runner_wall_times.py --frames 100          # the first 100 frames of each target
    python benchmarks/runner_wall_times.py --fps 30 --workers 16 # a speed measured elsewhere
    python benchmarks/runner_wall_times.py --markdown /tmp/table.md

Speeds depend on the CPU and on its load: the CPU's name, its threads and the load average before and
after the measurement are printed with the figure.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import Mapping

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's packages first, not the installed ones
from evaluation.cli_help import PlainHelpFormatter
from evaluation.data import Sequence, SequenceList


def _first_frames(sequence: Sequence, n_frames: int) -> Sequence:
    if n_frames <= 0 or n_frames >= len(sequence):
        return sequence
    return Sequence(sequence.name, sequence.frames[:n_frames], sequence.dataset,
                    sequence.ground_truth_rect[:n_frames], attributes=sequence.attributes,
                    frame_loader=sequence.frame_loader)


def measure_fps(tracker_name: str, parameter_name: str,
                dataset: SequenceList) -> tuple[float, int, float, dict[str, tuple[int, float]]]:
    """``(frames per second, frames, seconds, {benchmark: (frames, seconds)})`` of one serial single-thread
    run over ``dataset``; the last item splits the run by each sequence's ``dataset`` (its benchmark).

    Raises:
        RuntimeError: a pair failed (its error named).
    """
    import dataclasses

    from evaluation.running import run_dataset
    from evaluation.settings import load_settings
    from evaluation.tracker import Tracker

    with tempfile.TemporaryDirectory(prefix="siamot_wall_times_") as root:
        settings = dataclasses.replace(load_settings(), results_path=root)
        tracker = Tracker(tracker_name, parameter_name, settings=settings)
        results = run_dataset([tracker], dataset, torch_threads=1, progress=False)
    failed = [r for r in results if r.status != "done"]
    if failed:
        raise RuntimeError(f"{failed[0].tracker} on {failed[0].sequence}: {failed[0].status}: "
                           f"{failed[0].error.splitlines()[0] if failed[0].error else ''}")
    frames = sum(r.frames for r in results)
    seconds = sum(r.seconds for r in results)
    benchmark_of = {s.name: s.dataset for s in dataset}
    per_benchmark: dict[str, tuple[int, float]] = {}
    for r in results:
        done_frames, done_seconds = per_benchmark.get(benchmark_of[r.sequence], (0, 0.0))
        per_benchmark[benchmark_of[r.sequence]] = (done_frames + r.frames, done_seconds + r.seconds)
    return frames / seconds, frames, seconds, per_benchmark


def format_hours(seconds: float) -> str:
    """``'3.2 h'`` from an hour up, else ``'25 min'`` (``'<1 min'`` under half a minute); ``'-'`` for NaN."""
    if seconds != seconds:
        return "-"
    if seconds < 30:
        return "<1 min"
    return f"{seconds / 3600:.1f} h" if seconds >= 3600 else f"{seconds / 60:.0f} min"


def table_rows(fps_per_core: float, workers: int,
               measured: Mapping[str, float] | None = None) -> list[list[str]]:
    """The table: benchmark, sequences, frames, frames/s per core, wall time on 1 core, on a 2-core
    machine, on ``workers``. A benchmark in ``measured`` (its name -> frames/s per core on its own
    sequences) uses its own speed; the others use ``fps_per_core``, marked ``*``."""
    from evaluation.datasets.sizes import benchmark_sizes

    measured = measured or {}
    rows = []
    for size in benchmark_sizes():
        speed = measured.get(size.name, fps_per_core)
        speed_text = f"{speed:.1f}" + ("" if size.name in measured else "*")
        if size.frames is None:
            frames, times = "not encoded", ["-", "-", "-"]
        else:
            frames = ("~" if size.approximate else "") + f"{size.frames:,}"
            one = size.frames / speed
            times = [format_hours(one), format_hours(one / 2), format_hours(one / workers)]
        rows.append([size.label, str(size.sequences), frames, speed_text, *times])
    return rows


def render(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = ["| " + " | ".join(h.ljust(w) for h, w in zip(header, widths)) + " |",
             "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    lines += ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |" for r in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python benchmarks/runner_wall_times.py", description=__doc__,
                                     formatter_class=PlainHelpFormatter)
    parser.add_argument("--tracker", nargs=2, metavar=("NAME", "PARAM"), default=None,
                        help="the configuration to time (default: siamot and MobileNetV2's default parameter "
                             "name, with online training)")
    parser.add_argument("--frames", type=int, default=0, metavar="N",
                        help="time only the first N frames of each target (default: 0, every frame)")
    parser.add_argument("--fps", type=float, default=None, metavar="F",
                        help="use this speed (frames per second per core) instead of measuring")
    parser.add_argument("--workers", type=int, default=16, metavar="N",
                        help="the last column: N single-threaded workers (default: 16)")
    parser.add_argument("--markdown", metavar="FILE", default=None, help="also write the printed table to FILE")
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error("--workers must be >= 1")
    if args.fps is not None and not args.fps > 0:
        parser.error("--fps must be > 0")
    from evaluation.machine import cpu_name, cpu_threads

    if args.tracker is None:
        from pytracking_siamot import variants

        name, param = "siamot", variants.parameter_name("mobilenet_v2")
    else:
        name, param = args.tracker
    lines = []
    if args.fps is None:
        from evaluation.experiments.ablation import development_targets

        dataset = SequenceList(_first_frames(s, args.frames) for s in development_targets())
        if not dataset:
            print("error: no development target on disk (set otb2013_path, see python -m evaluation.settings show); "
                  "or pass --fps", file=sys.stderr)
            return 2
        before = os.getloadavg()[0]
        fps, frames, seconds, per_benchmark = measure_fps(name, param, dataset)
        after = os.getloadavg()[0]
        lines.append(f"{name} {param}: {fps:.1f} frames/s per core ({frames} frames of {len(dataset)} development "
                     f"targets in {seconds:.1f} s, serial, 1 torch thread) on {cpu_name()} ({cpu_threads()} CPU "
                     f"threads; load average {before:.1f} before, {after:.1f} after)")
        counts = {b: sum(1 for s in dataset if s.dataset == b) for b in per_benchmark}
        lines.append("per benchmark: " + "; ".join(
            f"{b} {f / t:.1f} ({counts[b]} sequences, {f} frames)" for b, (f, t) in per_benchmark.items()))
        measured = {b: f / t for b, (f, t) in per_benchmark.items()}
    else:
        fps, measured = args.fps, {}
        lines.append(f"{name} {param}: {fps:g} frames/s per core (given with --fps)")
    header = ["benchmark", "sequences", "frames", "frames/s per core", "1 core", "2-core machine",
              f"{args.workers} workers"]
    lines.append(render(table_rows(fps, args.workers, measured), header))
    lines.append("frames/s per core: measured on that benchmark's own development targets; *: none on disk, the "
                 "speed over all of them. "
                 "Wall times: frames / (fps per core x workers), one single-threaded worker per core, set-up and "
                 "load not counted; runs split per sequence, so the longest sequence is a floor on many workers. "
                 "Frames: this package's sequence tables, or the counts and totals (~: rounded) whose sources "
                 "evaluation/datasets/tables/sizes.txt names; 'not encoded': no verified count.")
    text = "\n".join(lines)
    print(text)
    if args.markdown:
        Path(args.markdown).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
