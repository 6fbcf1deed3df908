"""Run one experiment through the process pool and through a local Dask cluster; compare wall times and files.

Starts a real ``dask scheduler`` and ``--workers`` single-threaded ``dask worker`` processes on this
machine (they are stopped on exit, on an error and on Ctrl-C), then runs the same command line
twice, each into its own fresh results folder (``SIAMOT_RESULTS_PATH``):

    python -m evaluation.run_experiment MODULE FUNCTION --threads N       (the process pool)
    python -m evaluation.run_experiment MODULE FUNCTION --scheduler ADDR  (the Dask workers)

and prints both wall times (each the whole command: Python start, preflight, tracking; the Dask
workers are started and connected before the clock starts, as a cluster would be), their ratio, and
per tracker whether the result files (boxes, per-frame state, run records without the ``code`` field
that names the checkout; not the timings) are byte-identical. Deterministic trackers must be identical (see :mod:`evaluation.running`); OpenCV
MIL is not seeded and may differ.

    python benchmarks/runner_dask_vs_pool.py                        # the demo experiment, 2 workers
    python benchmarks/runner_dask_vs_pool.py --experiment ablation mobilenet_v2 --workers 2 --keep /tmp/cmp

Exit status 0 when both runs succeeded and every tracker's files are identical except the trackers
named by ``--nondeterministic`` (default ``opencv``), 1 otherwise.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's packages first, not the installed ones
from evaluation.cli_help import PlainHelpFormatter

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _single_thread_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", **extra)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    return env


class LocalDask:
    """A ``dask scheduler`` and ``n_workers`` ``dask worker --nthreads 1`` processes on 127.0.0.1, each in
    its own process group; :meth:`stop` (also on leaving the ``with`` block) ends them."""

    def __init__(self, n_workers: int, log_dir: Path) -> None:
        self.n_workers, self.log_dir = n_workers, log_dir
        self.address = f"tcp://127.0.0.1:{_free_port()}"
        self.processes: list[subprocess.Popen] = []

    def _start(self, args: list[str], log_name: str) -> None:
        log = open(self.log_dir / log_name, "w")
        self.processes.append(subprocess.Popen([sys.executable, "-m", "distributed.cli." + args[0], *args[1:]],
                                               cwd=ROOT, env=_single_thread_env(), stdout=log,
                                               stderr=subprocess.STDOUT, start_new_session=True))

    def __enter__(self) -> "LocalDask":
        port = self.address.rsplit(":", 1)[1]
        self._start(["dask_scheduler", "--host", "127.0.0.1", "--port", port, "--dashboard-address", ":0"],
                    "scheduler.log")
        for i in range(self.n_workers):
            self._start(["dask_worker", self.address, "--nthreads", "1", "--nworkers", "1", "--no-dashboard",
                         "--name", f"w{i}"], f"worker{i}.log")
        self._wait_for_workers(timeout_s=120.0)
        return self

    def _wait_for_workers(self, timeout_s: float) -> None:
        from dask.distributed import Client

        deadline = time.monotonic() + timeout_s
        while True:
            try:
                with Client(self.address, timeout="5s") as client:
                    client.wait_for_workers(self.n_workers, timeout=max(1.0, deadline - time.monotonic()))
                return
            except (OSError, TimeoutError) as exc:
                dead = [p.args for p in self.processes if p.poll() is not None]
                if dead or time.monotonic() > deadline:
                    raise RuntimeError(f"the local Dask cluster at {self.address} did not come up with "
                                       f"{self.n_workers} workers ({exc}; logs in {self.log_dir})") from exc
                time.sleep(0.5)

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.processes.clear()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _run(module: str, function: str, results: Path, extra: list[str], log: Path) -> tuple[float, int]:
    """Wall seconds and exit status of one ``run_experiment`` command into ``results``."""
    command = [sys.executable, "-m", "evaluation.run_experiment", module, function, "--no-progress", *extra]
    tic = time.perf_counter()
    with open(log, "w") as out:
        status = subprocess.run(command, cwd=ROOT, env=_single_thread_env(SIAMOT_RESULTS_PATH=str(results)),
                                stdout=out, stderr=subprocess.STDOUT).returncode
    return time.perf_counter() - tic, status


def _digests(folder: Path) -> dict[str, dict[str, str]]:
    """``tracker folder -> {file: sha256}`` for every result file except the timings; a run record
    (``*_run.json``) without its ``code`` field, which names the checkout (a commit made between the
    two runs changes it, not the results)."""
    found: dict[str, dict[str, str]] = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.name.endswith("_time.txt"):
            tracker = path.parent.relative_to(folder).as_posix()
            data = path.read_bytes()
            if path.name.endswith("_run.json"):
                record = json.loads(data)
                record.pop("code", None)
                data = json.dumps(record, sort_keys=True).encode()
            found.setdefault(tracker, {})[path.name] = hashlib.sha256(data).hexdigest()
    return found


def compare(root: Path, nondeterministic: list[str]) -> int:
    """Print per tracker whether ``root/pool`` and ``root/dask`` hold the same result files; 1 when a
    tracker not in ``nondeterministic`` differs, else 0."""
    pool, dask = _digests(root / "pool"), _digests(root / "dask")
    verdict = 0
    for tracker in sorted(set(pool) | set(dask)):
        same = pool.get(tracker) == dask.get(tracker)
        n_files = len(pool.get(tracker, {}))
        allowed = tracker.split("/", 1)[0] in nondeterministic
        differing = sorted(name for name in set(pool.get(tracker, {})) | set(dask.get(tracker, {}))
                           if pool.get(tracker, {}).get(name) != dask.get(tracker, {}).get(name))
        note = "" if same else f" ({len(differing)} differ, e.g. {differing[0]}" + \
            ("; allowed: not deterministic)" if allowed else ")")
        print(f"{tracker}: {n_files} result files (boxes, state, run records), "
              f"{'byte-identical' if same else 'DIFFERENT'}{note}")
        if not same and not allowed:
            verdict = 1
    return verdict


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python benchmarks/runner_dask_vs_pool.py", description=__doc__,
                                     formatter_class=PlainHelpFormatter)
    parser.add_argument("--experiment", nargs=2, metavar=("MODULE", "FUNCTION"), default=["demo", "demo"],
                        help="the experiment to run (as python -m evaluation.run_experiment MODULE FUNCTION; "
                             "default: demo demo, the synthetic sequences, no download)")
    parser.add_argument("--workers", type=int, default=2, metavar="N",
                        help="pool processes (--threads N) and single-threaded Dask workers (default: 2)")
    parser.add_argument("--order", choices=("pool-first", "dask-first"), default="pool-first",
                        help="which run goes first (page cache and load differ between the two; default: pool-first)")
    parser.add_argument("--nondeterministic", nargs="*", default=["opencv"], metavar="NAME",
                        help="tracker names whose files may differ between runs (default: opencv, MIL is unseeded)")
    parser.add_argument("--compare-only", metavar="DIR", default=None,
                        help="run nothing: compare DIR/pool and DIR/dask of an earlier --keep DIR")
    parser.add_argument("--keep", metavar="DIR", default=None,
                        help="write the two results folders and the logs under DIR (must not exist) instead of "
                             "a temporary folder removed at the end")
    args = parser.parse_args(argv)
    if args.compare_only:
        return compare(Path(args.compare_only), args.nondeterministic)
    if args.workers < 1:
        parser.error("--workers must be >= 1")
    if args.keep and Path(args.keep).exists():
        parser.error(f"--keep {args.keep}: exists; give a new folder so the runs start from empty results")
    root = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="siamot_dask_vs_pool_"))
    root.mkdir(parents=True, exist_ok=True)
    module, function = args.experiment
    walls: dict[str, float] = {}

    def terminated(signum: int, frame: object) -> None:
        raise KeyboardInterrupt  # a kill (SIGTERM) stops the Dask processes like Ctrl-C

    signal.signal(signal.SIGTERM, terminated)
    try:
        with LocalDask(args.workers, root) as cluster:
            print(f"local Dask cluster: scheduler {cluster.address}, {args.workers} single-threaded workers "
                  f"(logs in {root})", flush=True)
            modes = ["pool", "dask"] if args.order == "pool-first" else ["dask", "pool"]
            for mode in modes:
                extra = ["--threads", str(args.workers)] if mode == "pool" else ["--scheduler", cluster.address]
                if mode == "pool" and args.workers == 1:
                    extra = []
                walls[mode], status = _run(module, function, root / mode, extra, root / f"{mode}.log")
                print(f"{mode:5s} {walls[mode]:8.1f} s  exit status {status}  (log: {root / f'{mode}.log'})",
                      flush=True)
                if status != 0:
                    print(f"error: the {mode} run failed (exit status {status}); see {root / f'{mode}.log'}",
                          file=sys.stderr)
                    return 1
        print(f"dask / pool wall time: {walls['dask'] / walls['pool']:.2f}x "
              f"({module} {function}, {args.workers} workers)")
        return compare(root, args.nondeterministic)
    except KeyboardInterrupt:
        print("interrupted: the Dask processes were stopped", file=sys.stderr)
        return 130
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
