"""``Tracker``: one (tracker name, parameter name, run id) and where its results live.

A ``Tracker`` is cheap and picklable (names, a run id and the settings): runners send it to
worker processes or Dask workers, where :meth:`Tracker.create` builds the real tracker.
It is also a *results source* (:class:`evaluation.sources.ResultsSource`: its saved boxes, times,
per-frame state and pairing), like :class:`evaluation.peer_results.PublishedResults`.

Result files in ``results_dir = <results_path>/<name>/<parameter_name>[@<variant>][_<run_id:03d>]``
(``@<variant>`` for a tracker with parameter overrides or a variant tag, see :class:`Tracker`); their
format, order of writing and completeness (resume) are :mod:`evaluation.results`'.
"""
from __future__ import annotations

import hashlib
import json
import re
import warnings
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np

from evaluation import registry, results
from evaluation.boxes_io import read_boxes_txt, read_values_txt
from evaluation.data import Sequence
from evaluation.settings import Settings, load_settings
from evaluation.sources import Pairing, SourceBase, tracker_pairing


class Tracker(SourceBase):
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
            :class:`evaluation.registry.RegistryError` listing the known ones), and the
            overrides (an unknown field raises ``ValueError`` naming it). Pass ``False``
            to read results of a tracker that is no longer installed.
        overrides: parameter values that replace those of the parameter file
            (``{"adapter_learning_rate": 0.1}``; for ``siamot`` fields of ``SiamOTParams``, applied with
            ``dataclasses.replace``). Values must be picklable (numbers, strings, booleans).
        variant: short tag of the overrides in the results folder ``<parameter_name>@<variant>``
            (letters, digits, ``.``, ``_``, ``-``). With overrides and no tag, the tag is ``o`` and
            8 hex digits of a hash of the overrides, so different overrides never share a folder;
            without overrides a tag is optional. Keep one tag per set of overrides: the tag alone
            names the folder. The default display name then reads ``<name>_<parameter_name>@<variant>``.
    """

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
        self.results_dir: Path = (self.settings.path("results_path") / name / folder).absolute()
        self.display_name = display_name or f"{name}_{folder}"
        self._parameters_record: Any = None  # filled on first use by run_record
        self._parameter_defaults: dict[str, Any] | None = None  # filled on first use by stale_reason

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

    # ----------------------------------------------------------------- result files

    def result_file(self, sequence: Sequence | str) -> Path:
        return results.result_file(self.results_dir, sequence)

    def time_file(self, sequence: Sequence | str) -> Path:
        return results.time_file(self.results_dir, sequence)

    def state_file(self, sequence: Sequence | str) -> Path:
        return results.state_file(self.results_dir, sequence)

    def run_record_file(self, sequence: Sequence | str) -> Path:
        return results.run_record_file(self.results_dir, sequence)

    def run_record(self, sequence: Sequence) -> dict[str, Any]:
        """What the results of ``sequence`` depend on (:func:`evaluation.results.run_record`)."""
        if self._parameters_record is None:
            self._parameters_record = results.parameters_record(self.get_parameters())
        return results.run_record(self.name, self.parameter_name, self._parameters_record, sequence)

    def stale_reason(self, sequence: Sequence) -> str | None:
        """``None`` when complete results made from the current inputs exist, else why they must be
        (re)computed (:func:`evaluation.results.stale_reason`)."""
        record = self.run_record(sequence)
        if self._parameter_defaults is None:
            self._parameter_defaults = results.parameter_defaults(self.get_parameters())
        return results.stale_reason(self.results_dir, sequence, record, self._parameter_defaults)

    def has_complete_results(self, sequence: Sequence) -> bool:
        """Whether complete results made from the current inputs exist (:meth:`stale_reason` is None)."""
        return self.stale_reason(sequence) is None

    # ----------------------------------------------------------------- results source

    def results_for(self, sequence: Sequence) -> np.ndarray:
        """(N, 4) float64 ``[x, y, w, h]`` boxes; ``FileNotFoundError`` names a missing file."""
        return read_boxes_txt(self.result_file(sequence))

    def result_files_for(self, sequence: Sequence) -> list[Path]:
        """The files the analysis reads (:func:`evaluation.results.analysed_files`)."""
        return list(results.analysed_files(self.results_dir, sequence))

    def run_group(self) -> str | None:
        """``<name>_<parameter_name>[@<variant>]`` for a tracker with a run id (its runs are averaged
        into one report entry), else ``None``."""
        if self.run_id is None:
            return None
        return f"{self.name}_{self.parameter_name}" + (f"@{self.variant}" if self.variant else "")

    def pairing(self) -> Pairing:
        """From the parameter name (:func:`evaluation.sources.tracker_pairing`)."""
        return tracker_pairing(self.name, self.parameter_name, self.variant, self.overrides)

    def times_for(self, sequence: Sequence) -> np.ndarray | None:
        """(N,) seconds per frame, or ``None`` when no time file was written, or when its row count is not
        the sequence's frame count (a truncated or foreign file: a warning names it; an FPS from part of
        the frames would be wrong, and the runner recomputes such results on resume)."""
        path = self.time_file(sequence)
        if not path.is_file():
            return None
        times = read_values_txt(path)
        if len(times) != len(sequence):
            warnings.warn(f"{self.display_name}: {path}: {len(times)} time rows for {len(sequence)} frames: no FPS "
                          f"from it (run the pair again to re-measure)", stacklevel=2)
            return None
        return times

    def state_for(self, sequence: Sequence) -> dict[str, np.ndarray] | None:
        """The per-frame online state (``frame``, ``peak``, ``psr``, ...) as float arrays, or ``None``
        (:func:`evaluation.results.read_state`)."""
        return results.read_state(self.state_file(sequence))


def trackerlist(name: str, parameter_name: str, run_ids: int | Iterable[int] | None = None,
                display_name: str | None = None, settings: Settings | None = None,
                overrides: Mapping[str, Any] | None = None, variant: str | None = None) -> list[Tracker]:
    """One :class:`Tracker` per run id (pytracking's ``trackerlist``); ``None`` gives one without a run id."""
    if run_ids is None or isinstance(run_ids, (int, np.integer)):
        run_ids = [run_ids]  # type: ignore[list-item]
    settings = settings if settings is not None else load_settings()
    return [Tracker(name, parameter_name, run_id, display_name, settings, overrides=overrides, variant=variant)
            for run_id in run_ids]


def parse_tracker_spec(spec: str) -> tuple[str, str, list[int | None], str | None]:
    """``NAME:PARAM[:RUNS][=LABEL]`` -> ``(name, param, run_ids, label)``; run ids ``[None]`` without RUNS."""
    text, _, label = spec.partition("=")
    parts = text.split(":")
    if len(parts) not in (2, 3) or not all(parts[:2]):
        raise ValueError(f"tracker spec '{spec}' must be NAME:PARAM[:RUNS][=LABEL] (e.g. siamot:mobilenet_v2)")
    run_ids: list[int | None] = [None]
    if len(parts) == 3:
        try:
            if "-" in parts[2]:
                first, last = (int(v) for v in parts[2].split("-", 1))
                run_ids = list(range(first, last + 1))
            else:
                run_ids = [int(v) for v in parts[2].split(",")]
        except ValueError as exc:
            raise ValueError(f"tracker spec '{spec}': RUNS must be an int, '0,1,2' or '0-4'") from exc
        if not run_ids:
            raise ValueError(f"tracker spec '{spec}': empty run range")
    return parts[0], parts[1], run_ids, label or None


def trackers_from_spec(spec: str, settings: Settings | None = None) -> list[Tracker]:
    """The trackers of a command-line spec ``NAME:PARAM[:RUNS][=LABEL]`` (:func:`parse_tracker_spec`),
    one per run id, displayed as ``LABEL`` when given; unknown names raise ``RegistryError``."""
    name, parameter_name, run_ids, label = parse_tracker_spec(spec)
    settings = settings if settings is not None else load_settings()
    return [Tracker(name, parameter_name, run_id, label, settings) for run_id in run_ids]


def _variant_tag(variant: str | None, overrides: dict[str, Any]) -> str | None:
    """The checked tag, or the overrides' hash tag (see :class:`Tracker`), or ``None``."""
    if variant is not None:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", variant):
            raise ValueError(f"variant tag {variant!r} must be 1-64 letters, digits, '.', '_' or '-' "
                             f"(starting with a letter or digit)")
        return variant
    if not overrides:
        return None
    text = json.dumps(overrides, sort_keys=True, default=repr)
    return "o" + hashlib.sha1(text.encode()).hexdigest()[:8]
