"""``Tracker``: one (tracker name, parameter name, run id) and where its results live.

A ``Tracker`` is cheap and picklable (names, a run id and the settings): runners send it to
worker processes or Dask workers, where :meth:`Tracker.create` builds the real tracker.
It is also a *results source* for the analysis (``display_name``, ``results_for``,
``times_for``), like :class:`evaluation.peer_results.PublishedResults`.

Result files in ``results_dir = <results_path>/<name>/<parameter_name>[@<variant>][_<run_id:03d>]``
(``@<variant>`` for a tracker with parameter overrides or a variant tag, see :class:`Tracker`):
``<seq>.txt`` (one ``x y w h`` row per frame, tab-delimited floats), ``<seq>_time.txt``
(seconds per frame), for trackers that report an online state ``<seq>_state.csv``, and
``<seq>_run.json``, the *run record*: what produced the results (tracker and parameter names,
the parameters' values, the initial box, the frame count).

Resume: results count as complete only when ``<seq>.txt`` has one row per frame and the run
record matches the current inputs; otherwise they are recomputed (:meth:`Tracker.stale_reason`
says why). Results written before run records existed (no ``<seq>_run.json``) are kept when
their row count matches and their first row is the current initial box (to the 2 written
decimals); their parameters cannot be checked (rerun with ``--overwrite`` after changing them).
"""
from __future__ import annotations

import csv
import dataclasses
import io
import json
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np

from evaluation import registry
from evaluation.boxes_io import atomic_write_text, read_boxes_txt, read_text_file, read_values_txt
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
        self.results_dir: Path = (self.settings.path("results_path") / name / folder).absolute()
        self.display_name = display_name or f"{name}_{folder}"
        self._parameters_record: Any = None  # filled on first use by run_record

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

    def run_record_file(self, sequence: Sequence | str) -> Path:
        return self.results_dir / f"{_name(sequence)}_run.json"

    def run_record(self, sequence: Sequence) -> dict[str, Any]:
        """What the results of ``sequence`` depend on (JSON values): names, parameters, initial box, frames."""
        if self._parameters_record is None:
            self._parameters_record = parameters_record(self.get_parameters())
        return {"tracker": self.name, "parameter_name": self.parameter_name,
                "parameters": self._parameters_record,
                "init_bbox_xywh": [float(v) for v in sequence.ground_truth_rect[0]],
                "frames": len(sequence)}

    def write_run_record(self, sequence: Sequence) -> None:
        """Write ``<seq>_run.json`` (after the result files: see :mod:`evaluation.running`)."""
        atomic_write_text(self.run_record_file(sequence), json.dumps(self.run_record(sequence), indent=1) + "\n")

    def stale_reason(self, sequence: Sequence) -> str | None:
        """``None`` when complete results made from the current inputs exist, else why they must be
        (re)computed: missing, wrong row count, or a run record that differs (the first differing
        field is named). See the module doc for results without a run record."""
        path = self.result_file(sequence)
        if not path.is_file():
            return "no results"
        try:
            rows = read_boxes_txt(path)
        except ValueError as exc:
            return f"unreadable results ({exc})"
        if len(rows) != len(sequence):
            return f"{len(rows)} rows for {len(sequence)} frames"
        current = self.run_record(sequence)
        record_path = self.run_record_file(sequence)
        if not record_path.is_file():  # written before run records existed
            if len(rows) and np.allclose(rows[0], current["init_bbox_xywh"], rtol=0, atol=0.0051):
                return None
            return f"first row {rows[0].tolist() if len(rows) else []} is not the initial box " \
                   f"{current['init_bbox_xywh']} (no run record)"
        try:
            recorded = json.loads(read_text_file(record_path))
        except ValueError as exc:
            return f"unreadable run record {record_path.name} ({exc})"
        if not isinstance(recorded, dict):
            return f"unreadable run record {record_path.name}"
        for key, value in _json_normalised(current).items():
            old = recorded.get(key)
            if old == value:
                continue
            if isinstance(old, dict) and isinstance(value, dict):
                sub = next(k for k in sorted(set(old) | set(value)) if old.get(k) != value.get(k))
                key, old, value = f"{key}.{sub}", old.get(sub), value.get(sub)
            return f"{key} changed (recorded {_short(old)}, now {_short(value)})"
        return None

    def has_complete_results(self, sequence: Sequence) -> bool:
        """Whether complete results made from the current inputs exist (:meth:`stale_reason` is None)."""
        return self.stale_reason(sequence) is None

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


def parameters_record(params: Any) -> Any:
    """A JSON view of a parameters object for run records: the fields of a dataclass (or of the frozen
    dataclass behind a pytracking view's ``settings``) without ``debug``/``visualization``, which never
    change results; else its ``repr`` (its type name when that repr is the default, address-bearing one)."""
    values = getattr(params, "settings", params)
    if dataclasses.is_dataclass(values) and not isinstance(values, type):
        fields = {f.name: getattr(values, f.name) for f in dataclasses.fields(values)
                  if f.name not in ("debug", "visualization")}
        return _json_normalised(fields)
    if type(params).__repr__ is object.__repr__:
        return type(params).__qualname__
    return repr(params)


def _json_normalised(value: Any) -> Any:
    """``value`` as it reads back from JSON (tuples become lists, other objects their ``str``)."""
    return json.loads(json.dumps(value, default=str))


def _short(value: Any, limit: int = 120) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= limit else text[:limit] + "..."


def _name(sequence: Sequence | str) -> str:
    return sequence if isinstance(sequence, str) else sequence.name
