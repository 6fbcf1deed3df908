"""Running tasks on a Dask distributed scheduler.

An address is checked first (:func:`check_scheduler_address`) with Dask's own connection and
handshake, bounded in time: nothing listening, a port that never answers and a service that is not
a Dask scheduler each fail within seconds with one line naming the address. ``Client(timeout=...)``
alone does not do that: in ``distributed`` it bounds the TCP connection but not the handshake read,
so a silent port would hang it.

:func:`run_on_dask` submits :func:`~evaluation.running.sequence.run_task_in_worker`: each worker
process keeps a reusable tracker's object (network built once per worker, not per pair). A worker
lost mid-run is said once, with the pairs it was running, which Dask's scheduler runs again on
another worker; with no worker at all the run says so at once and fails the pairs left after
``no_worker_timeout_s``.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import time
from typing import Any, Callable

from evaluation.running.sequence import ObserverFactory, Task, TaskResult, run_task_in_worker

log = logging.getLogger(__name__)

_INSTALL_HINT = "--scheduler needs Dask distributed: pip install 'dask[distributed]'"


def _first_line(exc: BaseException) -> str:
    text = str(exc)
    return text.splitlines()[0] if text else repr(exc)


def _could_not_connect(address: str, exc: BaseException) -> ConnectionError:
    return ConnectionError(f"--scheduler {address}: Dask could not connect ({type(exc).__name__}: "
                           f"{_first_line(exc)})")


def _check_tcp_port(address: str) -> None:
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


def check_scheduler_address(address: str, timeout_s: float = 5.0) -> None:
    """Check that a Dask scheduler answers at ``address`` before handing it to ``dask.distributed``.

    Connects with ``distributed.comm.connect`` (Dask's connection and handshake, any scheme Dask
    knows), within ``timeout_s`` for the connection and as long again for the handshake.

    Raises:
        ImportError: Dask distributed is not installed (the message says how to install it).
        ValueError: a ``tcp://`` address without ``HOST:PORT`` or with a port out of range.
        ConnectionError: one line naming the address: nothing listens (Dask's connection attempts
            time out), no handshake within ``timeout_s`` (e.g. a server that waits for a request),
            an answer that is not Dask's handshake, or an address Dask cannot use (an unknown
            scheme, ``tls://`` without TLS settings).
    """
    _check_tcp_port(address)
    try:
        from distributed.comm import connect
        from distributed.comm.addressing import parse_address
        from distributed.comm.registry import get_backend
    except ImportError as exc:
        raise ImportError(_INSTALL_HINT) from exc
    try:
        get_backend(parse_address(address)[0])
    except ValueError as exc:
        raise _could_not_connect(address, exc) from exc

    async def handshake() -> None:
        comm = await asyncio.wait_for(connect(address, timeout=timeout_s), 2 * timeout_s)
        await comm.close()

    # A thread of its own: the caller may be running an event loop (a notebook).
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        try:
            pool.submit(asyncio.run, handshake()).result()
        except TimeoutError as exc:  # the connection stood, the handshake never came
            raise ConnectionError(f"--scheduler {address}: no Dask scheduler answer within {timeout_s:g} s "
                                  f"(something else listens there?)") from exc
        except TypeError as exc:  # e.g. tls:// without Dask's TLS settings
            raise _could_not_connect(address, exc) from exc
        except OSError as exc:
            if not str(exc).startswith("Timed out trying to connect"):
                raise ConnectionError(f"--scheduler {address}: the service there is not a Dask scheduler "
                                      f"(the connection ended in the handshake: {_first_line(exc)})") from exc
            reason = _first_line(exc.__cause__) if exc.__cause__ else _first_line(exc)
            raise ConnectionError(f"--scheduler {address}: cannot connect ({reason.split('>: ', 1)[-1]}); "
                                  f"is the scheduler running?") from exc
        except Exception as exc:  # Dask could not read the answer as its handshake
            raise ConnectionError(f"--scheduler {address}: the service there is not a Dask scheduler "
                                  f"(its answer is not Dask's handshake: {type(exc).__name__})") from exc


def _result_or_failure(future: Any, task: Task) -> TaskResult:
    """The task's result; an error *around* the task (a worker that died, a task that could not
    be unpickled on a Dask worker lacking a module) becomes that task's failure."""
    try:
        return future.result()
    except Exception as exc:  # recorded and reported like a failing sequence
        return TaskResult(task.tracker.display_name, task.sequence.name, "failed",
                          error=f"worker error: {type(exc).__name__}: {exc}")


#: How long a Dask run waits with no worker connected to the scheduler (the only worker was killed,
#: or none was ever started) before it fails the pairs not done: the scheduler would wait forever.
NO_WORKER_TIMEOUT_S = 60.0


