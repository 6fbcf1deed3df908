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

Long runs: progress over all pairs with an ETA in frames (a bar on a terminal, one line per finished
pair otherwise); a reusable tracker (SiamOT) is built once per process, not per pair; on Dask a lost
worker is said once (its pairs rerun elsewhere) and a run with no worker says so and stops waiting
after ``no_worker_timeout_s``; the sequences get the dataset doctor's checks before tracking.

Modules, by role: :mod:`~evaluation.running.sequence` (one pair: track and save; the tracker cache),
:mod:`~evaluation.running.preflight` (setup and sequence checks), :mod:`~evaluation.running.pool`
(worker processes and the watchdog), :mod:`~evaluation.running.cluster` (Dask),
:mod:`~evaluation.running.progress` (progress and ETA), :mod:`~evaluation.running.debug` (the debug
views' observers) and :mod:`~evaluation.running.dataset` (:func:`run_dataset`). This package
re-exports their public names.

Reproducibility: every task tracks with the same torch thread count (``torch_threads``,
default 1) because CPU float reductions change in the last digits with the thread count, and
pool workers run one OpenCV thread each; a deterministic tracker then writes byte-identical
files serially, in a pool and on Dask (checked for SiamOT by ``benchmarks/runner_parity.py``).
OpenCV MIL is not deterministic run to run (see :mod:`evaluation.opencv_trackers`).
"""
from __future__ import annotations

from evaluation.running.cluster import NO_WORKER_TIMEOUT_S, check_scheduler_address
from evaluation.running.dataset import DEFAULT_FRAME_TIMEOUT_S, failures, make_tasks, run_dataset, summary_line
from evaluation.running.debug import debug_observer_factory
from evaluation.running.pool import STARTUP_ALLOWANCE_S, WorkerPool
from evaluation.running.preflight import check_results_dir, preflight, sequence_problems
from evaluation.running.progress import RunProgress
from evaluation.running.sequence import (Observer, ObserverFactory, Status, Task, TaskResult, TrackerCache, reusable,
                                         run_sequence, run_task, torch_thread_count)

__all__ = ["DEFAULT_FRAME_TIMEOUT_S", "NO_WORKER_TIMEOUT_S", "STARTUP_ALLOWANCE_S", "Observer", "ObserverFactory",
           "RunProgress", "Status", "Task", "TaskResult", "TrackerCache", "WorkerPool", "check_results_dir",
           "check_scheduler_address", "debug_observer_factory", "failures", "make_tasks", "preflight", "reusable",
           "run_dataset", "run_sequence", "run_task", "sequence_problems", "summary_line", "torch_thread_count"]
