"""``Tracker``: one (tracker name, parameter name, run id) and where its results live.

A ``Tracker`` is cheap and picklable (names, a run id and the settings): runners send it to
worker processes or Dask workers, where :meth:`Tracker.create` builds the real tracker.
It is also a *results source* for the analysis (``display_name``, ``results_for``,
``times_for``), like :class:`evaluation.peer_results.PublishedResults`.

Result files in ``results_dir = <results_path>/<name>/<parameter_name>[_<run_id:03d>]``:
``<seq>.txt`` (one ``x y w h`` row per frame, tab-delimited floats), ``<seq>_time.txt``
(seconds per frame) and, for trackers that report an online state, ``<seq>_state.csv``.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from evaluation import registry
from evaluation.boxes_io import read_boxes_txt, read_text_file, read_values_txt
from evaluation.data import Sequence
from evaluation.settings import Settings, load_settings


class Tracker:
    """A runnable tracker configuration and its results folder.

    Args:
        name: registered tracker name (``siamot``, ``opencv`` or a plugin's name).
        parameter_name: one of the tracker's parameter names (e.g. ``mobilenet_v2``).
        run_id: optional run number; results go to ``<parameter_name>_<run_id:03d>``.
        display_name: name in tables and legends (default ``<name>_<parameter_name>[_<run_id:03d>]``).
        settings: paths in force (default: :func:`evaluation.settings.load_settings` now). An
            empty ``results_path`` means "not set" and raises ``SettingsError`` (it never means
            the working directory).
        check: verify the names against the registry now (unknown names raise
            :class:`evaluation.registry.RegistryError` listing the known ones). Pass ``False``
            to read results of a tracker that is no longer installed.
    """

    is_results_only = False

    def __init__(self, name: str, parameter_name: str, run_id: int | None = None,
                 display_name: str | None = None, settings: Settings | None = None,
                 check: bool = True) -> None:
        if run_id is not None and (not isinstance(run_id, (int, np.integer)) or run_id < 0):
            raise ValueError(f"run_id must be a non-negative int or None, got {run_id!r}")
        if check:
            registry.check_parameter(name, parameter_name)
        self.name = name
        self.parameter_name = parameter_name
        self.run_id = None if run_id is None else int(run_id)
        self.settings = settings if settings is not None else load_settings()
        folder = parameter_name if self.run_id is None else f"{parameter_name}_{self.run_id:03d}"
        # Absolute now: worker processes may run in another working directory.
        self.results_dir: Path = (self.settings.path("results_path") / name / folder).absolute()
        self.display_name = display_name or f"{name}_{folder}"

    def __repr__(self) -> str:
        run = "" if self.run_id is None else f", run_id={self.run_id}"
        return f"Tracker({self.name!r}, {self.parameter_name!r}{run}, display_name={self.display_name!r})"

    # ----------------------------------------------------------------- building

    def get_parameters(self, debug: int = 0) -> Any:
        """A fresh parameters object (one per sequence) with ``debug``/``visualization`` set."""
        return registry.make_parameters(self.name, self.parameter_name, self.settings, debug=debug)

    def create(self, debug: int = 0) -> Any:
        """A new tracker object for one sequence: ``tracker_class(parameters)``."""
        return registry.tracker_class(self.name)(self.get_parameters(debug))

    def run_sequence(self, sequence: Sequence, debug: int = 0, observers: Iterable[Any] = (),
                     overwrite: bool = False) -> Any:
        """Track ``sequence`` and save the result files (:func:`evaluation.running.run_sequence`)."""
        from evaluation.running import run_sequence
        return run_sequence(self, sequence, debug=debug, observers=observers, overwrite=overwrite)

    # ----------------------------------------------------------------- result files

    def result_file(self, sequence: Sequence | str) -> Path:
        return self.results_dir / f"{_name(sequence)}.txt"

    def time_file(self, sequence: Sequence | str) -> Path:
        return self.results_dir / f"{_name(sequence)}_time.txt"

    def state_file(self, sequence: Sequence | str) -> Path:
        return self.results_dir / f"{_name(sequence)}_state.csv"

    def has_complete_results(self, sequence: Sequence) -> bool:
        """Whether ``<seq>.txt`` exists with one row per frame (it is written last, atomically)."""
        path = self.result_file(sequence)
        if not path.is_file():
            return False
        try:
            return len(read_boxes_txt(path)) == len(sequence)
        except ValueError:
            return False

    def results_for(self, sequence: Sequence) -> np.ndarray:
        """(N, 4) float64 ``[x, y, w, h]`` boxes; ``FileNotFoundError`` names a missing file."""
        return read_boxes_txt(self.result_file(sequence))

    def times_for(self, sequence: Sequence) -> np.ndarray | None:
        """(N,) seconds per frame, or ``None`` when no time file was written."""
        path = self.time_file(sequence)
        return read_values_txt(path) if path.is_file() else None

    def state_for(self, sequence: Sequence) -> dict[str, np.ndarray] | None:
        """The per-frame online state (``frame``, ``peak``, ``psr``, ...) as float arrays, or ``None``.

        Empty cells (a frame without that value) read as NaN; booleans as 0/1.
        """
        path = self.state_file(sequence)
        if not path.is_file():
            return None
        rows = list(csv.DictReader(io.StringIO(read_text_file(path), newline="")))
        if not rows:
            return {}
        return {key: np.array([float(r[key]) if r[key] != "" else np.nan for r in rows])
                for key in rows[0]}


def trackerlist(name: str, parameter_name: str, run_ids: int | Iterable[int] | None = None,
                display_name: str | None = None, settings: Settings | None = None) -> list[Tracker]:
    """One :class:`Tracker` per run id (pytracking's ``trackerlist``); ``None`` gives one without a run id."""
    if run_ids is None or isinstance(run_ids, (int, np.integer)):
        run_ids = [run_ids]  # type: ignore[list-item]
    settings = settings if settings is not None else load_settings()
    return [Tracker(name, parameter_name, run_id, display_name, settings) for run_id in run_ids]


def _name(sequence: Sequence | str) -> str:
    return sequence if isinstance(sequence, str) else sequence.name
