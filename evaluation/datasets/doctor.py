"""The dataset doctor: what is wrong with a local copy of a dataset, sequence by sequence.

``python -m evaluation.datasets check NAME`` (see ``__main__``) prints one line per sequence with a
problem and a one-line total; :func:`preflight_problems` gives a runner the same checks as one line
per bad sequence. Checks:

- the sequence loads at all (a ground-truth file with another row count than frames, a bad row, a
  missing flag, label or range file: the loader's one-line error naming the file);
- every frame file exists (listed per folder, so a LaSOT-size copy is checked in seconds), and the
  first and last frames decode (every frame with ``decode="all"``);
- ground-truth rows equal the frames; the first box is a valid box inside the first frame; no box
  has a negative width or height (NaN rows are unannotated frames, not faults);
- benchmark files the protocol needs: GOT-10k val's ``cover.label``/``absence.label`` (absent frames)
  and ``meta_info.ini`` (the image bound).

A partial copy of a benchmark with a sequence table or split list (some LaSOT classes, a GOT-10k
subset) is said once, and the sequences present are checked.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from evaluation.data import Sequence, SequenceList, read_image_rgb
from evaluation.datasets import get_dataset
from evaluation.datasets._benchmark import Catalogue
from evaluation.datasets.dtb70 import dtb70_catalogue
from evaluation.datasets.got10k import got10k_catalogue
from evaluation.datasets.lasot import lasot_catalogue, lasot_ext_catalogue
from evaluation.datasets.nfs import nfs_catalogue
from evaluation.datasets.tc128 import tc128_catalogue
from evaluation.datasets.trackingnet import trackingnet_catalogue
from evaluation.datasets.uav import uav_catalogue
from evaluation.datasets.vot import vot_catalogue
from evaluation.settings import Settings

#: Datasets checked sequence by sequence (one bad sequence does not stop the others).
CATALOGUES: dict[str, Callable[[Settings], Catalogue]] = {
    "tc128": tc128_catalogue,
    "uav123": lambda s: uav_catalogue(s, "UAV123"),
    "uav20l": lambda s: uav_catalogue(s, "UAV20L"),
    "uav123_10fps": lambda s: uav_catalogue(s, "UAV123_10fps"),
    "nfs": nfs_catalogue,
    "lasot": lasot_catalogue,
    "lasot_ext": lasot_ext_catalogue,
    "got10k_val": lambda s: got10k_catalogue(s, "val"),
    "got10k_test": lambda s: got10k_catalogue(s, "test"),
    "trackingnet": trackingnet_catalogue,
    "vot": vot_catalogue,
    "dtb70": dtb70_catalogue,
}


@dataclass
class DatasetReport:
    """The doctor's findings on one dataset: ``problems`` per sequence checked (empty list = fine), the
    benchmark's sequences absent from the copy (``missing``) and where it looked (``root``)."""

    name: str
    problems: dict[str, list[str]] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    expected: int = 0
    root: Path | None = None

    @property
    def bad(self) -> dict[str, list[str]]:
        return {name: found for name, found in self.problems.items() if found}

    def lines(self) -> list[str]:
        """The printed report: the partial-copy notice, a line per bad sequence, the total."""
        out = []
        if self.missing:
            shown = ", ".join(self.missing[:5]) + (", ..." if len(self.missing) > 5 else "")
            out.append(f"{self.name}: partial copy, {self.expected - len(self.missing)} of {self.expected} "
                       f"sequences under {self.root}; checking those (missing: {shown})")
        out += [f"{name}: {'; '.join(found)}" for name, found in self.bad.items()]
        bad = len(self.bad)
        verdict = "all fine" if not bad else f"{bad} with problems"
        out.append(f"{self.name}: {len(self.problems)} sequences checked, {verdict}")
        return out


def _missing_frames(frames: list[str]) -> list[str]:
    listed: dict[str, set[str]] = {}
    missing = []
    for frame in frames:
        folder, name = os.path.split(frame)
        if folder not in listed:
            try:
                listed[folder] = {e.name for e in os.scandir(folder) if e.is_file()}
            except OSError:
                listed[folder] = set()
        if name not in listed[folder]:
            missing.append(frame)
    return missing


