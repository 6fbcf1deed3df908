"""Running trackers over sequences: one sequence (:func:`run_sequence`) or a whole
experiment (:func:`run_dataset`) serially, in a process pool, or on a Dask cluster.

Result files per (tracker, sequence), all written atomically, the boxes last so that their
presence marks a complete run (a resumed run skips it):

- ``<seq>_state.csv``: per-frame online state (``frame``, 0-based, and those of ``peak``, ``psr``,
  ``jcpp``, ``apce``, ``loss``, ``trained``, ``template_updated``, ``score`` that the tracker reports;
  booleans as 0/1, a missing value as an empty cell), only for trackers that report any;
- ``<seq>_time.txt``: seconds per frame (the tracker's ``time`` or the measured call);
- ``<seq>.txt``: ``x y w h`` per frame, tab-delimited floats with 2 decimals. Frame 0 is the
  initial box.

A sequence that raises is recorded as ``failed`` with its traceback (logged when it comes
back) and the run goes on; callers turn failures into a non-zero exit. Debug levels and
observers never change the results; results are saved at every debug level, except when an
observer stops a sequence early (then nothing is saved and the status is ``stopped``).

Reproducibility: every task tracks with the same torch thread count (``torch_threads``,
default 1) because CPU float reductions change in the last digits with the thread count, and
pool workers run one OpenCV thread each; a deterministic tracker then writes byte-identical
files serially, in a pool and on Dask (checked for SiamOT by ``benchmarks/runner_parity.py``).
OpenCV MIL is not deterministic run to run (see :mod:`evaluation.opencv_trackers`).
"""
from __future__ import annotations

import contextlib
import csv
import functools
import io
import logging
import math
import multiprocessing
import os
import sys
import time
import traceback
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Literal, Protocol, Sequence as Seq

import numpy as np
from tqdm import tqdm

from evaluation.boxes_io import atomic_write_text, write_boxes_txt, write_values_txt
from evaluation.data import Sequence
from evaluation.tracker import Tracker

log = logging.getLogger(__name__)

STATE_KEYS: tuple[str, ...] = ("peak", "psr", "jcpp", "apce", "loss", "trained", "template_updated", "score")

Status = Literal["done", "skipped", "stopped", "failed"]


class Observer(Protocol):
    """Watches a sequence being tracked (debug views, video writers)."""

    def start(self, sequence: Sequence, tracker_display_name: str) -> None: ...

    def frame(self, index: int, image_rgb: np.ndarray, output: dict, gt_xywh: np.ndarray | None) -> bool:
        """Called after every frame; return ``False`` to stop this sequence (nothing is saved)."""
        ...

    def finish(self) -> None: ...


ObserverFactory = Callable[[Tracker], Seq[Observer]]
"""``tracker -> observers`` for one sequence; must be picklable to run in workers (a module-level
function or a ``functools.partial`` of one)."""


@dataclass(frozen=True)
class TaskResult:
    """What happened to one (tracker, sequence) pair."""

    tracker: str
    sequence: str
    status: Status
    frames: int = 0
    seconds: float = 0.0
    error: str = ""

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else math.nan


@dataclass(frozen=True)
class Task:
    """One (tracker, sequence) pair to run; picklable, so it can go to a worker."""

    tracker: Tracker
    sequence: Sequence
    debug: int = 0
    overwrite: bool = False


# --------------------------------------------------------------------------- one sequence


def _check_box(output: dict, index: int, sequence: Sequence, tracker: Tracker) -> list[float]:
    if "target_bbox" not in output:
        raise KeyError(f"{tracker.display_name} on {sequence.name}: frame {index}: "
                       f"tracker output has no 'target_bbox' (keys: {sorted(output)})")
    box = np.asarray(output["target_bbox"], dtype=np.float64).reshape(-1)
    if box.shape != (4,) or not np.all(np.isfinite(box)):
        raise ValueError(f"{tracker.display_name} on {sequence.name}: frame {index}: "
                         f"target_bbox must be 4 finite numbers [x, y, w, h], got {output['target_bbox']!r}")
    return box.tolist()


