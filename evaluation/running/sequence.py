"""One (tracker, sequence) pair: track it and save its result files.

:func:`run_sequence` is the whole job of one pair; :func:`run_task` wraps it for every runner
(serial, worker processes, Dask workers), turning an exception into a ``failed``
:class:`TaskResult`. A tracker object is built per pair, except for trackers that declare that one
object runs many sequences (:func:`reusable`): runners keep those in a :class:`TrackerCache`, so a
worker builds each network once per run (once per worker process on Dask). Result files and run records: :mod:`evaluation.results`. Debug levels and
observers never change the results; an observer that stops a sequence early leaves nothing saved
(status ``stopped``).
"""
from __future__ import annotations

import collections
import contextlib
import json
import math
import os
import sys
import threading
import time
import traceback
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, Literal, Protocol, Sequence as Seq

import numpy as np
from tqdm import tqdm

from evaluation import results
from evaluation.data import Sequence
from evaluation.tracker import Tracker

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


def _check_box(output: dict, index: int, sequence: Sequence, tracker: Tracker) -> list[float]:
    if "target_bbox" not in output:
        raise KeyError(f"{tracker.display_name} on {sequence.name}: frame {index}: "
                       f"tracker output has no 'target_bbox' (keys: {sorted(output)})")
    box = np.asarray(output["target_bbox"], dtype=np.float64).reshape(-1)
    if box.shape != (4,) or not np.all(np.isfinite(box)):
        raise ValueError(f"{tracker.display_name} on {sequence.name}: frame {index}: "
                         f"target_bbox must be 4 finite numbers [x, y, w, h], got {output['target_bbox']!r}")
    return box.tolist()


#: Built-in tracker names whose objects run one sequence after another with the same results as a
#: fresh object per sequence (SiamOT: ``initialize`` restores the pretrained weights and resets every
#: per-sequence state; checked by the tests). A plugin says so with a class attribute
#: ``reusable_across_sequences = True`` on its tracker class.
REUSABLE_TRACKERS: frozenset[str] = frozenset({"siamot"})


def reusable(tracker: Tracker) -> bool:
    """Whether one object of ``tracker``'s class may run many sequences (see :data:`REUSABLE_TRACKERS`)."""
    if tracker.name in REUSABLE_TRACKERS:
        return True
    from evaluation import registry

    return bool(getattr(registry.tracker_class(tracker.name), "reusable_across_sequences", False))


class TrackerCache:
    """Tracker objects kept between pairs, keyed by tracker name, parameter name, the parameters'
    values (:func:`evaluation.results.parameters_record`) and the debug level; only for
    :func:`reusable` trackers (others are built per pair). At most ``max_size`` objects (least
    recently used dropped first), so an ablation of many variants does not hold every network.
    Thread-safe; two threads never share one object at once (a busy object is not handed out).
    ``builds`` counts the objects built."""

    def __init__(self, max_size: int = 4) -> None:
        self.max_size = max_size
        self.builds = 0
        self._idle: collections.OrderedDict[str, list[Any]] = collections.OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def key(tracker: Tracker, debug: int) -> str:
        """The cache key; a parameter value naming an existing file adds its size and modification
        time, so a weights file replaced between runs on a long-lived worker is loaded again."""
        record = results.parameters_record(tracker.get_parameters(debug))
        files = {}
        for value in (record.values() if isinstance(record, dict) else ()):
            if isinstance(value, str) and value and os.path.isfile(value):
                stat = os.stat(value)
                files[value] = [stat.st_size, stat.st_mtime_ns]
        return json.dumps([tracker.name, tracker.parameter_name, record, debug, files], sort_keys=True, default=repr)

    @contextlib.contextmanager
    def borrow(self, tracker: Tracker, debug: int = 0) -> Iterator[Any]:
        """A tracker object for one sequence: a kept one when there is an idle one, else a new one
        (kept after the block when ``tracker`` is :func:`reusable`)."""
        if not reusable(tracker):
            self.builds += 1
            yield tracker.create(debug=debug)
            return
        key = self.key(tracker, debug)
        with self._lock:
            idle = self._idle.get(key)
            obj = idle.pop() if idle else None
        if obj is None:
            obj = tracker.create(debug=debug)
            with self._lock:
                self.builds += 1
        yield obj
        with self._lock:
            self._idle.setdefault(key, []).append(obj)
            self._idle.move_to_end(key)
            while sum(len(v) for v in self._idle.values()) > self.max_size:
                oldest = next(iter(self._idle))
                self._idle[oldest].pop(0)
                if not self._idle[oldest]:
                    del self._idle[oldest]

    def clear(self) -> None:
        with self._lock:
            self._idle.clear()


