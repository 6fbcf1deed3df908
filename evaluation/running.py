"""Running trackers over sequences: one sequence (:func:`run_sequence`) or a whole
experiment (:func:`run_dataset`) serially, in a process pool, or on a Dask cluster.

Result files per (tracker, sequence): :mod:`evaluation.results` (formats, order of writing).
Complete results whose run record matches the current inputs are skipped; others are recomputed.
Before any tracking, :func:`preflight` checks the trackers' parameters, builds each tracker once
(loading its weights) and checks the results folders.

A sequence that raises is recorded as ``failed`` with its traceback (logged when it comes
back) and the run goes on; callers turn failures into a non-zero exit. Worker processes
(``threads > 1``, or any run with a watchdog) report every finished frame; a worker that stalls
for ``frame_timeout_s`` is killed and one that dies (e.g. killed for memory) is replaced: either
way only its own task fails, with the task and the last finished frame named. Debug levels and
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
import functools
import logging
import math
import multiprocessing
import os
import signal
import socket
import struct
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Literal, Protocol, Sequence as Seq

import numpy as np
from tqdm import tqdm

from evaluation import results
from evaluation.data import Sequence
from evaluation.tracker import Tracker

log = logging.getLogger(__name__)

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


def run_sequence(tracker: Tracker, sequence: Sequence, *, debug: int = 0,
                 observers: Iterable[Observer] = (), overwrite: bool = False,
                 progress: bool = False, torch_threads: int | None = None,
                 heartbeat: Callable[[int], None] | None = None) -> TaskResult:
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
        heartbeat: called with the frame index after every tracked frame (the watchdog's sign
            of progress).

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
    trk = tracker.create(debug=debug)
    with torch_thread_count(torch_threads):
        return _track_and_save(tracker, sequence, trk, observers, progress, heartbeat)


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
    results.write_results(tracker.results_dir, sequence, boxes, times, states, tracker.run_record(sequence))
    return TaskResult(tracker.display_name, sequence.name, "done", n_frames, seconds)


def run_task(task: Task, observer_factory: ObserverFactory | None = None,
             torch_threads: int | None = 1, progress: bool = False,
             heartbeat: Callable[[int], None] | None = None) -> TaskResult:
    """Run one task and turn an exception into a ``failed`` result carrying the traceback.

    This is what every mode executes (serially, in worker processes and on Dask workers).
    """
    try:
        observers = observer_factory(task.tracker) if observer_factory is not None else ()
        return run_sequence(task.tracker, task.sequence, debug=task.debug, observers=observers,
                            overwrite=task.overwrite, progress=progress, torch_threads=torch_threads,
                            heartbeat=heartbeat)
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


def preflight(trackers: Iterable[Any], tasks: Iterable[Task] = (), build: bool = True) -> None:
    """Find setup errors before any tracking instead of once per sequence.

    Builds each live tracker's parameters (unknown names, missing model files). For the trackers
    that have ``tasks`` to run it also checks that the results folder can be created and written
    (a file where a folder should be, no permission) and that no result file path is a folder,
    and, with ``build``, builds the tracker once, which loads its network weights (a missing,
    truncated or NaN weights file stops the run here).

    Raises:
        OSError: the results folder is not usable (one line naming it).
        Whatever building the parameters or the tracker raises (messages name the file).
    """
    tasks = list(tasks)
    live = [t for t in trackers if isinstance(t, Tracker)]
    for tracker in live:
        tracker.get_parameters()
    busy = {id(task.tracker): task.tracker for task in tasks}
    for tracker in busy.values():
        check_results_dir(tracker.results_dir)
    for task in tasks:
        for path in results.all_files(task.tracker.results_dir, task.sequence):
            if path.is_dir():
                raise IsADirectoryError(f"{path} is a folder where a result file should go: move it away")
    if build:
        built: set[tuple[str, str]] = set()
        for tracker in busy.values():
            if (tracker.name, tracker.parameter_name) not in built:
                built.add((tracker.name, tracker.parameter_name))
                tracker.create()


def check_results_dir(folder: Path) -> None:
    """Create ``folder`` if needed and write (then remove) a probe file in it.

    Raises:
        OSError: one line naming the folder (or the file in its way) and the reason.
    """
    for parent in [folder, *folder.parents]:
        if parent.exists():
            if not parent.is_dir():
                raise NotADirectoryError(f"results folder {folder} cannot be created: {parent} is a file")
            break
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".write_probe.", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise PermissionError(f"results folder {folder} is not writable: {exc.strerror or exc}") from exc


def _log_result(result: TaskResult) -> None:
    if result.status == "failed":
        log.error("%s on %s failed: %s", result.tracker, result.sequence, result.error)


#: Default watchdog of the command-line tools (``--frame-timeout``): a task fails when no frame
#: finishes for this many seconds. Generous, so that a slow machine never trips it: the longest
#: step, building the tracker (loading its network) plus the first frame, takes seconds.
DEFAULT_FRAME_TIMEOUT_S = 120.0

#: Added to the watchdog's first deadline of a task, before the worker has confirmed it (a new
#: worker process starts Python and imports the tracker's modules first).
STARTUP_ALLOWANCE_S = 60.0


def run_dataset(trackers: Iterable[Any], dataset: Iterable[Sequence], *, debug: int = 0,
                threads: int = 1, scheduler: str | Any | None = None,
                observer_factory: ObserverFactory | None = None, overwrite: bool = False,
                progress: bool = True, torch_threads: int | None = 1,
                frame_timeout_s: float | None = None) -> list[TaskResult]:
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
        progress: show a tqdm progress bar (on stderr).
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

    Returns:
        One :class:`TaskResult` per pair, in (sequence, tracker) order. Failures are logged
        with their tracebacks as they come back.

    Raises:
        Setup errors found by :func:`preflight` before any tracking (nothing is written then).
    """
    if frame_timeout_s is not None and not frame_timeout_s > 0:
        raise ValueError(f"frame_timeout_s must be > 0 or None, got {frame_timeout_s!r}")
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
    preflight(trackers, [tasks[i] for i in pending], build=scheduler is None)
    if isinstance(scheduler, str) and pending:
        check_scheduler_address(scheduler)
    bar = tqdm(total=len(tasks), initial=len(tasks) - len(pending), desc="tracking", unit="seq",
               disable=not progress, file=sys.stderr)

    def done(i: int, result: TaskResult) -> None:
        outcomes[i] = result
        _log_result(result)
        bar.set_postfix_str(f"{result.tracker} / {result.sequence}: {result.status}", refresh=False)
        bar.update(1)

    try:
        if scheduler is not None:
            _run_dask(tasks, pending, scheduler, observer_factory, torch_threads, done)
        elif threads > 1 and len(pending) > 1:
            _run_workers(tasks, pending, min(threads, len(pending)), observer_factory, torch_threads,
                         frame_timeout_s, True, False, done)
        elif frame_timeout_s is not None and pending:
            _run_workers(tasks, pending, 1, observer_factory, torch_threads, frame_timeout_s, False,
                         progress, done)
        else:
            for i in pending:
                done(i, run_task(tasks[i], observer_factory, torch_threads, progress))
    finally:
        bar.close()
    return [r for r in outcomes if r is not None]