def _state_row(index: int, output: dict) -> dict[str, Any]:
    row: dict[str, Any] = {"frame": index}
    for key in STATE_KEYS:
        if key in output and output[key] is not None:
            value = output[key]
            row[key] = int(bool(value)) if isinstance(value, (bool, np.bool_)) else float(value)
    return row


def format_state_csv(rows: list[dict[str, Any]]) -> str | None:
    """The state CSV text, or ``None`` when no frame reported any state key."""
    keys = [k for k in STATE_KEYS if any(k in r for r in rows)]
    if not keys:
        return None
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["frame", *keys])
    for row in rows:
        cells = [row["frame"]]
        for key in keys:
            value = row.get(key)
            cells.append("" if value is None else value if isinstance(value, int) else f"{value:.6g}")
        writer.writerow(cells)
    return buffer.getvalue()


def run_sequence(tracker: Tracker, sequence: Sequence, *, debug: int = 0,
                 observers: Iterable[Observer] = (), overwrite: bool = False,
                 progress: bool = False, torch_threads: int | None = None) -> TaskResult:
    """Track ``sequence`` with a fresh tracker object and save the result files.

    Args:
        tracker: the configuration to run (its ``results_dir`` receives the files).
        sequence: frames and the initial box (``ground_truth_rect[0]``).
        debug: debug level given to the tracker's parameters (``params.debug``).
        observers: called per frame (see :class:`Observer`); any returning ``False`` stops
            the sequence without saving.
        overwrite: run even when complete results exist (default: skip them, i.e. resume).
        progress: show a per-frame progress bar (removed when the sequence ends).
        torch_threads: torch threads while tracking (set once the tracker is built, so trackers
            that do not use torch do not load it); ``None`` leaves torch's setting.

    Returns:
        A :class:`TaskResult` with status ``done``, ``skipped`` or ``stopped``.

    Raises:
        Whatever the tracker or the frame loader raises; nothing is saved then.
    """
    if not overwrite and tracker.has_complete_results(sequence):
        return TaskResult(tracker.display_name, sequence.name, "skipped")
    if len(sequence) == 0:
        raise ValueError(f"sequence '{sequence.name}' has no frames")
    observers = list(observers)
    trk = tracker.create(debug=debug)
    with torch_thread_count(torch_threads):
        return _track_and_save(tracker, sequence, trk, observers, progress)


def _track_and_save(tracker: Tracker, sequence: Sequence, trk: Any, observers: list[Observer],
                    progress: bool) -> TaskResult:
    n_frames = len(sequence)
    boxes = np.zeros((n_frames, 4), dtype=np.float64)
    times = np.zeros(n_frames, dtype=np.float64)
    states: list[dict[str, Any]] = []
    for obs in observers:
        obs.start(sequence, tracker.display_name)
    stopped = False
    started = time.perf_counter()
    try:
        for index in tqdm(range(n_frames), desc=f"{tracker.display_name} / {sequence.name}", unit="frame",
                          leave=False, disable=not progress, file=sys.stderr):
            image = sequence.image(index)
            info = sequence.frame_info(index)
            tic = time.perf_counter()
            if index == 0:
                output = dict(trk.initialize(image, info) or {})
                box = [float(v) for v in sequence.ground_truth_rect[0]]
                output.setdefault("target_bbox", box)
            else:
                info["previous_output"] = previous
                output = dict(trk.track(image, info))
                box = _check_box(output, index, sequence, tracker)
            elapsed = time.perf_counter() - tic
            boxes[index] = box
            times[index] = float(output.get("time", elapsed))
            states.append(_state_row(index, output))
            previous = output
            gt = sequence.ground_truth_rect[index] if index < len(sequence.ground_truth_rect) else None
            # Every observer sees every frame, even after one asked to stop.
            keep_going = [obs.frame(index, image, output, gt) for obs in observers]
            if not all(keep_going):
                stopped = True
                break
    finally:
        for obs in observers:
            obs.finish()
    seconds = time.perf_counter() - started
    if stopped:
        return TaskResult(tracker.display_name, sequence.name, "stopped", index + 1, seconds)
    state_text = format_state_csv(states)
    if state_text is not None:
        atomic_write_text(tracker.state_file(sequence), state_text)
    write_values_txt(tracker.time_file(sequence), times)
    write_boxes_txt(tracker.result_file(sequence), boxes)
    return TaskResult(tracker.display_name, sequence.name, "done", n_frames, seconds)


