"""Setup errors found before any tracking: parameters, model files, results folders, sequences.

:func:`preflight` runs once per :func:`evaluation.running.run_dataset` call so that a missing weights
file or an unwritable results folder stops the run with one line instead of failing every pair;
:func:`sequence_problems` runs the dataset doctor's checks (:mod:`evaluation.datasets.doctor`) on the
sequences to run and names each bad one in one line.
"""
from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path
from typing import Any, Iterable

from evaluation import results
from evaluation.data import Sequence
from evaluation.datasets.doctor import cannot_run, check_sequence
from evaluation.running.sequence import Task, TrackerCache
from evaluation.tracker import Tracker


def preflight(trackers: Iterable[Any], tasks: Iterable[Task] = (), build: bool = True,
              cache: TrackerCache | None = None) -> None:
    """Find setup errors before any tracking instead of once per sequence.

    Builds each live tracker's parameters (unknown names, missing model files). For the trackers
    that have ``tasks`` to run it also checks that the results folder can be created and written
    (a file where a folder should be, no permission) and that no result file path is a folder,
    and, with ``build``, builds the tracker once, which loads its network weights (a missing,
    truncated or NaN weights file stops the run here); a reusable tracker's object is then kept in
    ``cache`` for the run's first pair.

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
                if cache is None:
                    tracker.create()
                else:
                    with cache.borrow(tracker):
                        pass


log = logging.getLogger(__name__)


def sequence_problems(sequences: Iterable[Sequence]) -> dict[str, str]:
    """Check each sequence once (by name) with the dataset doctor (:func:`~evaluation.datasets.doctor.check_sequence`,
    frame files listed, not decoded) and log one warning line per bad sequence (``dataset check: <name>:
    <problems>``, saying whether its pairs run).

    Returns:
        ``{name: problems}`` for the sequences that cannot be tracked through
        (:func:`~evaluation.datasets.doctor.cannot_run`): their pairs should fail without running.
    """
    seen: dict[str, Sequence] = {}
    for sequence in sequences:
        seen.setdefault(sequence.name, sequence)
    blocked = {}
    for name, sequence in seen.items():
        found = check_sequence(sequence, decode="none")
        if not found:
            continue
        text = "; ".join(found)
        if cannot_run(sequence):
            blocked[name] = text
            log.warning("dataset check: %s: %s (its pairs fail without running)", name, text)
        else:
            log.warning("dataset check: %s: %s (tracked anyway)", name, text)
    return blocked


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
