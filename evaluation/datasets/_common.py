"""Helpers shared by the dataset loaders: locating data roots and reading ground truth.

Every "data is missing" error is one line naming the path that was looked for and the
settings key / environment variable that sets it, so a user can fix it without reading code.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from evaluation.boxes_io import read_boxes_txt
from evaluation.data import Sequence, SequenceList
from evaluation.settings import Settings, env_name, settings_file


class DatasetNotFoundError(FileNotFoundError):
    """A dataset (or one of its files) is not where the settings say; the message says how to fix it."""


def how_to_set(key: str) -> str:
    """``"set <key> in <settings file> or <ENV_VAR>"``: the fix appended to missing-data errors."""
    return f"set {key} in {settings_file()} or {env_name(key)}"


def dataset_root(settings: Settings, key: str, label: str) -> Path:
    """The existing folder named by setting ``key``; ``DatasetNotFoundError`` when unset or absent.

    Args:
        settings: the settings in force.
        key: a ``Settings`` field, e.g. ``otb2013_path``.
        label: the dataset's display name for the message, e.g. ``OTB2013``.
    """
    value = getattr(settings, key)
    if not value:
        raise DatasetNotFoundError(f"{label} path is not set: {how_to_set(key)}")
    path = Path(value).expanduser()
    if not path.is_dir():
        raise DatasetNotFoundError(f"{label} not found at {path}: {how_to_set(key)}")
    return path


def optional_root(settings: Settings, key: str, label: str) -> Path | None:
    """Like ``dataset_root`` but None when the key is unset (an unset optional folder is fine,
    a set one that does not exist is an error: it is almost always a typo)."""
    if not getattr(settings, key):
        return None
    return dataset_root(settings, key, label)


def select_rows(ground_truth_xywh: np.ndarray, start_frame: int, end_frame: int, source: Path) -> np.ndarray:
    """The ground-truth rows of frames ``start_frame..end_frame`` (1-based, inclusive).

    OTB annotation files hold either exactly those rows (the usual case, e.g. David's 471
    rows for frames 300-770) or one row per frame of the whole video (e.g. Tiger1's 354
    rows when OTB-100 evaluates frames 6-354); both are accepted. Any other count is an
    error naming the file, since silently shifting boxes against frames corrupts every score.
    """
    count = end_frame - start_frame + 1
    rows = ground_truth_xywh.shape[0]
    if rows == count:
        return ground_truth_xywh
    if rows >= end_frame:
        return ground_truth_xywh[start_frame - 1:end_frame]
    raise ValueError(f"{source}: {rows} ground-truth rows, expected {count} "
                     f"(frames {start_frame}-{end_frame}) or at least {end_frame} (whole video)")


def one_based_to_zero_based(ground_truth_xywh: np.ndarray) -> np.ndarray:
    """OTB boxes are 1-based (MATLAB pixel indices); the toolkit is 0-based: subtract 1 from x and y.

    Widths and heights are unchanged; NaN and non-positive rows are kept as they are (the
    analysis treats them as frames without a valid annotation).
    """
    out = np.array(ground_truth_xywh, dtype=np.float64, copy=True)
    out[:, :2] -= 1.0
    return out


def read_ground_truth(path: Path) -> np.ndarray:
    """Read an ``(N, 4)`` ``[x, y, w, h]`` file (comma, tab or whitespace delimited) as-is."""
    gt = read_boxes_txt(path, columns=4)
    if gt.shape[0] == 0:
        raise ValueError(f"{path}: no ground-truth rows")
    return gt


def require_unique_names(sequences: SequenceList) -> None:
    """Raise ``ValueError`` naming the first name two sequences share, and where each comes from.

    Results are stored per sequence name, so two sequences of one name would write one set of files
    and be scored against each other's boxes."""
    first: dict[str, Sequence] = {}
    for sequence in sequences:
        other = first.setdefault(sequence.name, sequence)
        if other is not sequence:
            raise ValueError(f"two sequences are named '{sequence.name}' ({_origin(other)} and {_origin(sequence)}); "
                             f"results are kept per sequence name: rename one or run them separately")


def _origin(sequence: Sequence) -> str:
    if sequence.frames and sequence.frame_loader is None:
        return f"frames in {Path(sequence.frames[0]).parent}"
    return f"dataset '{sequence.dataset}'"