class NoWorkerClock:
    """When a run has waited ``timeout_s`` seconds in a row with no worker: :meth:`expired` is told the
    worker count at each look (any worker restarts the wait)."""

    def __init__(self, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self.since: float | None = None

    def expired(self, n_workers: int, now: float) -> bool:
        """Whether the scheduler has had no worker from the first look with none up to ``now``
        (``now``: a monotonic clock, in seconds) for at least ``timeout_s``."""
        if n_workers > 0:
            self.since = None
            return False
        if self.since is None:
            self.since = now
        return now - self.since >= self.timeout_s


class WorkerWatch:
    """What a Dask run says about its workers, from the scheduler's ``processing`` view (worker
    address -> keys of the tasks it runs) at each look: a worker gone since the last look is named
    once with the pairs of this run it was running then (``labels``: task key -> ``"tracker on
    sequence"``), and the start of a wait with no worker is said once (again after a worker came and
    went)."""

    def __init__(self, address: str, timeout_s: float, labels: dict[Any, str]) -> None:
        self.address, self.timeout_s, self.labels = address, timeout_s, labels
        self.last: dict[str, list[Any]] = {}
        self.said_no_worker = False

    def look(self, processing: dict[str, Any], final: bool = False) -> list[str]:
        """The lines to log for this look (empty when nothing changed worth saying); ``final``: the
        look after the last pair came back (a lost worker is still said; no wait is announced)."""
        lines = []
        for worker in sorted(set(self.last) - set(processing)):
            running = [self.labels[k] for k in self.last[worker] if k in self.labels]
            what = (f"while running {', '.join(running)}; Dask runs {'it' if len(running) == 1 else 'them'} "
                    f"again on another worker" if running else "(it was running none of this run's pairs)")
            lines.append(f"dask: worker {worker} left the scheduler {what}")
        if processing:
            self.said_no_worker = False
        elif not self.said_no_worker and not final:
            self.said_no_worker = True
            lines.append(f"dask: no worker connected to the scheduler {self.address}; waiting up to "
                         f"{self.timeout_s:g} s for one (start workers with: dask worker {self.address})")
        self.last = {worker: list(keys) for worker, keys in processing.items()}
        return lines


def run_on_dask(tasks: list[Task], pending: list[int], scheduler: str | Any,
                observer_factory: ObserverFactory | None, torch_threads: int | None,
                done: Callable[[int, TaskResult], None], no_worker_timeout_s: float = NO_WORKER_TIMEOUT_S) -> None:
    """Run the tasks at indices ``pending`` on the Dask scheduler ``scheduler`` (an address or a
    cluster object), calling ``done(index, result)`` as each comes back.

    Each task runs :func:`~evaluation.running.sequence.run_task_in_worker` (a reusable tracker's
    network is built once per worker process). A worker that leaves mid-run is logged once with the
    pairs it was running; the scheduler runs them again elsewhere (Dask gives up on a pair that has
    killed 3 workers: it then fails with Dask's ``KilledWorker``). When the scheduler has no worker,
    that is logged at once; after ``no_worker_timeout_s`` seconds in a row without one, every pair not
    done yet fails with one line saying so (results already written are kept; running the same
    command again with workers resumes).
    """
    try:
        from dask.distributed import Client, wait
    except ImportError as exc:
        raise ImportError(_INSTALL_HINT) from exc
    try:
        client = Client(scheduler, timeout="10s")
    except (OSError, TypeError, ValueError) as exc:  # e.g. tls:// without Dask's TLS settings: a TypeError
        raise _could_not_connect(str(scheduler), exc) from exc
    clock = NoWorkerClock(no_worker_timeout_s)
    poll_s = min(1.0, no_worker_timeout_s / 4)
    try:
        futures = {client.submit(run_task_in_worker, tasks[i], observer_factory, torch_threads, pure=False): i
                   for i in pending}
        labels = {f.key: f"{tasks[i].tracker.display_name} on {tasks[i].sequence.name}" for f, i in futures.items()}
        watch = WorkerWatch(client.scheduler.address, no_worker_timeout_s, labels)
        waiting = set(futures)
        while waiting:
            try:
                finished, _ = wait(list(waiting), timeout=poll_s, return_when="FIRST_COMPLETED")
            except TimeoutError:
                finished = set()
            for future in finished:
                waiting.discard(future)
                done(futures[future], _result_or_failure(future, tasks[futures[future]]))
            processing = client.processing()
            for line in watch.look(processing, final=not waiting):
                log.warning("%s", line)
            if not waiting:
                break
            if clock.expired(len(processing), time.monotonic()):
                client.cancel(list(waiting))
                for future in waiting:
                    task = tasks[futures[future]]
                    done(futures[future], TaskResult(
                        task.tracker.display_name, task.sequence.name, "failed",
                        error=f"dask: no worker connected to the scheduler {client.scheduler.address} for "
                              f"{no_worker_timeout_s:g} s, so this pair did not finish (start workers and run the "
                              f"same command again to resume)"))
                break
    finally:
        client.close()