def run_task(task: Task, observer_factory: ObserverFactory | None = None,
             torch_threads: int | None = 1, progress: bool = False) -> TaskResult:
    """Run one task and turn an exception into a ``failed`` result carrying the traceback.

    This is what every mode executes (serially, in pool workers and on Dask workers).
    """
    try:
        observers = observer_factory(task.tracker) if observer_factory is not None else ()
        return run_sequence(task.tracker, task.sequence, debug=task.debug, observers=observers,
                            overwrite=task.overwrite, progress=progress, torch_threads=torch_threads)
    except Exception as exc:  # recorded with its traceback and reported by the caller
        return TaskResult(task.tracker.display_name, task.sequence.name, "failed",
                          error=f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}")


@contextlib.contextmanager
def torch_thread_count(threads: int | None) -> Iterator[None]:
    """Set torch's intra-op thread count for a block (restored after) when torch is loaded.

    CPU float reductions depend on the thread count in the last digits; one fixed count in
    every mode is what makes serial, pool and Dask result files bit-identical.
    """
    torch = sys.modules.get("torch")
    if threads is None or torch is None:
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


# --------------------------------------------------------------------------- many sequences


def _init_worker() -> None:
    # One compute thread per worker process: N workers on N cores, no oversubscription.
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = "1"
    import cv2
    cv2.setNumThreads(1)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(1)


def make_tasks(trackers: Iterable[Any], dataset: Iterable[Sequence], debug: int = 0,
               overwrite: bool = False) -> list[Task]:
    """(sequence, tracker) pairs for the live trackers; results-only trackers are left out."""
    live = [t for t in trackers if isinstance(t, Tracker)]
    return [Task(t, seq, debug, overwrite) for seq in dataset for t in live]


def preflight(trackers: Iterable[Any]) -> None:
    """Build each live tracker's parameters once, so a configuration error (unknown name, a
    missing model file) stops the run before any work instead of failing every sequence."""
    for tracker in trackers:
        if isinstance(tracker, Tracker):
            tracker.get_parameters()


def _log_result(result: TaskResult) -> None:
    if result.status == "failed":
        log.error("%s on %s failed: %s", result.tracker, result.sequence, result.error)


def run_dataset(trackers: Iterable[Any], dataset: Iterable[Sequence], *, debug: int = 0,
                threads: int = 1, scheduler: str | Any | None = None,
                observer_factory: ObserverFactory | None = None, overwrite: bool = False,
                progress: bool = True, torch_threads: int | None = 1) -> list[TaskResult]:
    """Run every live tracker on every sequence; results-only trackers are skipped.

    Args:
        trackers: :class:`Tracker` objects (others, e.g. published results, are ignored).
        dataset: the sequences.
        debug: debug level for the trackers' parameters.
        threads: ``1`` runs serially in this process; ``N > 1`` runs the pairs in a pool of
            ``N`` spawned processes, each building its own trackers.
        scheduler: a Dask scheduler address (``tcp://host:8786``) or a ``dask.distributed``
            cluster object: the tasks run on its workers, each writing its result files
            (the results folder must be reachable from the workers).
        observer_factory: builds observers per task (see :data:`ObserverFactory`).
        overwrite: rerun pairs that already have complete results.
        progress: show a tqdm progress bar (on stderr).
        torch_threads: torch threads per task in every mode (default 1: serial, pool and Dask
            runs give bit-identical files; more speeds up one sequence on a many-core machine,
            with differences in the last digits). ``None`` leaves torch's setting.

    Returns:
        One :class:`TaskResult` per pair, in (sequence, tracker) order. Failures are logged
        with their tracebacks as they come back.
    """
    trackers = list(trackers)
    preflight(trackers)
    tasks = make_tasks(trackers, dataset, debug, overwrite)
    results: list[TaskResult | None] = [None] * len(tasks)
    pending = []
    for i, task in enumerate(tasks):
        # Cheap check here: finished pairs are not shipped to workers at all.
        if not overwrite and task.tracker.has_complete_results(task.sequence):
            results[i] = TaskResult(task.tracker.display_name, task.sequence.name, "skipped")
        else:
            pending.append(i)
    bar = tqdm(total=len(tasks), initial=len(tasks) - len(pending), desc="tracking", unit="seq",
               disable=not progress, file=sys.stderr)

    def done(i: int, result: TaskResult) -> None:
        results[i] = result
        _log_result(result)
        bar.set_postfix_str(f"{result.tracker} / {result.sequence}: {result.status}", refresh=False)
        bar.update(1)

    try:
        if scheduler is not None:
            _run_dask(tasks, pending, scheduler, observer_factory, torch_threads, done)
        elif threads > 1 and len(pending) > 1:
            _run_pool(tasks, pending, threads, observer_factory, torch_threads, done)
        else:
            for i in pending:
                done(i, run_task(tasks[i], observer_factory, torch_threads, progress))
    finally:
        bar.close()
    return [r for r in results if r is not None]


