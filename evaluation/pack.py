"""Pack a tracker's results for a benchmark's evaluation server (GOT-10k test, TrackingNet test).

These test sets withhold the ground truth beyond the first frame: the servers score the zip::

    python -m evaluation.pack got10k siamot mobilenet_v2         # -> <results>/siamot/mobilenet_v2_got10k.zip
    python -m evaluation.pack trackingnet siamot mobilenet_v2 --output my_submission.zip

Zip contents (the servers' documented formats; boxes ``x,y,w,h`` in the dataset's pixels, floats
with 4 decimals, comma-separated, one row per frame with frame 0 the initial box):

- ``got10k``: ``<seq>/<seq>_001.txt`` (and ``_002``, ``_003`` for the further runs of a tracker that is
  not deterministic) and ``<seq>/<seq>_time.txt`` (seconds per frame, one column per run; written
  when every run has its times), for the 180 sequences of ``got10k_test``;
- ``trackingnet``: ``<seq>.txt`` at the top level for the 511 sequences of ``trackingnet``.

Runs: results of run ids (``<param>_000``, ``<param>_001``, ... from ``run_tracker --runid N`` or an
experiment's run ids) are taken in order when they exist, else the plain ``<param>`` folder;
``--runs 0-2`` chooses (GOT-10k: 3 runs for a tracker that is not deterministic, 1 otherwise).
Every sequence must have a complete result (a row per frame); otherwise nothing is written and one
line names the first missing file. The zip is written atomically.
"""
from __future__ import annotations

import argparse
import io
import sys
import zipfile
from pathlib import Path
from typing import Sequence as TypingSequence

import numpy as np

from evaluation.boxes_io import atomic_write_bytes, read_boxes_txt, read_values_txt
from evaluation.cli_help import PlainHelpFormatter
from evaluation.data import SequenceList
from evaluation.datasets import DatasetNotFoundError, get_dataset
from evaluation.results import result_file, time_file
from evaluation.settings import Settings, SettingsError, load_settings

#: benchmark -> the dataset whose sequences it packs.
BENCHMARKS: dict[str, str] = {"got10k": "got10k_test", "trackingnet": "trackingnet"}
#: The most runs GOT-10k takes per sequence.
GOT10K_MAX_RUNS = 3


class PackError(ValueError):
    """Results cannot be packed; the message names the file or folder."""


def _format_boxes(boxes_xywh: np.ndarray) -> str:
    return "".join(",".join(f"{v:.4f}" for v in row) + "\n" for row in boxes_xywh)


def run_folders(results_root: Path, tracker: str, parameter: str, runs: list[int] | None = None) -> list[Path]:
    """The result folders to pack: ``<param>_<run:03d>`` for ``runs`` (or every such folder present),
    else ``<param>``.

    Raises:
        PackError: no result folder (the message names where it looked).
    """
    base = results_root / tracker
    if runs is not None:
        folders = [base / f"{parameter}_{r:03d}" for r in runs]
        missing = [f for f in folders if not f.is_dir()]
        if missing:
            raise PackError(f"no results of run {missing[0].name[len(parameter) + 1:]} at {missing[0]}")
        return folders
    numbered = sorted(p for p in base.glob(f"{parameter}_[0-9][0-9][0-9]") if p.is_dir()) if base.is_dir() else []
    if numbered:
        return numbered
    if (base / parameter).is_dir():
        return [base / parameter]
    raise PackError(f"no results of {tracker} {parameter} at {base / parameter} (nor {parameter}_<run> folders): "
                    f"run it first, e.g. python -m evaluation.run_experiment ...")


def _boxes(folder: Path, sequence) -> np.ndarray:
    path = result_file(folder, sequence)
    if not path.is_file():
        raise PackError(f"results missing for sequence {sequence.name}: {path}")
    boxes = read_boxes_txt(path)
    if boxes.shape[0] != len(sequence):
        raise PackError(f"{path}: {boxes.shape[0]} rows for {len(sequence)} frames (incomplete run)")
    if not np.all(np.isfinite(boxes)):
        raise PackError(f"{path}: NaN or inf in the boxes (the servers reject them)")
    return boxes


