"""Helpers shared by the benchmark loaders (TC128, UAV123, NfS, LaSOT, GOT-10k, TrackingNet, VOT, DTB70).

Sequence tables (frame ranges, split lists, attribute flags) are facts kept as text files in
``evaluation/datasets/tables/`` (:func:`read_table`). Frame paths are built from those facts or
listed from the folder; the loaders do not open every frame (``python -m evaluation.datasets check
NAME`` does). Bad files raise errors naming the file.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from evaluation.boxes_io import read_boxes_txt, read_text_file
from evaluation.data import Sequence, SequenceList

TABLES = Path(__file__).resolve().parent / "tables"
log = logging.getLogger("evaluation.datasets")
_SPLIT = re.compile(r"[,\t; ]+")


def read_table(name: str) -> list[list[str]]:
    """The rows of ``tables/<name>.txt`` split on whitespace (``#`` comments and blank lines skipped)."""
    rows = []
    for line in (TABLES / f"{name}.txt").read_text(encoding="utf-8").splitlines():
        text = line.split("#", 1)[0].strip()
        if text:
            rows.append(text.split())
    return rows


def numbered_frames(folder: Path, start: int, end: int, nz: int, ext: str = "jpg") -> list[str]:
    """``<folder>/<i zero-padded to nz>.<ext>`` for ``i = start..end`` (inclusive)."""
    return [str(folder / f"{i:0{nz}d}.{ext}") for i in range(start, end + 1)]


def numeric_frames(folder: Path, ext: str = ".jpg") -> list[Path]:
    """The ``*<ext>`` files of ``folder`` sorted by the number in their name (``2.jpg`` before ``10.jpg``,
    which a string sort gets wrong). A name that is not a number is an error naming it."""
    files = [p for p in folder.iterdir() if p.suffix.lower() == ext]
    bad = [p for p in files if not p.stem.isdigit()]
    if bad:
        raise ValueError(f"{bad[0]}: frame name is not a number (expected <number>{ext}; "
                         f"{len(bad)} such file(s) in {folder})")
    return sorted(files, key=lambda p: int(p.stem))


def read_rows(path: Path, columns: int) -> np.ndarray:
    """``(N, columns)`` float64 rows of ``path`` (comma/tab/space delimited); an empty file is an error."""
    rows = read_boxes_txt(path, columns=columns)
    if rows.shape[0] == 0:
        raise ValueError(f"{path}: no rows")
    return rows


def read_flags(path: Path) -> np.ndarray:
    """``(N,)`` bool flags of a label file: 0/1 values on one comma-separated line (LaSOT) or one per
    line (GOT-10k ``absence.label``); ``cover.label``-style levels are returned by :func:`read_levels`."""
    return read_levels(path) > 0


def read_levels(path: Path) -> np.ndarray:
    """``(N,)`` int values of a label file (comma or newline separated); a non-integer is an error."""
    values = [v for v in _SPLIT.split(read_text_file(path).replace("\n", ",")) if v.strip()]
    try:
        return np.array([int(float(v)) for v in values], dtype=np.int64)
    except ValueError as exc:
        raise ValueError(f"{path}: expected integer labels, got {exc}") from exc


def require_rows(rows: np.ndarray, n_frames: int, path: Path, what: str) -> None:
    """Raise ``ValueError`` naming ``path`` unless it has one row per frame."""
    if rows.shape[0] != n_frames:
        raise ValueError(f"{path}: {rows.shape[0]} rows, expected {n_frames} (one per frame of {what})")


def first_row_only(rows: np.ndarray, n_frames: int) -> np.ndarray:
    """``(n_frames, 4)``: the first box followed by NaN rows (benchmarks whose later boxes are withheld)."""
    out = np.full((n_frames, 4), np.nan)
    out[0] = rows[0]
    return out


def polygon_to_xywh(polygons: np.ndarray, rule: str = "area") -> np.ndarray:
    """Axis-aligned ``[x, y, w, h]`` boxes of VOT's 8-number polygons ``(N, 8)`` ``x1,y1,...,x4,y4``.

    Rules:
        ``area`` (default; the GOT-10k toolkit's, pysot's and SiamFC's VOT rule): a box centred on
        the corners' mean, with the corners' min-max extent scaled so its area equals the rotated
        rectangle's (``|p1 - p2| * |p2 - p3|``), plus one pixel in width and height.
        ``bounds``: the corners' min-max bounding box.
    """
    p = np.asarray(polygons, dtype=np.float64)
    xs, ys = p[:, 0::2], p[:, 1::2]
    x1, x2, y1, y2 = xs.min(1), xs.max(1), ys.min(1), ys.max(1)
    if rule == "bounds":
        return np.stack([x1, y1, x2 - x1, y2 - y1], axis=1)
    if rule != "area":
        raise ValueError(f"unknown polygon rule {rule!r} (area, bounds)")
    cx, cy = xs.mean(1), ys.mean(1)
    area_polygon = np.linalg.norm(p[:, 0:2] - p[:, 2:4], axis=1) * np.linalg.norm(p[:, 2:4] - p[:, 4:6], axis=1)
    area_bounds = (x2 - x1) * (y2 - y1)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(area_bounds > 0, np.sqrt(area_polygon / area_bounds), 1.0)
    w, h = scale * (x2 - x1) + 1, scale * (y2 - y1) + 1
    return np.stack([cx - w / 2, cy - h / 2, w, h], axis=1)


def say_partial(label: str, root: Path, present: Iterable[str], expected: Iterable[str]) -> None:
    """Log once that a partial copy runs on the sequences present (first missing names listed)."""
    present, expected = list(present), list(expected)
    missing = [n for n in expected if n not in set(present)]
    if missing:
        shown = ", ".join(missing[:5]) + (", ..." if len(missing) > 5 else "")
        log.warning("%s: %d of %d sequences found under %s; running on those (missing: %s)",
                    label, len(present), len(expected), root, shown)


@dataclass
class Catalogue:
    """What a benchmark copy holds, before any sequence is read: the sequences the benchmark defines
    (``expected``: its table or split list; empty where sequences are discovered) and a loader per
    sequence present (``loaders``, in the benchmark's order). ``python -m evaluation.datasets check``
    calls each loader on its own, so one bad sequence does not hide the others."""

    label: str
    root: Path
    expected: list[str]
    loaders: dict[str, Callable[[], Sequence]] = field(default_factory=dict)

    @property
    def missing(self) -> list[str]:
        """Expected sequences whose files are absent (a partial copy)."""
        return [n for n in self.expected if n not in self.loaders]

    def sequences(self) -> SequenceList:
        """Every present sequence, loaded (the partial-copy notice logged once)."""
        say_partial(self.label, self.root, list(self.loaders), self.expected)
        return SequenceList(load() for load in self.loaders.values())
