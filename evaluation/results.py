"""The results format: where a run's files live, how they are written and read, when they are complete.

Files per (tracker, sequence) in a results folder (``evaluation.tracker.Tracker.results_dir``), all
written atomically by :func:`write_results` in this order, so that a run cut short never looks
complete:

- ``<seq>_state.csv``: per-frame online state (``frame``, 0-based, and those of :data:`STATE_KEYS`
  that the tracker reports; booleans as 0/1, floats with 6 significant digits, a missing value as
  an empty cell), only for trackers that report any;
- ``<seq>_time.txt``: seconds per frame (6 decimals);
- ``<seq>.txt``: ``x y w h`` per frame, tab-delimited floats with 2 decimals, 0-based; frame 0 is
  the initial box;
- ``<seq>_run.json``: the *run record*, what produced the results (tracker and parameter names,
  the parameters' values, the initial box, the frame count, a fingerprint of the frames'
  content (:func:`frames_fingerprint`), and the toolkit's code version, :func:`code_version`;
  :func:`run_record`) and the SHA-256 of ``<seq>.txt`` as written (``results_sha256``), last: a
  crash before it leaves the previous record, which no longer matches.

Completeness (:func:`stale_reason`): results count as complete only when ``<seq>.txt`` and
``<seq>_time.txt`` have one row per frame, the run record equals the current one and ``<seq>.txt``
still has the content it was written with (boxes edited by hand are recomputed). A record written
before a field existed (:data:`LATER_KEYS`, ``results_sha256``) is not compared on that field, and a
parameter the record lacks is not compared while it has its default (:func:`parameter_defaults`: a
parameter added later, at its default, reproduces what was recorded, as new options are off by
default; set to anything else, or a parameter removed or renamed, the results are recomputed). Results
written before run records existed (no ``<seq>_run.json``) are kept when their row count matches and
their first row is the current initial box (to the 2 written decimals); their parameters cannot be
checked. The code version is
recorded for provenance but not compared (every commit would invalidate every result): results reused
from other code are reported by the runner (``evaluation.running.run_dataset``), and ``--overwrite``
re-measures them.
"""
from __future__ import annotations

import csv
import dataclasses
import functools
import hashlib
import io
import json
import os
import subprocess
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np

from evaluation.boxes_io import atomic_write_text, read_boxes_txt, read_text_file, write_boxes_txt, write_values_txt
from evaluation.data import Sequence
from evaluation.machine import cpu_name, cpu_threads

#: Per-frame tracker outputs saved in ``<seq>_state.csv`` (in this column order) when reported.
STATE_KEYS: tuple[str, ...] = ("peak", "psr", "jcpp", "apce", "loss", "trained", "template_updated", "score")


def result_file(results_dir: Path, sequence: Sequence | str) -> Path:
    return results_dir / f"{_name(sequence)}.txt"


def time_file(results_dir: Path, sequence: Sequence | str) -> Path:
    return results_dir / f"{_name(sequence)}_time.txt"


def state_file(results_dir: Path, sequence: Sequence | str) -> Path:
    return results_dir / f"{_name(sequence)}_state.csv"


def run_record_file(results_dir: Path, sequence: Sequence | str) -> Path:
    return results_dir / f"{_name(sequence)}_run.json"


def analysed_files(results_dir: Path, sequence: Sequence | str) -> tuple[Path, Path]:
    """The files the analysis reads (boxes and times; their sizes and times key its cache)."""
    return result_file(results_dir, sequence), time_file(results_dir, sequence)


def all_files(results_dir: Path, sequence: Sequence | str) -> tuple[Path, ...]:
    """Every file a run of ``sequence`` may write, in the order :func:`write_results` writes them."""
    return (state_file(results_dir, sequence), time_file(results_dir, sequence),
            result_file(results_dir, sequence), run_record_file(results_dir, sequence))


# --------------------------------------------------------------------------- writing


