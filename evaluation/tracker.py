"""``Tracker``: one (tracker name, parameter name, run id) and where its results live.

A ``Tracker`` is cheap and picklable (names, a run id and the settings): runners send it to
worker processes or Dask workers, where :meth:`Tracker.create` builds the real tracker.
It is also a *results source* for the analysis (``display_name``, ``results_for``,
``times_for``), like :class:`evaluation.peer_results.PublishedResults`.

Result files in ``results_dir = <results_path>/<name>/<parameter_name>[@<variant>][_<run_id:03d>]``
(``@<variant>`` for a tracker with parameter overrides or a variant tag, see :class:`Tracker`):
``<seq>.txt`` (one ``x y w h`` row per frame, tab-delimited floats), ``<seq>_time.txt``
(seconds per frame) and, for trackers that report an online state, ``<seq>_state.csv``.
"""
from __future__ import annotations

import csv
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np

from evaluation import registry
from evaluation.boxes_io import read_boxes_txt, read_values_txt
from evaluation.data import Sequence
from evaluation.settings import Settings, load_settings


class Tracker:
    """A runnable tracker configuration and its results folder.

    Args:
        name: registered tracker name (``siamot``, ``opencv`` or a plugin's name).
        parameter_name: one of the tracker's parameter names (e.g. ``mobilenet_v2``).
        run_id: optional run number; results go to ``<parameter_name>_<run_id:03d>``.
        display_name: name in tables and legends (default ``<name>_<parameter_name>[_<run_id:03d>]``).
        settings: paths in force (default: :func:`evaluation.settings.load_settings` now).
        check: verify the names against the registry now (unknown names raise
            :class:`evaluation.registry.RegistryError` listing the known ones), and the
            overrides (an unknown field raises ``ValueError`` naming it). Pass ``False``
            to read results of a tracker that is no longer installed.
        overrides: parameter values that replace those of the parameter file
            (``{"learning_rate": 3e-3}``; for ``siamot`` fields of ``SiamOTParams``, applied with
            ``dataclasses.replace``). Values must be picklable (numbers, strings, booleans).
        variant: short tag of the overrides in the results folder ``<parameter_name>@<variant>``
            (letters, digits, ``.``, ``_``, ``-``). With overrides and no tag, the tag is ``o`` and
            8 hex digits of a hash of the overrides, so different overrides never share a folder;
            without overrides a tag is optional. Keep one tag per set of overrides: the tag alone
            names the folder. The default display name then reads ``<name>_<parameter_name>@<variant>``.
    """

    is_results_only = False

    def __init__(self, name: str, parameter_name: str, run_id: int | None = None,
                 display_name: str | None = None, settings: Settings | None = None,
                 check: bool = True, overrides: Mapping[str, Any] | None = None,
                 variant: str | None = None) -> None:
        if run_id is not None and (not isinstance(run_id, (int, np.integer)) or run_id < 0):
            raise ValueError(f"run_id must be a non-negative int or None, got {run_id!r}")
        if check:
            registry.check_parameter(name, parameter_name)
        self.name = name
        self.parameter_name = parameter_name
        self.run_id = None if run_id is None else int(run_id)
        self.overrides: dict[str, Any] = dict(overrides or {})
        self.variant: str | None = _variant_tag(variant, self.overrides)
        self.settings = settings if settings is not None else load_settings()
        if check and self.overrides:
            self.get_parameters()  # an unknown field or a bad value fails here, not in a worker
        stem = parameter_name if self.variant is None else f"{parameter_name}@{self.variant}"
        folder = stem if self.run_id is None else f"{stem}_{self.run_id:03d}"
        # Absolute now: worker processes may run in another working directory.
        self.results_dir: Path = (Path(self.settings.results_path).expanduser() / name / folder).absolute()
        self.display_name = display_name or f"{name}_{folder}"

    def __repr__(self) -> str:
        run = "" if self.run_id is None else f", run_id={self.run_id}"
        variant = "" if self.variant is None else f", variant={self.variant!r}, overrides={self.overrides!r}"
        return f"Tracker({self.name!r}, {self.parameter_name!r}{run}{variant}, display_name={self.display_name!r})"

    # ----------------------------------------------------------------- building

    def get_parameters(self, debug: int = 0) -> Any:
        """A fresh parameters object (one per sequence) with the overrides applied and
        ``debug``/``visualization`` set."""
        return registry.make_parameters(self.name, self.parameter_name, self.settings, debug=debug,
                                        overrides=self.overrides)

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
        with path.open(newline="") as handle:
            rows = list(csv.DictReader(handle))
        if not rows:
            return {}
        return {key: np.array([float(r[key]) if r[key] != "" else np.nan for r in rows])
                for key in rows[0]}


def trackerlist(name: str, parameter_name: str, run_ids: int | Iterable[int] | None = None,
                display_name: str | None = None, settings: Settings | None = None,
                overrides: Mapping[str, Any] | None = None, variant: str | None = None) -> list[Tracker]:
    """One :class:`Tracker` per run id (pytracking's ``trackerlist``); ``None`` gives one without a run id."""
    if run_ids is None or isinstance(run_ids, (int, np.integer)):
        run_ids = [run_ids]  # type: ignore[list-item]
    settings = settings if settings is not None else load_settings()
    return [Tracker(name, parameter_name, run_id, display_name, settings, overrides=overrides, variant=variant)
            for run_id in run_ids]


def _variant_tag(variant: str | None, overrides: dict[str, Any]) -> str | None:
    """The checked tag, or the overrides' hash tag (see :class:`Tracker`), or ``None``."""
    import hashlib
    import json
    import re

    if variant is not None:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", variant):
            raise ValueError(f"variant tag {variant!r} must be 1-64 letters, digits, '.', '_' or '-' "
                             f"(starting with a letter or digit)")
        return variant
    if not overrides:
        return None
    text = json.dumps(overrides, sort_keys=True, default=repr)
    return "o" + hashlib.sha1(text.encode()).hexdigest()[:8]


def _name(sequence: Sequence | str) -> str:
    return sequence if isinstance(sequence, str) else sequence.name