def pack_entries(benchmark: str, sequences: SequenceList, folders: list[Path]) -> dict[str, bytes]:
    """Zip member name -> content for ``benchmark`` (``got10k`` or ``trackingnet``).

    Raises:
        PackError: a sequence lacks complete results in one of ``folders``, or too many runs.
    """
    entries: dict[str, bytes] = {}
    if benchmark == "trackingnet":
        if len(folders) != 1:
            raise PackError(f"TrackingNet takes one run per sequence, got {len(folders)} result folders "
                            f"({folders[0].name}, ...): choose one with --runs")
        for sequence in sequences:
            entries[f"{sequence.name}.txt"] = _format_boxes(_boxes(folders[0], sequence)).encode()
        return entries
    if len(folders) > GOT10K_MAX_RUNS:
        raise PackError(f"GOT-10k takes at most {GOT10K_MAX_RUNS} runs per sequence, got {len(folders)} "
                        f"result folders: choose them with --runs")
    for sequence in sequences:
        times = []
        for run, folder in enumerate(folders, start=1):
            entries[f"{sequence.name}/{sequence.name}_{run:03d}.txt"] = _format_boxes(_boxes(folder, sequence)).encode()
            path = time_file(folder, sequence)
            times.append(read_values_txt(path) if path.is_file() else None)
        if all(t is not None and len(t) == len(sequence) for t in times):
            table = np.stack(times, axis=1)
            text = "".join(",".join(f"{v:.8f}" for v in row) + "\n" for row in table)
            entries[f"{sequence.name}/{sequence.name}_time.txt"] = text.encode()
    return entries


def write_zip(path: Path, entries: dict[str, bytes]) -> None:
    """Write ``entries`` as a deflated zip at ``path`` atomically (members in name order)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(entries):
            archive.writestr(name, entries[name])
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, buffer.getvalue())


def pack(benchmark: str, tracker: str, parameter: str, settings: Settings, output: Path | None = None,
         runs: list[int] | None = None, sequences: SequenceList | None = None) -> Path:
    """Write the server zip of ``tracker``/``parameter``'s results on ``benchmark``; returns its path.

    Args:
        sequences: the benchmark's sequences (default: ``get_dataset`` of :data:`BENCHMARKS`).
        output: zip path (default ``<results_path>/<tracker>/<parameter>_<benchmark>.zip``).
    """
    if benchmark not in BENCHMARKS:
        raise PackError(f"unknown benchmark '{benchmark}' (known: {', '.join(BENCHMARKS)})")
    if sequences is None:
        sequences = get_dataset(BENCHMARKS[benchmark], settings=settings)
    results_root = settings.path("results_path")
    folders = run_folders(results_root, tracker, parameter, runs)
    entries = pack_entries(benchmark, sequences, folders)
    path = output or results_root / tracker / f"{parameter}_{benchmark}.zip"
    write_zip(path, entries)
    return path


def _parse_runs(text: str) -> list[int]:
    try:
        if "-" in text:
            first, last = (int(v) for v in text.split("-", 1))
            return list(range(first, last + 1))
        return [int(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"runs must be A-B or A,B,... (run ids), got {text!r}") from None


def main(argv: TypingSequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evaluation.pack", description=__doc__,
                                     formatter_class=PlainHelpFormatter)
    parser.add_argument("benchmark", choices=sorted(BENCHMARKS), help="the evaluation server to pack for")
    parser.add_argument("tracker", help="tracker name (its results folder under results_path)")
    parameter_help = "parameter name (results in <results_path>/<tracker>/<parameter>[_<run>])"
    parser.add_argument("parameter", help=parameter_help)
    parser.add_argument("--runs", type=_parse_runs, default=None,
                        help="run ids to pack, e.g. 0-2 (default: every <parameter>_<run> folder, else <parameter>)")
    parser.add_argument("--output", type=Path, default=None,
                        help="zip file to write (default <results_path>/<tracker>/<parameter>_<benchmark>.zip)")
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
        path = pack(args.benchmark, args.tracker, args.parameter, settings, args.output, args.runs)
    except (PackError, DatasetNotFoundError, SettingsError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    with zipfile.ZipFile(path) as archive:
        count = len(archive.namelist())
    print(f"wrote {path} ({count} files) for the {args.benchmark} server")
    return 0


if __name__ == "__main__":
    sys.exit(main())