def state_row(index: int, output: Mapping[str, Any]) -> dict[str, Any]:
    """The state of frame ``index`` from a tracker's output: ``frame`` and the :data:`STATE_KEYS` it has
    (booleans as 0/1 ints, numbers as floats; ``None`` values left out)."""
    row: dict[str, Any] = {"frame": index}
    for key in STATE_KEYS:
        if key in output and output[key] is not None:
            value = output[key]
            row[key] = int(bool(value)) if isinstance(value, (bool, np.bool_)) else float(value)
    return row


def format_state_csv(rows: list[dict[str, Any]]) -> str | None:
    """The state CSV text of :func:`state_row` rows, or ``None`` when no frame reported any state key."""
    keys = [k for k in STATE_KEYS if any(k in r for r in rows)]
    if not keys:
        return None
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["frame", *keys])
    for row in rows:
        cells = [row["frame"]]
        for key in keys:
            value = row.get(key)
            cells.append("" if value is None else value if isinstance(value, int) else f"{value:.6g}")
        writer.writerow(cells)
    return buffer.getvalue()


def write_results(results_dir: Path, sequence: Sequence, boxes_xywh: np.ndarray, times_s: Iterable[float],
                  state_rows: list[dict[str, Any]], record: dict[str, Any]) -> None:
    """Write the files of one run (see the module doc for the order and formats).

    Args:
        boxes_xywh: (N, 4) float boxes ``[x, y, w, h]``, 0-based, one per frame.
        times_s: N seconds per frame.
        state_rows: N :func:`state_row` dicts (no state file when none has a state key).
        record: the run record (:func:`run_record`).
    """
    state_text = format_state_csv(state_rows)
    if state_text is not None:
        atomic_write_text(state_file(results_dir, sequence), state_text)
    write_values_txt(time_file(results_dir, sequence), times_s)
    boxes_path = result_file(results_dir, sequence)
    write_boxes_txt(boxes_path, boxes_xywh)
    record = {**record, RESULTS_HASH_KEY: file_sha256(boxes_path)}
    atomic_write_text(run_record_file(results_dir, sequence), json.dumps(record, indent=1) + "\n")


#: Run-record fields kept for provenance only: :func:`stale_reason` does not compare them.
INFORMATIONAL_KEYS: tuple[str, ...] = ("code", "machine")

#: Run-record fields added after run records existed: compared only when the record has them, so
#: older records stay valid (as results without any record do).
LATER_KEYS: tuple[str, ...] = ("frames_fingerprint",)

#: The run-record field holding the SHA-256 of ``<seq>.txt`` as written (not an input: checked
#: against the file, not against the current record).
RESULTS_HASH_KEY = "results_sha256"


def file_sha256(path: Path) -> str:
    """``sha256:<hex>`` of the bytes of ``path``."""
    return "sha256:" + hashlib.sha256(Path(path).read_bytes()).hexdigest()


def frames_fingerprint(sequence: Sequence) -> str | None:
    """A short hash of what the frames of ``sequence`` are, cheap enough for every resume check.

    Frame files: their count, every file's size, and the bytes of the first and the last frame, so
    frames replaced by others (even as many) change it while a copy of the dataset elsewhere (other
    paths, other modification times) does not. A video (a ``frame_loader`` with a ``path``): the file's
    size and its first and last MiB. ``None`` for generated frames (a ``frame_loader`` without a
    file). A frame that cannot be read counts as ``missing`` (tracking then fails naming it). Within
    one process the value is reused while the first and last frame files keep their size and
    modification time (the check runs once per tracker and sequence).
    """
    loader = sequence.frame_loader
    if loader is not None:
        video = getattr(loader, "path", None)
        if video is None:
            return None
        digest = hashlib.sha256(b"video")
        _hash_file(digest, Path(video), whole=False)
        return "sha256:" + digest.hexdigest()[:16]
    frames = tuple(str(f) for f in sequence.frames)
    return _frame_files_fingerprint(frames, tuple(_stat_key(f) for f in frames[:1] + frames[-1:]))


