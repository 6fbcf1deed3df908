"""Reading and writing box files: ground truth and tracker results.

Readers accept comma, tab, semicolon and whitespace delimiters (OTB files mix them) and
report bad rows by file and 1-based line number. Writers are atomic (write to a
temporary file in the same folder, then rename) so an interrupted run never leaves a
half-written result that a resumed run would take as complete.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Iterable

import numpy as np

from pytracking_siamot.atomic import atomic_write_bytes  # noqa: F401  (re-exported: the toolkit's writers)

_SPLIT = re.compile(r"[,\t; ]+")


def read_boxes_txt(path: str | Path, columns: int = 4) -> np.ndarray:
    """Read ``(N, columns)`` float64 rows; empty lines at the end are ignored, an empty line between
    rows is an error (each row is a frame).

    ``NaN`` entries are kept (they mark invalid frames in some ground truths).

    Raises:
        FileNotFoundError: the file is missing (message names the path).
        ValueError: a row has another number of values or a non-numeric value, or the file is not
            UTF-8 text (names file and line).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"box file not found: {path}")
    rows: list[list[float]] = []
    blank_line = 0
    for line_no, line in enumerate(read_text_file(path).splitlines(), start=1):
        text = line.strip()
        if not text:
            blank_line = blank_line or line_no
            continue
        if blank_line:  # rows are frames: skipping an inner blank line would shift every later box
            raise ValueError(f"{path}:{blank_line}: blank line between box rows (rows are frames; "
                             f"remove it, or write the frame's box as NaN,NaN,NaN,NaN)")
        parts = [p for p in _SPLIT.split(text) if p]
        if len(parts) != columns:
            raise ValueError(f"{path}:{line_no}: expected {columns} values, got {len(parts)}: {text!r}")
        try:
            rows.append([float(p) for p in parts])
        except ValueError as exc:
            raise ValueError(f"{path}:{line_no}: non-numeric value in {text!r}") from exc
    return np.asarray(rows, dtype=np.float64).reshape(-1, columns)


def read_text_file(path: str | Path) -> str:
    """The UTF-8 text of ``path``; a binary or otherwise non-UTF-8 file raises ``ValueError`` naming it
    (and the line of the first bad byte), a folder ``IsADirectoryError`` naming it."""
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a folder, expected a text file")
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise ValueError(f"{path}:{line}: not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})") from exc


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically (see :func:`atomic_write_bytes`)."""
    atomic_write_bytes(path, text.encode("utf-8"))


def format_rows(rows: Iterable[Iterable[float]], decimals: int = 2, delimiter: str = "\t") -> str:
    return "".join(delimiter.join(f"{float(v):.{decimals}f}" for v in row) + "\n" for row in rows)


def write_boxes_txt(path: str | Path, boxes_xywh: np.ndarray, decimals: int = 2) -> None:
    """Write ``(N, 4)`` boxes as tab-delimited floats (pytracking's layout, sub-pixel kept)."""
    boxes = np.asarray(boxes_xywh, dtype=np.float64).reshape(-1, 4)
    atomic_write_text(path, format_rows(boxes, decimals))


def write_values_txt(path: str | Path, values: Iterable[float], decimals: int = 6) -> None:
    """Write one value per line (per-frame times in seconds)."""
    atomic_write_text(path, "".join(f"{float(v):.{decimals}f}\n" for v in values))


def read_values_txt(path: str | Path) -> np.ndarray:
    """Read one value per line (per-frame times)."""
    return read_boxes_txt(path, columns=1).reshape(-1)