#: The cache of a worker process (a pool worker or a Dask worker): lives as long as the process.
WORKER_CACHE = TrackerCache()


def run_sequence(tracker: Tracker, sequence: Sequence, *, debug: int = 0,
                 observers: Iterable[Observer] = (), overwrite: bool = False,
                 progress: bool = False, torch_threads: int | None = None,
                 heartbeat: Callable[[int], None] | None = None,
                 cache: TrackerCache | None = None) -> TaskResult:
    """Track ``sequence`` with a fresh tracker object (or one from ``cache``) and save the result files.

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
        heartbeat: called with the frame index after every tracked frame (the watchdog's sign
            of progress).
        cache: where a :func:`reusable` tracker's object comes from and goes back to (``None``:
            a new object for this sequence).

    Returns:
        A :class:`TaskResult` with status ``done``, ``skipped`` or ``stopped``.

    Raises:
        Whatever the tracker or the frame loader raises (also ``ValueError`` naming the frame
        when frames differ in size); nothing is saved then.
    """
    if not overwrite and tracker.stale_reason(sequence) is None:
        return TaskResult(tracker.display_name, sequence.name, "skipped")
    if len(sequence) == 0:
        raise ValueError(f"sequence '{sequence.name}' has no frames")
    observers = list(observers)
    if cache is None:
        trk = tracker.create(debug=debug)
        with torch_thread_count(torch_threads):
            return _track_and_save(tracker, sequence, trk, observers, progress, heartbeat)
    with cache.borrow(tracker, debug) as trk, torch_thread_count(torch_threads):
        return _track_and_save(tracker, sequence, trk, observers, progress, heartbeat)


def _check_frame_size(image: np.ndarray, first_shape: tuple[int, ...], index: int, sequence: Sequence) -> None:
    if image.shape[:2] != first_shape[:2]:
        raise ValueError(f"sequence '{sequence.name}': frame {index} ({sequence.frames[index]}) is "
                         f"{image.shape[1]}x{image.shape[0]} but frame 0 is {first_shape[1]}x{first_shape[0]}: "
                         f"all frames of a sequence must have one size")


def _track_and_save(tracker: Tracker, sequence: Sequence, trk: Any, observers: list[Observer],
                    progress: bool, heartbeat: Callable[[int], None] | None = None) -> TaskResult:
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
            if index == 0:
                first_shape = image.shape
            else:
                _check_frame_size(image, first_shape, index, sequence)
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
            states.append(results.state_row(index, output))
            previous = output
            if heartbeat is not None:
                heartbeat(index)
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
    record = tracker.run_record(sequence)
    details = getattr(trk, "run_details", None)
    if callable(details):  # what the tracker chose on this machine (e.g. SiamOT's precision): provenance
        record["machine"] = {**record["machine"], "tracker": details()}
    results.write_results(tracker.results_dir, sequence, boxes, times, states, record)
    return TaskResult(tracker.display_name, sequence.name, "done", n_frames, seconds)


def run_task(task: Task, observer_factory: ObserverFactory | None = None,
             torch_threads: int | None = 1, progress: bool = False,
             heartbeat: Callable[[int], None] | None = None, cache: TrackerCache | None = None) -> TaskResult:
    """Run one task and turn an exception into a ``failed`` result carrying the traceback.

    This is what every mode executes (serially, in worker processes and on Dask workers);
    ``cache``: see :func:`run_sequence`.
    """
    try:
        observers = observer_factory(task.tracker) if observer_factory is not None else ()
        return run_sequence(task.tracker, task.sequence, debug=task.debug, observers=observers,
                            overwrite=task.overwrite, progress=progress, torch_threads=torch_threads,
                            heartbeat=heartbeat, cache=cache)
    except Exception as exc:  # recorded with its traceback and reported by the caller
        return TaskResult(task.tracker.display_name, task.sequence.name, "failed",
                          error=f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}")


def run_task_in_worker(task: Task, observer_factory: ObserverFactory | None = None,
                       torch_threads: int | None = 1) -> TaskResult:
    """:func:`run_task` with the worker process's :data:`WORKER_CACHE` (what a Dask worker runs: the
    network of a reusable tracker is built once per worker process, not once per pair)."""
    return run_task(task, observer_factory, torch_threads, cache=WORKER_CACHE)


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