def _stat_key(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


@functools.lru_cache(maxsize=1024)
def _frame_files_fingerprint(frames: tuple[str, ...], ends: tuple[tuple[int, int] | None, ...]) -> str:
    """:func:`frames_fingerprint` of frame files (``ends``: the first and last files' stat, the cache key)."""
    digest = hashlib.sha256(f"{len(frames)} frames".encode())
    for frame in frames:
        size = _stat_key(frame)
        digest.update(f";{size[0] if size else 'missing'}".encode())
    for frame in frames[:1] + frames[-1:]:
        _hash_file(digest, Path(frame), whole=True)
    return "sha256:" + digest.hexdigest()[:16]


def _hash_file(digest: Any, path: Path, whole: bool, part: int = 1 << 20) -> None:
    """Add ``path``'s bytes (``whole``) or its size and first and last ``part`` bytes to ``digest``."""
    try:
        with path.open("rb") as handle:
            if whole:
                digest.update(handle.read())
                return
            size = handle.seek(0, 2)
            handle.seek(0)
            digest.update(f"{size};".encode() + handle.read(part))
            handle.seek(max(0, size - part))
            digest.update(handle.read())
    except OSError:
        digest.update(b"missing")


@functools.lru_cache(maxsize=1)
def code_version() -> str:
    """The toolkit's code: ``git:<short commit>`` (``+modified`` with uncommitted changes to tracked
    files) when it runs from a git checkout, else ``unknown``. Asked once per process (5 s limit)."""
    root = Path(__file__).resolve().parents[1]
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "--short=12", "HEAD"], capture_output=True,
                                text=True, timeout=5)
        if commit.returncode != 0 or not commit.stdout.strip():
            return "unknown"
        changes = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                                 capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    modified = "+modified" if changes.returncode == 0 and changes.stdout.strip() else ""
    return f"git:{commit.stdout.strip()}{modified}"


def run_record(tracker_name: str, parameter_name: str, parameters: Any, sequence: Sequence) -> dict[str, Any]:
    """What the results of ``sequence`` depend on (JSON values); ``parameters`` is a :func:`parameters_record`."""
    return {"tracker": tracker_name, "parameter_name": parameter_name, "parameters": parameters,
            "init_bbox_xywh": [float(v) for v in sequence.ground_truth_rect[0]],
            "frames": len(sequence), "frames_fingerprint": frames_fingerprint(sequence), "code": code_version(),
            "machine": machine_record()}


@functools.lru_cache(maxsize=1)
def _cpu_name() -> str:
    return cpu_name()


def machine_record() -> dict[str, Any]:
    """Where a run was made (provenance for its times, never compared on resume): the CPU's model
    name and the CPU threads the process could use."""
    return {"cpu": _cpu_name(), "cpu_threads": cpu_threads()}


def recorded_code(results_dir: Path, sequence: Sequence | str) -> str | None:
    """The code version in the run record of ``sequence`` (``None`` without a readable one)."""
    path = run_record_file(results_dir, sequence)
    try:
        recorded = json.loads(read_text_file(path))
    except (OSError, ValueError):
        return None
    code = recorded.get("code") if isinstance(recorded, dict) else None
    return code if isinstance(code, str) else None


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


# --------------------------------------------------------------------------- reading