def check_sequence(sequence: Sequence, decode: str = "ends") -> list[str]:
    """Problems of one loaded sequence (empty when fine); ``decode``: ``ends`` (first and last frame),
    ``all`` or ``none``."""
    problems: list[str] = []
    frames = list(sequence.frames)
    gt = sequence.ground_truth_rect
    first_shape = None
    if not frames:
        return ["no frames"]
    if sequence.frame_loader is None:
        missing = _missing_frames(frames)
        if missing:
            problems.append(f"{len(missing)} of {len(frames)} frames missing (first: {missing[0]})")
        absent = set(missing)
        wanted = frames if decode == "all" else [frames[0], frames[-1]] if decode == "ends" else []
        unreadable = []
        for index, frame in enumerate(dict.fromkeys(wanted)):
            if frame in absent:
                continue
            try:
                image = read_image_rgb(frame)
            except (ValueError, OSError) as exc:
                unreadable.append(str(exc))
                continue
            if index == 0:
                first_shape = image.shape
        if unreadable:
            problems.append(f"{len(unreadable)} unreadable frame(s) ({unreadable[0]})")
    if gt.shape[0] != len(frames):
        problems.append(f"{gt.shape[0]} ground-truth rows for {len(frames)} frames")
    first = gt[0]
    if not np.all(np.isfinite(first)) or first[2] <= 0 or first[3] <= 0:
        problems.append(f"first-frame box {first.tolist()} is not a box (finite, width and height > 0): "
                        f"the tracker cannot start")
    elif first_shape is not None:
        height, width = first_shape[:2]
        if first[0] >= width or first[1] >= height or first[0] + first[2] <= 0 or first[1] + first[3] <= 0:
            problems.append(f"first-frame box {first.tolist()} lies outside the {width}x{height} frame")
    with np.errstate(invalid="ignore"):
        negative = np.flatnonzero((gt[:, 2] < 0) | (gt[:, 3] < 0))
    if negative.size:
        problems.append(f"{negative.size} box(es) with a negative width or height (first: frame {negative[0] + 1})")
    if sequence.target_visible is not None and len(sequence.target_visible) != len(frames):
        problems.append(f"{len(sequence.target_visible)} visibility flags for {len(frames)} frames")
    return problems + _protocol_files(sequence)


def _protocol_files(sequence: Sequence) -> list[str]:
    if sequence.dataset != "got10k_val":
        return []
    folder = Path(sequence.frames[0]).parent
    problems = []
    if not (folder / "cover.label").is_file() and not (folder / "absence.label").is_file():
        problems.append(f"no cover.label or absence.label in {folder}: absent frames cannot be excluded")
    if not (folder / "meta_info.ini").is_file():
        problems.append(f"no meta_info.ini in {folder}: boxes cannot be clipped to the image for AO/SR")
    return problems


def check_dataset(name: str, settings: Settings, decode: str = "ends") -> DatasetReport:
    """Check every sequence of dataset ``name`` (a ``get_dataset`` name or ``folder:<path>``).

    Raises:
        DatasetNotFoundError: the dataset's root (or list/table file) is missing: nothing to check.
        ValueError: ``name`` is unknown, or (datasets without a catalogue) one of its files is bad.
    """
    key = name.strip().lower()
    report = DatasetReport(name=name)
    if key in CATALOGUES:
        catalogue = CATALOGUES[key](settings)
        report.missing, report.expected, report.root = catalogue.missing, len(catalogue.expected), catalogue.root
        for sequence_name, load in catalogue.loaders.items():
            try:
                sequence = load()
            except (ValueError, OSError) as exc:
                report.problems[sequence_name] = [str(exc)]
                continue
            report.problems[sequence_name] = check_sequence(sequence, decode)
        return report
    sequences = get_dataset(name, settings=settings)
    report.expected = len(sequences)
    for sequence in sequences:
        on_disk = sequence.frame_loader is not None or len(_missing_frames(sequence.frames)) < len(sequence.frames)
        if on_disk:
            report.problems[sequence.name] = check_sequence(sequence, decode)
        else:  # no frame at all: not downloaded (e.g. 12 of OTB2013's 51 targets), a partial copy
            report.missing.append(sequence.name)
            report.root = report.root or Path(sequence.frames[0]).parents[2]
    return report


def preflight_problems(sequences: SequenceList, decode: str = "none") -> list[str]:
    """One line per sequence with a problem (``<name>: <problems>``), for a runner's check before it
    starts; by default frames are only listed, not decoded."""
    lines = []
    for sequence in sequences:
        found = check_sequence(sequence, decode)
        if found:
            lines.append(f"{sequence.name}: {'; '.join(found)}")
    return lines


def cannot_run(sequence: Sequence) -> bool:
    """Whether a tracker cannot get through ``sequence`` at all: no frames, a frame file missing, or a
    first-frame box that is not a box (the problems :func:`check_sequence` reports that would fail the
    pair partway; the others, e.g. a label file the analysis needs, leave tracking possible)."""
    if not sequence.frames:
        return True
    first = sequence.ground_truth_rect[0] if len(sequence.ground_truth_rect) else np.full(4, np.nan)
    if not np.all(np.isfinite(first)) or first[2] <= 0 or first[3] <= 0:
        return True
    return sequence.frame_loader is None and bool(_missing_frames(list(sequence.frames)))
