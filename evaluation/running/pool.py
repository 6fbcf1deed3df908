"""Worker processes with a per-frame watchdog (:class:`WorkerPool`).

Each worker is a spawned process that runs one task at a time and reports every finished frame.
A worker that stalls for ``frame_timeout_s`` is killed and one that dies (e.g. killed for memory)
is replaced: either way only its own task fails, with the task and the last finished frame named;
tasks not yet started are unaffected.
"""
from __future__ import annotations

import math
import multiprocessing
import os
import signal
import sys
import time
from dataclasses import dataclass
from typing import Any, Callable

from evaluation.running.sequence import WORKER_CACHE, ObserverFactory, Task, TaskResult, run_task

#: Added to the watchdog's first deadline of a task, before the worker has confirmed it (a new
#: worker process starts Python and imports the tracker's modules first).
STARTUP_ALLOWANCE_S = 60.0


def _init_worker() -> None:
    # One compute thread per worker process: N workers on N cores, no oversubscription.
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = "1"
    import cv2
    cv2.setNumThreads(1)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(1)


def _worker_main(conn: Any, single_thread: bool, observer_factory: ObserverFactory | None,
                 torch_threads: int | None, progress: bool) -> None:
    """A worker process: run the tasks received on ``conn`` one by one, sending ``("frame", i)``
    after every frame and ``("result", TaskResult)`` at the end of each; ``None`` ends it. A reusable
    tracker's object is kept between its tasks (:data:`~evaluation.running.sequence.WORKER_CACHE`)."""
    if single_thread:
        _init_worker()
    try:
        while True:
            task = conn.recv()
            if task is None:
                return
            conn.send(("start", -1))  # unpickled (modules imported): the watchdog's clock starts
            result = run_task(task, observer_factory, torch_threads, progress,
                              heartbeat=lambda index: conn.send(("frame", index)), cache=WORKER_CACHE)
            conn.send(("result", result))
    except (KeyboardInterrupt, EOFError, BrokenPipeError):
        return  # Ctrl-C or the parent went away: nothing half-written (atomic writes)