def read_state(path: Path) -> dict[str, np.ndarray] | None:
    """The columns of a state CSV as float arrays (empty cells NaN, booleans 0/1); ``None`` without the
    file, ``{}`` for a file without rows.

    Raises:
        ValueError: a cell that is not a number or a row with another number of cells than the header
            (names the file, the 1-based line and the column), or a file that is not UTF-8 text.
    """
    if not path.is_file():
        return None
    rows = [row for row in csv.reader(io.StringIO(read_text_file(path), newline="")) if row]
    if len(rows) < 2:
        return {}
    header = rows[0]
    columns: dict[str, list[float]] = {key: [] for key in header}
    for line_no, cells in enumerate(rows[1:], start=2):
        if len(cells) != len(header):
            raise ValueError(f"{path}:{line_no}: {len(cells)} cells for the {len(header)} columns "
                             f"{','.join(header)}")
        for key, cell in zip(header, cells):
            try:
                columns[key].append(float(cell) if cell != "" else np.nan)
            except ValueError:
                raise ValueError(f"{path}:{line_no}: column '{key}': {cell!r} is not a number") from None
    return {key: np.array(values) for key, values in columns.items()}


def stale_reason(results_dir: Path, sequence: Sequence, current: dict[str, Any],
                 defaults: Mapping[str, Any] | None = None) -> str | None:
    """``None`` when complete results made from the inputs of run record ``current`` exist in
    ``results_dir``, else why they must be (re)computed: missing, a box or time file with another row
    count than frames, a run record that differs (the first differing field is named), or boxes changed
    after they were written. ``defaults``: :func:`parameter_defaults` of the current parameters (a
    parameter the record lacks is then not compared while it has its default). See the module doc
    for results without a run record."""
    path = result_file(results_dir, sequence)
    if not path.is_file():
        return "no results"
    try:
        rows = read_boxes_txt(path)
    except ValueError as exc:
        return f"unreadable results ({exc})"
    if len(rows) != len(sequence):
        return f"{len(rows)} rows for {len(sequence)} frames"
    record_path = run_record_file(results_dir, sequence)
    times_path = time_file(results_dir, sequence)
    if times_path.is_file():
        try:
            n_times = len(read_boxes_txt(times_path, columns=1))
        except ValueError as exc:
            return f"unreadable time file ({exc})"
        if n_times != len(sequence):
            return f"{times_path.name} has {n_times} rows for {len(sequence)} frames"
    elif record_path.is_file():
        return f"no time file {times_path.name}"
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
        if key in INFORMATIONAL_KEYS or (key in LATER_KEYS and key not in recorded):
            continue
        old = recorded.get(key)
        if key == "parameters" and defaults and isinstance(old, dict) and isinstance(value, dict):
            value = {k: v for k, v in value.items() if k in old or v != defaults.get(k, _NO_DEFAULT)}
        if old == value:
            continue
        if isinstance(old, dict) and isinstance(value, dict):
            sub = next(k for k in sorted(set(old) | set(value)) if old.get(k) != value.get(k))
            key, old, value = f"{key}.{sub}", old.get(sub), value.get(sub)
        return f"{key} changed (recorded {_short(old)}, now {_short(value)})"
    written = recorded.get(RESULTS_HASH_KEY)
    if written is not None and written != file_sha256(path):
        return f"{path.name} was changed after it was written (its content hash differs from the run record's)"
    return None


_NO_DEFAULT = object()


def parameter_defaults(params: Any) -> dict[str, Any]:
    """The JSON defaults of the fields of a parameters dataclass (as :func:`parameters_record` views
    it; fields without a default left out); ``{}`` for other parameters objects."""
    values = getattr(params, "settings", params)
    if not (dataclasses.is_dataclass(values) and not isinstance(values, type)):
        return {}
    defaults = {}
    for f in dataclasses.fields(values):
        if f.default is not dataclasses.MISSING:
            defaults[f.name] = f.default
        elif f.default_factory is not dataclasses.MISSING:
            defaults[f.name] = f.default_factory()
    return _json_normalised(defaults)


def _json_normalised(value: Any) -> Any:
    """``value`` as it reads back from JSON (tuples become lists, other objects their ``str``)."""
    return json.loads(json.dumps(value, default=str))


def _short(value: Any, limit: int = 120) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= limit else text[:limit] + "..."


def _name(sequence: Sequence | str) -> str:
    return sequence if isinstance(sequence, str) else sequence.name
