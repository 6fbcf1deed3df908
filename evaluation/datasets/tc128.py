"""Temple-Color 128 (``tc128``) from ``tc128_path``.

Layout (the TColor-128 download): ``<Seq>/img/%04d.jpg``, ``<Seq>/<Seq>_gt.txt`` (one ``x,y,w,h`` box
per evaluated frame, 1-based; turned 0-based here) and ``<Seq>/<Seq>_frames.txt`` holding the
evaluated frame range ``start,end`` (1-based, inclusive). Sequences are the folders holding a
``*_gt.txt``, in name order; ``tables/tc128.txt`` lists the benchmark's ranges (for its size).

Attributes (OTB's 11): the local copy's ``<Seq>/<Seq>_att.txt`` when present -- TC128's own
annotation, listing the sequence's attributes by name, one per line (IV, SV, OCC, ...; the layout two
public TC128 readers document; no copy of the file was at hand to check) -- takes precedence. Without it, a
sequence TC128 shares with OTB-100 carries OTB's flags (``Jogging1`` is OTB's ``Jogging-1``); the
others carry none. An ``_att.txt`` that is not a list of those names is said in one warning line
naming it and the fallback is used, so an unexpected format never stops a run.
"""
from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np

from evaluation.boxes_io import read_text_file
from evaluation.data import Sequence, SequenceList
from evaluation.datasets._benchmark import Catalogue, log, numbered_frames, read_rows, require_rows
from evaluation.datasets._common import DatasetNotFoundError, dataset_root, how_to_set, one_based_to_zero_based
from evaluation.datasets.attributes import ATTRIBUTE_NAMES, OTB100_ATTRIBUTES, read_name_file
from evaluation.settings import Settings


def read_frame_range(path: Path) -> tuple[int, int]:
    """``(start, end)`` from a ``<Seq>_frames.txt`` (``start,end``); anything else is an error naming it."""
    parts = [p for p in read_text_file(path).replace(",", " ").split() if p]
    try:
        start, end = (int(p) for p in parts)
    except ValueError:
        raise ValueError(f"{path}: expected 'start,end' (two frame numbers), got {' '.join(parts)!r}") from None
    if not 1 <= start <= end:
        raise ValueError(f"{path}: frame range {start},{end} is empty or not 1-based")
    return start, end


#: TC128 names of sequences OTB-100 spells otherwise.
_OTB_SPELLING = {"Jogging1": "Jogging-1", "Jogging2": "Jogging-2"}


def tc128_attributes(folder: Path) -> tuple[str, ...]:
    """The attributes of the sequence in ``folder``: its ``<Seq>_att.txt`` if present and readable,
    else OTB-100's flags for a sequence OTB-100 shares, else none (see the module docstring)."""
    name = folder.name
    fallback = OTB100_ATTRIBUTES.get(_OTB_SPELLING.get(name, name), ())
    path = folder / f"{name}_att.txt"
    if not path.is_file():
        return fallback
    try:
        return read_name_file(path, ATTRIBUTE_NAMES)
    except ValueError as exc:
        log.warning("%s; using %s", exc, f"OTB-100's flags of {name}" if fallback else "no attributes")
        return fallback


def tc128_sequence(folder: Path) -> Sequence:
    """One TC128 sequence folder: frames ``start..end`` of ``img/`` with their boxes (0-based ``xywh``)."""
    name = folder.name
    gt_path, range_path = folder / f"{name}_gt.txt", folder / f"{name}_frames.txt"
    if not range_path.is_file():
        raise DatasetNotFoundError(f"TC128 sequence {name}: frame range file missing: {range_path}")
    start, end = read_frame_range(range_path)
    gt = read_rows(gt_path, 4)
    require_rows(gt, end - start + 1, gt_path, f"frames {start}-{end} ({range_path.name})")
    return Sequence(name=name, frames=numbered_frames(folder / "img", start, end, nz=4), dataset="tc128",
                    ground_truth_rect=one_based_to_zero_based(np.asarray(gt)), start_frame=start,
                    attributes=tc128_attributes(folder))


def tc128_catalogue(settings: Settings) -> Catalogue:
    """The TC128 sequences under ``tc128_path``.

    Raises:
        DatasetNotFoundError: the path is unset or absent, holds no sequence, or a range file is missing.
    """
    root = dataset_root(settings, "tc128_path", "TC128")
    folders = sorted(p for p in root.iterdir() if (p / f"{p.name}_gt.txt").is_file())
    if not folders:
        raise DatasetNotFoundError(f"TC128: no <Seq>/<Seq>_gt.txt under {root}: {how_to_set('tc128_path')}")
    return Catalogue("TC128", root, [], {f.name: partial(tc128_sequence, f) for f in folders})


def tc128_dataset(settings: Settings) -> SequenceList:
    """The TC128 sequences (:func:`tc128_catalogue`), loaded."""
    return tc128_catalogue(settings).sequences()
