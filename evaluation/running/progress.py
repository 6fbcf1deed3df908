"""Progress of a whole run (every pending (tracker, sequence) pair), with an ETA counted in frames.

:class:`RunProgress` is told the frame counts of the pairs to run (pairs with results on disk are
skipped before it starts and only counted as "already done"), every finished pair, and, where the
runner hears them (serial runs and worker processes, not Dask), finished frames. The ETA is the
frames left divided by the rate so far (frames of the pairs finished or in flight per second of
wall time since the start), so a LaSOT-size run with sequences from 300 to 20,000 frames gets an
estimate that does not assume equal sequences.

Output goes to ``stream`` (stderr by default): on a terminal a tqdm bar counted in frames; elsewhere
(a log file, a batch job) one line per finished pair and nothing else, so logs have no bar spam.
"""
from __future__ import annotations

import math
import sys
import time
from typing import Callable, TextIO

from tqdm import tqdm


def format_duration(seconds: float) -> str:
    """``3725`` -> ``'1:02:05'``, ``65`` -> ``'1:05'``; ``'?'`` for NaN or infinity."""
    if not math.isfinite(seconds):
        return "?"
    total = int(round(max(seconds, 0.0)))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class RunProgress:
    """Frames and pairs done, the rate and the ETA of one run.

    Args:
        pair_frames: frame count of each pair to run, by task index.
        skipped: pairs whose complete results were already on disk (not run; counted in the totals).
        skipped_frames: their frames.
        enabled: ``False`` prints nothing (the counts are still kept).
        stream: where to print (default ``sys.stderr``).
        tty: draw a bar (``True``) or print a line per finished pair (``False``); default: whether
            ``stream`` is a terminal.
        clock: monotonic seconds (tests pass a fake one).
    """

    def __init__(self, pair_frames: dict[int, int], skipped: int = 0, skipped_frames: int = 0, *,
                 enabled: bool = True, stream: TextIO | None = None, tty: bool | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.pair_frames = dict(pair_frames)
        self.skipped, self.skipped_frames = skipped, skipped_frames
        self.total_frames = sum(self.pair_frames.values())
        self.finished: set[int] = set()
        self.in_flight: dict[int, int] = {}  # task index -> frames finished so far
        self.finished_frames = 0
        self.clock = clock
        self.started = clock()
        self.enabled = enabled
        self.stream = stream if stream is not None else sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)()) if tty is None else tty
        self.bar: tqdm | None = None
        if not enabled:
            return
        self._print(self.start_line())
        if self.tty and self.pair_frames:
            self.bar = tqdm(total=self.total_frames, desc="tracking", unit="frame", file=self.stream,
                            dynamic_ncols=True, smoothing=0.05)

    # ----------------------------------------------------------------- counts

    @property
    def frames_done(self) -> int:
        """Frames of the finished pairs (all their frames, whatever their status) plus frames
        finished by pairs still running."""
        return self.finished_frames + sum(self.in_flight.values())

    def eta_s(self) -> float:
        """Seconds left at the rate so far; NaN before any frame finished, 0 when all are done."""
        left = self.total_frames - self.frames_done
        if left <= 0:
            return 0.0
        elapsed = self.clock() - self.started
        done = self.frames_done
        return left * elapsed / done if done > 0 and elapsed > 0 else math.nan

    def start_line(self) -> str:
        """What the run has to do: pairs and frames to run, and what was already on disk."""
        pairs = len(self.pair_frames) + self.skipped
        if self.skipped:
            already = (f"{self.skipped} of {pairs} (tracker, sequence) pairs ({self.skipped_frames} frames) "
                       f"already have complete results and are skipped; ")
        else:
            already = ""
        return f"{already}{len(self.pair_frames)} pairs to run, {self.total_frames} frames"

    def pair_line(self, task: int, label: str, status: str) -> str:
        """One line for a finished pair: counts, percentage of frames, elapsed time and ETA."""
        done, total = self.frames_done, self.total_frames
        percent = 100.0 * done / total if total else 100.0
        return (f"[{len(self.finished)}/{len(self.pair_frames)} pairs, {done}/{total} frames, {percent:.0f}%, "
                f"elapsed {format_duration(self.clock() - self.started)}, ETA {format_duration(self.eta_s())}] "
                f"{label}: {status}")

    # ----------------------------------------------------------------- events

    def frame(self, task: int, index: int) -> None:
        """Pair ``task`` finished frame ``index`` (0-based)."""
        if task in self.finished or task not in self.pair_frames:
            return
        before = self.in_flight.get(task, 0)
        now = min(index + 1, self.pair_frames[task])
        if now > before:
            self.in_flight[task] = now
            if self.bar is not None:
                self.bar.update(now - before)

    def pair_done(self, task: int, label: str, status: str) -> None:
        """Pair ``task`` ended (``done``, ``failed``, ``stopped``, ...): all its frames count as done."""
        if task in self.finished or task not in self.pair_frames:
            return
        self.finished.add(task)
        already = self.in_flight.pop(task, 0)
        self.finished_frames += self.pair_frames[task]
        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.update(self.pair_frames[task] - already)
            self.bar.set_postfix_str(f"{len(self.finished)}/{len(self.pair_frames)} pairs, last: {label} {status}",
                                     refresh=False)
        else:
            self._print(self.pair_line(task, label, status))

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def _print(self, line: str) -> None:
        if self.bar is not None:
            self.bar.write(line, file=self.stream)
        else:
            print(line, file=self.stream, flush=True)
