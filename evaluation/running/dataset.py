"""Running many (tracker, sequence) pairs: :func:`run_dataset` picks what to run (resume), checks the
setup once (:func:`evaluation.running.preflight.preflight`) and the sequences with the dataset doctor's
checks (:func:`evaluation.running.preflight.sequence_problems`), and runs the pairs serially, in worker
processes (:class:`evaluation.running.pool.WorkerPool`) or on Dask
(:func:`evaluation.running.cluster.run_on_dask`), with progress and an ETA over the whole run
(:class:`evaluation.running.progress.RunProgress`).
"""
from __future__ import annotations

import logging
import math
from typing import Any, Iterable

from evaluation import results
from evaluation.data import Sequence
from evaluation.running.cluster import NO_WORKER_TIMEOUT_S, check_scheduler_address, run_on_dask
from evaluation.running.pool import WorkerPool
from evaluation.running.preflight import preflight, sequence_problems
from evaluation.running.progress import RunProgress
from evaluation.running.sequence import ObserverFactory, Task, TaskResult, TrackerCache, run_task
from evaluation.tracker import Tracker

log = logging.getLogger(__name__)

#: Default watchdog of the command-line tools (``--frame-timeout``): a task fails when no frame
#: finishes for this many seconds. Generous, so that a slow machine never trips it: the longest
#: step, building the tracker (loading its network) plus the first frame, takes seconds.
DEFAULT_FRAME_TIMEOUT_S = 120.0


def run_dataset(trackers: Iterable[Any], dataset: Iterable[Sequence], *, debug: int = 0,
                threads: int = 1, scheduler: str | Any | None = None,
                observer_factory: ObserverFactory | None = None, overwrite: bool = False,
                progress: bool = True, torch_threads: int | None = 1,
                frame_timeout_s: float | None = None,
                no_worker_timeout_s: float = NO_WORKER_TIMEOUT_S) -> list[TaskResult]:
    """Run every live tracker on every sequence; results-only trackers are skipped.

    Args:
        trackers: :class:`Tracker` objects (others, e.g. published results, are ignored).
        dataset: the sequences.
        debug: debug level for the trackers' parameters.
        threads: ``1`` runs serially; ``N > 1`` runs the pairs in ``N`` spawned worker processes,
            each building its own trackers. A worker that dies (e.g. killed for memory) fails
            only the task it was running, named in the error, and is replaced by a fresh one;
            the other tasks go on.
        scheduler: a Dask scheduler address (``tcp://host:8786``) or a ``dask.distributed``
            cluster object: the tasks run on its workers, each writing its result files
            (the results folder must be reachable from the workers). An address is checked
            first (:func:`check_scheduler_address`): no hang on something that is not a scheduler.
        observer_factory: builds observers per task (see :data:`ObserverFactory`).
        overwrite: rerun pairs that already have complete results.
        progress: report progress on stderr (:class:`~evaluation.running.progress.RunProgress`): how
            many pairs and frames were already done, then on a terminal a bar over the frames of all
            pairs to run with an ETA, elsewhere one line per finished pair (counts, percent, ETA).
        torch_threads: torch threads per task in every mode (default 1: serial, pool and Dask
            runs give bit-identical files; more speeds up one sequence on a many-core machine,
            with differences in the last digits). ``None`` leaves torch's setting.
        frame_timeout_s: watchdog: a task fails (``failed``, its worker process killed) when
            no frame finishes for this many seconds; building the tracker counts with the first
            frame. Per frame, so a long sequence never trips it. The task then runs in a child
            process also when ``threads == 1`` (a hung OpenCV call cannot be interrupted in a
            thread), so tasks and observer factories must pickle. ``None`` (the default here;
            the CLIs use :data:`DEFAULT_FRAME_TIMEOUT_S`): no watchdog, a serial run stays in this
            process. Not applied on Dask.
        no_worker_timeout_s: on Dask, the pairs not done fail (one line each) when the scheduler
            has had no worker for this many seconds in a row (its only worker was killed, none was
            started); without it the run would wait forever.

    Returns:
        One :class:`TaskResult` per pair, in (sequence, tracker) order. Failures are logged
        with their tracebacks as they come back.

    Sequences are checked before tracking with the dataset doctor's checks (frame files listed, not
    decoded): each bad sequence is logged in one line, and the pairs of a sequence that cannot be
    tracked (a frame file missing, no valid first box) fail at once with that line instead of
    partway through. A reusable tracker's object (:func:`~evaluation.running.sequence.reusable`) is
    built once per process and run (serially: once per run; workers: once per worker process).

    Raises:
        Setup errors found by :func:`preflight` before any tracking (nothing is written then).
    """
    if frame_timeout_s is not None and not (math.isfinite(frame_timeout_s) and frame_timeout_s > 0):
        raise ValueError(f"frame_timeout_s must be a finite number > 0, or None for no watchdog, got {frame_timeout_s!r}")
    trackers = list(trackers)
    tasks = make_tasks(trackers, dataset, debug, overwrite)
    outcomes: list[TaskResult | None] = [None] * len(tasks)
    pending = []
    for i, task in enumerate(tasks):
        # Cheap check here: finished pairs are not shipped to workers at all.
        reason = None if overwrite else task.tracker.stale_reason(task.sequence)
        if not overwrite and reason is None:
            outcomes[i] = TaskResult(task.tracker.display_name, task.sequence.name, "skipped")
            _note_other_code(task.tracker, task.sequence)
        else:
            if reason is not None:
                _log_recompute(task.tracker, task.sequence, reason)
            pending.append(i)
    serial = scheduler is None and not (threads > 1 and len(pending) > 1) and frame_timeout_s is None
    cache = TrackerCache()  # a serial run's objects (this run only: nothing stays built after it)
    preflight(trackers, [tasks[i] for i in pending], build=scheduler is None, cache=cache if serial else None)
    if isinstance(scheduler, str) and pending:
        check_scheduler_address(scheduler)
    blocked = sequence_problems([tasks[i].sequence for i in pending])
    skipped = [i for i, outcome in enumerate(outcomes) if outcome is not None]
    meter = RunProgress({i: len(tasks[i].sequence) for i in pending}, skipped=len(skipped),
                        skipped_frames=sum(len(tasks[i].sequence) for i in skipped), enabled=progress)

    def done(i: int, result: TaskResult) -> None:
        outcomes[i] = result
        _log_result(result)
        meter.pair_done(i, f"{result.tracker} on {result.sequence}", _status_text(result))

    try:
        for i in [i for i in pending if tasks[i].sequence.name in blocked]:
            done(i, TaskResult(tasks[i].tracker.display_name, tasks[i].sequence.name, "failed",
                               error=f"dataset check: {blocked[tasks[i].sequence.name]}"))
        pending = [i for i in pending if tasks[i].sequence.name not in blocked]
        if scheduler is not None:
            if pending:  # nothing to send: no connection (the address was not checked either)
                run_on_dask(tasks, pending, scheduler, observer_factory, torch_threads, done, no_worker_timeout_s)
        elif threads > 1 and len(pending) > 1:
            WorkerPool(tasks, min(threads, len(pending)), observer_factory, torch_threads, frame_timeout_s,
                       single_thread=True, progress=False).run(pending, done, meter.frame)
        elif frame_timeout_s is not None and pending:
            WorkerPool(tasks, 1, observer_factory, torch_threads, frame_timeout_s, single_thread=False,
                       progress=False).run(pending, done, meter.frame)
        else:
            for i in pending:
                done(i, run_task(tasks[i], observer_factory, torch_threads,
                                 heartbeat=lambda index, i=i: meter.frame(i, index), cache=cache))
    finally:
        meter.close()
    return [r for r in outcomes if r is not None]