# --------------------------------------------------------------------------- worker processes


def _worker_main(conn: Any, single_thread: bool, observer_factory: ObserverFactory | None,
                 torch_threads: int | None, progress: bool) -> None:
    """A worker process: run the tasks received on ``conn`` one by one, sending ``("frame", i)``
    after every frame and ``("result", TaskResult)`` at the end of each; ``None`` ends it."""
    if single_thread:
        _init_worker()
    try:
        while True:
            task = conn.recv()
            if task is None:
                return
            conn.send(("start", -1))  # unpickled (modules imported): the watchdog's clock starts
            result = run_task(task, observer_factory, torch_threads, progress,
                              heartbeat=lambda index: conn.send(("frame", index)))
            conn.send(("result", result))
    except (KeyboardInterrupt, EOFError, BrokenPipeError):
        return  # Ctrl-C or the parent went away: nothing half-written (atomic writes)


@dataclass
class _Worker:
    process: Any
    conn: Any
    task: int | None = None
    frame: int = -1
    deadline: float = math.inf


def _exit_description(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        hint = " (killed; out of memory?)" if -code == signal.SIGKILL else ""
        return f"by {name}{hint}"
    return f"with exit code {code}"


def _run_workers(tasks: list[Task], pending: list[int], n_workers: int, observer_factory: ObserverFactory | None,
                 torch_threads: int | None, frame_timeout_s: float | None, single_thread: bool, progress: bool,
                 done: Callable[[int, TaskResult], None]) -> None:
    """Run ``pending`` tasks in ``n_workers`` spawned processes with a per-frame watchdog.

    A worker that dies or stalls for ``frame_timeout_s`` fails its own task (named, with the last
    finished frame) and is replaced; tasks not yet started are unaffected.
    """
    from multiprocessing.connection import wait

    context = multiprocessing.get_context("spawn")  # fork is unsafe with torch/OpenCV threads
    queue = list(pending)
    workers: list[_Worker] = []

    def start_worker() -> _Worker:
        parent_end, child_end = context.Pipe()
        process = context.Process(target=_worker_main, name="siamot-worker", daemon=True,
                                  args=(child_end, single_thread, observer_factory, torch_threads, progress))
        process.start()
        child_end.close()
        worker = _Worker(process, parent_end)
        workers.append(worker)
        return worker

    def retire(worker: _Worker, error: str) -> None:
        index, worker.task = worker.task, None
        if worker.process.is_alive():
            worker.process.kill()
        worker.process.join()
        worker.conn.close()
        workers.remove(worker)
        if index is not None:
            task = tasks[index]
            done(index, TaskResult(task.tracker.display_name, task.sequence.name, "failed", error=error))

    def assign(worker: _Worker, index: int) -> None:
        task = tasks[index]
        try:
            worker.conn.send(task)
        except Exception as exc:  # a task that does not pickle fails alone
            done(index, TaskResult(task.tracker.display_name, task.sequence.name, "failed",
                                   error=f"worker error: cannot send the task to a worker process: "
                                         f"{type(exc).__name__}: {exc}"))
            return
        worker.task, worker.frame = index, -1
        # Until the worker confirms the task, allow for starting Python and importing (slow on a busy machine).
        worker.deadline = time.monotonic() + (frame_timeout_s + STARTUP_ALLOWANCE_S if frame_timeout_s else math.inf)

    def where(worker: _Worker) -> str:
        task = tasks[worker.task] if worker.task is not None else None
        name = f"{task.tracker.display_name} on {task.sequence.name}" if task else "?"
        step = "while building the tracker or on frame 0" if worker.frame < 0 else \
            f"after frame {worker.frame} of {len(task.sequence) if task else '?'}"
        return f"{name} {step}"

    try:
        while queue or any(w.task is not None for w in workers):
            for worker in [w for w in workers if w.task is None]:
                while queue and worker.task is None:
                    assign(worker, queue.pop(0))
            while queue and len(workers) < n_workers:
                worker = start_worker()
                while queue and worker.task is None:
                    assign(worker, queue.pop(0))
            busy = [w for w in workers if w.task is not None]
            if not busy:
                continue
            timeout = max(0.0, min(w.deadline for w in busy) - time.monotonic())
            wait([w.conn for w in busy] + [w.process.sentinel for w in busy],
                 None if math.isinf(timeout) else timeout)
            for worker in busy:
                try:
                    while worker.task is not None and worker.conn.poll():
                        kind, value = worker.conn.recv()
                        if kind in ("start", "frame"):
                            worker.frame = value
                            worker.deadline = time.monotonic() + (frame_timeout_s or math.inf)
                        else:
                            index, worker.task = worker.task, None
                            done(index, value)
                except (EOFError, OSError):
                    pass  # the process died: reported below
                if worker.task is None:
                    continue
                if not worker.process.is_alive():
                    worker.process.join()
                    retire(worker, f"worker error: the worker process running {where(worker)} died "
                                   f"{_exit_description(worker.process.exitcode)}; the other tasks go on "
                                   f"in a fresh process")
                elif time.monotonic() > worker.deadline:
                    retire(worker, f"watchdog: no frame finished for {frame_timeout_s:g} s ({where(worker)}): "
                                   f"the task's process was killed (a hung tracker call; see --frame-timeout)")
    finally:
        for worker in list(workers):
            if worker.task is None and worker.process.is_alive():
                try:
                    worker.conn.send(None)
                except OSError:
                    pass
                worker.process.join(timeout=5)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
            worker.conn.close()


def check_scheduler_address(address: str, timeout_s: float = 5.0) -> None:
    """Check that a Dask scheduler answers at ``address`` before handing it to ``dask.distributed``.

    ``tcp://`` addresses (and bare ``host:port``) are probed: connect, then read the handshake a
    Dask scheduler sends first (an 8-byte length and a small msgpack message). Other schemes
    (``tls://``, ``inproc://``, ...) are passed on unchecked.

    Raises:
        ConnectionError: one line naming the address: nothing listens, no answer within
            ``timeout_s`` (e.g. an HTTP server), or an answer that is not Dask's.
    """
    scheme, sep, rest = address.partition("://")
    if not sep:
        scheme, rest = "tcp", address
    if scheme != "tcp":
        return
    host, _, port_text = rest.rstrip("/").rpartition(":")
    host = host.strip("[]")
    if not host or not port_text.isdigit():
        raise ValueError(f"--scheduler {address!r}: expected tcp://HOST:PORT")
    if not 0 < int(port_text) < 65536:
        raise ValueError(f"--scheduler {address!r}: port {port_text} is out of range (1-65535)")
    try:
        with socket.create_connection((host, int(port_text)), timeout=timeout_s) as sock:
            sock.settimeout(timeout_s)
            header = _recv_exactly(sock, 8)
            (length,) = struct.unpack("<Q", header)
            if not 0 < length <= 1 << 20:
                raise ConnectionError(f"--scheduler {address}: the service there is not a Dask scheduler "
                                      f"(it answered {header!r})")
            payload = _recv_exactly(sock, length)
    except socket.timeout as exc:
        raise ConnectionError(f"--scheduler {address}: no Dask scheduler answer within {timeout_s:g} s "
                              f"(something else listens there?)") from exc
    except ConnectionError as exc:
        if str(exc).startswith("--scheduler"):
            raise
        raise ConnectionError(f"--scheduler {address}: cannot connect ({exc.strerror or exc}); "
                              f"is the scheduler running?") from exc
    except OSError as exc:
        raise ConnectionError(f"--scheduler {address}: cannot connect ({exc.strerror or exc})") from exc
    if b"pickle-protocol" not in payload and b"compression" not in payload:
        raise ConnectionError(f"--scheduler {address}: the service there is not a Dask scheduler "
                              f"(unexpected handshake)")


def _recv_exactly(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionResetError(f"connection closed after {len(data)} bytes")
        data += chunk
    return data


def _result_or_failure(future: Any, task: Task) -> TaskResult:
    """The task's result; an error *around* the task (a worker that died, a task that could not
    be unpickled on a Dask worker lacking a module) becomes that task's failure."""
    try:
        return future.result()
    except Exception as exc:  # recorded and reported like a failing sequence
        return TaskResult(task.tracker.display_name, task.sequence.name, "failed",
                          error=f"worker error: {type(exc).__name__}: {exc}")


def _run_dask(tasks: list[Task], pending: list[int], scheduler: str | Any, observer_factory: ObserverFactory | None,
              torch_threads: int | None, done: Callable[[int, TaskResult], None]) -> None:
    try:
        from dask.distributed import Client, as_completed as dask_as_completed
    except ImportError as exc:
        raise ImportError("--scheduler needs Dask distributed: pip install 'dask[distributed]'") from exc
    try:
        client = Client(scheduler, timeout="10s")
    except (OSError, TypeError, ValueError) as exc:  # e.g. tls:// without Dask's TLS settings: a TypeError
        raise ConnectionError(f"--scheduler {scheduler}: Dask could not connect ({type(exc).__name__}: "
                              f"{str(exc).splitlines()[0] if str(exc) else exc!r})") from exc
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