def _result_or_failure(future: Any, task: Task) -> TaskResult:
    """The task's result; an error *around* the task (a worker that died, a task that could not
    be unpickled on a Dask worker lacking a module) becomes that task's failure."""
    try:
        return future.result()
    except Exception as exc:  # recorded and reported like a failing sequence
        return TaskResult(task.tracker.display_name, task.sequence.name, "failed",
                          error=f"worker error: {type(exc).__name__}: {exc}")


def _run_pool(tasks: list[Task], pending: list[int], threads: int, observer_factory: ObserverFactory | None,
              torch_threads: int | None, done: Callable[[int, TaskResult], None]) -> None:
    context = multiprocessing.get_context("spawn")  # fork is unsafe with torch/OpenCV threads
    with ProcessPoolExecutor(max_workers=min(threads, len(pending)), mp_context=context,
                             initializer=_init_worker) as pool:
        futures = {pool.submit(run_task, tasks[i], observer_factory, torch_threads): i for i in pending}
        try:
            for future in as_completed(futures):
                done(futures[future], _result_or_failure(future, tasks[futures[future]]))
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise


def _run_dask(tasks: list[Task], pending: list[int], scheduler: str | Any, observer_factory: ObserverFactory | None,
              torch_threads: int | None, done: Callable[[int, TaskResult], None]) -> None:
    try:
        from dask.distributed import Client, as_completed as dask_as_completed
    except ImportError as exc:
        raise ImportError("--scheduler needs Dask distributed: pip install 'dask[distributed]'") from exc
    client = Client(scheduler)
    try:
        futures = {client.submit(run_task, tasks[i], observer_factory, torch_threads, pure=False): i for i in pending}
        for future in dask_as_completed(list(futures)):
            done(futures[future], _result_or_failure(future, tasks[futures[future]]))
    finally:
        client.close()


def failures(results: Iterable[TaskResult]) -> list[TaskResult]:
    return [r for r in results if r.status == "failed"]


def summary_line(results: list[TaskResult]) -> str:
    """One line: how many pairs ran, were skipped, stopped or failed."""
    counts = {s: sum(r.status == s for r in results) for s in ("done", "skipped", "stopped", "failed")}
    return f"{len(results)} (tracker, sequence) pairs: " + ", ".join(f"{v} {k}" for k, v in counts.items())


# --------------------------------------------------------------------------- debug views


def _debug_observers(level: int, save: bool, plots_path: str, tracker: Tracker) -> list[Observer]:
    from evaluation.visualization import make_debug_observer
    return [make_debug_observer(level=level, tracker_display_name=tracker.display_name,
                                plots_path=Path(plots_path).expanduser(), save=save)]


def debug_observer_factory(level: int, save: bool, plots_path: str) -> ObserverFactory | None:
    """Observers for ``--debug L`` / ``--save-debug`` (``None`` when neither is asked for).

    Uses :func:`evaluation.visualization.make_debug_observer` (checked now, so a missing module
    fails before any tracking). The factory is picklable for worker processes.
    """
    if level < 1 and not save:
        return None
    try:
        import evaluation.visualization  # noqa: F401
    except ModuleNotFoundError as exc:
        raise ImportError(f"--debug/--save-debug need the debug views in evaluation.visualization, "
                          f"which cannot be imported: {exc}") from exc
    return functools.partial(_debug_observers, max(level, 1), save, plots_path)