def _status_text(result: TaskResult) -> str:
    if result.status == "done" and result.seconds > 0:
        return f"done, {result.frames} frames in {result.seconds:.1f} s ({result.fps:.1f} fps)"
    if result.status == "failed":
        return f"failed ({result.error.splitlines()[0] if result.error else 'no message'})"
    return result.status



def make_tasks(trackers: Iterable[Any], dataset: Iterable[Sequence], debug: int = 0,
               overwrite: bool = False) -> list[Task]:
    """(sequence, tracker) pairs for the live trackers; results-only trackers are left out."""
    live = [t for t in trackers if isinstance(t, Tracker)]
    return [Task(t, seq, debug, overwrite) for seq in dataset for t in live]


_OTHER_CODE_REPORTED: set[tuple[str, str]] = set()


def _note_other_code(tracker: Tracker, sequence: Sequence) -> None:
    """Warn (once per results folder and code version) when reused results were made by other code."""
    recorded = results.recorded_code(tracker.results_dir, sequence)
    current = results.code_version()
    if recorded is None or recorded == current or (str(tracker.results_dir), recorded) in _OTHER_CODE_REPORTED:
        return
    _OTHER_CODE_REPORTED.add((str(tracker.results_dir), recorded))
    log.warning("%s: reusing results on disk made by other code (%s, now %s), e.g. %s; parameters are the "
                "same, but pass --overwrite to re-measure them", tracker.display_name, recorded, current,
                sequence.name)


def _log_recompute(tracker: Tracker, sequence: Sequence, reason: str) -> None:
    if tracker.result_file(sequence).exists():
        log.info("%s on %s: recomputing the results on disk: %s", tracker.display_name, sequence.name, reason)


def _log_result(result: TaskResult) -> None:
    if result.status == "failed":
        log.error("%s on %s failed: %s", result.tracker, result.sequence, result.error)


def failures(results: Iterable[TaskResult]) -> list[TaskResult]:
    return [r for r in results if r.status == "failed"]


def summary_line(results: list[TaskResult]) -> str:
    """One line: how many pairs ran, were skipped, stopped or failed."""
    counts = {s: sum(r.status == s for r in results) for s in ("done", "skipped", "stopped", "failed")}
    return f"{len(results)} (tracker, sequence) pairs: " + ", ".join(f"{v} {k}" for k, v in counts.items())