def _exit_description(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        hint = " (killed; out of memory?)" if -code == signal.SIGKILL else ""
        return f"by {name}{hint}"
    return f"with exit code {code}"


@dataclass
class _Worker:
    """One worker process, the task it runs (an index into the pool's tasks), the last frame it
    finished and when the watchdog kills it."""

    process: Any
    conn: Any
    task: int | None = None
    frame: int = -1
    deadline: float = math.inf


class WorkerPool:
    """Runs tasks in ``n_workers`` spawned processes with a per-frame watchdog.

    Args:
        tasks: every task of the run; :meth:`run` is given the indices to run.
        n_workers: processes at most (started as needed, replaced when one dies or is killed).
        observer_factory, torch_threads, progress: passed to :func:`run_task` in the workers.
        frame_timeout_s: a task fails (its process killed) when no frame finishes for this many
            seconds (plus :data:`STARTUP_ALLOWANCE_S` before the worker confirms the task);
            ``None``: no watchdog.
        single_thread: one OpenCV/BLAS thread per worker (N workers on N cores).
    """

    def __init__(self, tasks: list[Task], n_workers: int, observer_factory: ObserverFactory | None,
                 torch_threads: int | None, frame_timeout_s: float | None, single_thread: bool,
                 progress: bool) -> None:
        self.tasks = tasks
        self.n_workers = n_workers
        self.observer_factory = observer_factory
        self.torch_threads = torch_threads
        self.frame_timeout_s = frame_timeout_s
        self.single_thread = single_thread
        self.progress = progress
        self.context = multiprocessing.get_context("spawn")  # fork is unsafe with torch/OpenCV threads
        self.workers: list[_Worker] = []
        self.queue: list[int] = []
        self.done: Callable[[int, TaskResult], None] = lambda index, result: None
        self.on_frame: Callable[[int, int], None] | None = None

    def run(self, pending: list[int], done: Callable[[int, TaskResult], None],
            on_frame: Callable[[int, int], None] | None = None) -> None:
        """Run the tasks at indices ``pending``, calling ``done(index, result)`` as each ends
        (also for a task failed by the watchdog or a dead worker) and ``on_frame(index, frame)`` as
        its frames finish; every worker is gone on return."""
        from multiprocessing.connection import wait

        self.queue, self.done, self.on_frame = list(pending), done, on_frame
        try:
            while self.queue or self._busy():
                self._fill()
                busy = self._busy()
                if not busy:
                    continue
                timeout = max(0.0, min(w.deadline for w in busy) - time.monotonic())
                wait([w.conn for w in busy] + [w.process.sentinel for w in busy],
                     None if math.isinf(timeout) else timeout)
                for worker in busy:
                    self._collect(worker)
        finally:
            self._shut_down()

    def _busy(self) -> list[_Worker]:
        return [w for w in self.workers if w.task is not None]

    def _fill(self) -> None:
        """Give queued tasks to idle workers, starting new ones up to ``n_workers``."""
        for worker in [w for w in self.workers if w.task is None]:
            while self.queue and worker.task is None:
                self._assign(worker, self.queue.pop(0))
        while self.queue and len(self.workers) < self.n_workers:
            worker = self._start_worker()
            while self.queue and worker.task is None:
                self._assign(worker, self.queue.pop(0))

    def _start_worker(self) -> _Worker:
        parent_end, child_end = self.context.Pipe()
        process = self.context.Process(target=_worker_main, name="siamot-worker", daemon=True,
                                       args=(child_end, self.single_thread, self.observer_factory,
                                             self.torch_threads, self.progress))
        process.start()
        child_end.close()
        worker = _Worker(process, parent_end)
        self.workers.append(worker)
        return worker

    def _assign(self, worker: _Worker, index: int) -> None:
        task = self.tasks[index]
        try:
            worker.conn.send(task)
        except Exception as exc:  # a task that does not pickle fails alone
            self.done(index, TaskResult(task.tracker.display_name, task.sequence.name, "failed",
                                        error=f"worker error: cannot send the task to a worker process: "
                                              f"{type(exc).__name__}: {exc}"))
            return
        worker.task, worker.frame = index, -1
        # Until the worker confirms the task, allow for starting Python and importing (slow on a busy machine).
        allowance = self.frame_timeout_s + STARTUP_ALLOWANCE_S if self.frame_timeout_s else math.inf
        worker.deadline = time.monotonic() + allowance

    def _collect(self, worker: _Worker) -> None:
        """Read what ``worker`` sent (frames, a result); fail its task when it died or stalled."""
        try:
            while worker.task is not None and worker.conn.poll():
                kind, value = worker.conn.recv()
                if kind in ("start", "frame"):
                    worker.frame = value
                    worker.deadline = time.monotonic() + (self.frame_timeout_s or math.inf)
                    if kind == "frame" and self.on_frame is not None:
                        self.on_frame(worker.task, value)
                else:
                    index, worker.task = worker.task, None
                    self.done(index, value)
        except (EOFError, OSError):
            pass  # the process died: reported below
        if worker.task is None:
            return
        if not worker.process.is_alive():
            worker.process.join()
            self._retire(worker, f"worker error: the worker process running {self._where(worker)} died "
                                 f"{_exit_description(worker.process.exitcode)}; the other tasks go on "
                                 f"in a fresh process")
        elif time.monotonic() > worker.deadline:
            self._retire(worker, f"watchdog: no frame finished for {self.frame_timeout_s:g} s "
                                 f"({self._where(worker)}): the task's process was killed (a hung tracker "
                                 f"call; see --frame-timeout)")

    def _retire(self, worker: _Worker, error: str) -> None:
        """Kill ``worker`` and fail its task with ``error``."""
        index, worker.task = worker.task, None
        if worker.process.is_alive():
            worker.process.kill()
        worker.process.join()
        worker.conn.close()
        self.workers.remove(worker)
        if index is not None:
            task = self.tasks[index]
            self.done(index, TaskResult(task.tracker.display_name, task.sequence.name, "failed", error=error))

    def _where(self, worker: _Worker) -> str:
        task = self.tasks[worker.task] if worker.task is not None else None
        name = f"{task.tracker.display_name} on {task.sequence.name}" if task else "?"
        step = "while building the tracker or on frame 0" if worker.frame < 0 else \
            f"after frame {worker.frame} of {len(task.sequence) if task else '?'}"
        return f"{name} {step}"

    def _shut_down(self) -> None:
        """End idle workers politely and kill busy ones (Ctrl-C, an error in ``done``)."""
        for worker in list(self.workers):
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
        self.workers.clear()
