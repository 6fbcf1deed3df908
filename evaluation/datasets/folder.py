"""A generic folder dataset: your own sequences in OTB's layout, no code needed.

A *sequence folder* holds its frames (``*.jpg``, ``*.jpeg``, ``*.png``, ``*.bmp``, directly or in
an ``img/`` subfolder, ordered by the numbers in their names) and a ground-truth file
``groundtruth_rect.txt`` (or ``groundtruth.txt``), one ``x,y,w,h`` box per line, comma, tab or
whitespace delimited. Several targets in one video use ``groundtruth_rect.1.txt``,
``groundtruth_rect.2.txt``, ... and become sequences ``<folder>-1``, ``<folder>-2``.

``folder_dataset(path)`` accepts a sequence folder or a folder of sequence folders
(subfolders without frames, e.g. ``annotations/``, are skipped).

Ground-truth rows vs frames (OTB's conventions): one row only = the initial box, later
frames unannotated (NaN); fewer rows than frames = only the annotated frames are used
(OTB's Football1 has 81 images, 74 annotated); more rows than frames is an error.
"""
from __future__ import annotations

import logging
import re
from pathlib import Path

import numpy as np

from evaluation.data import Sequence, SequenceList
from evaluation.datasets._common import (DatasetNotFoundError, one_based_to_zero_based, read_ground_truth,
                                         require_unique_names)

IMAGE_EXTENSIONS: tuple[str, ...] = (".jpg", ".jpeg", ".png", ".bmp")
_NUMBERS = re.compile(r"(\d+)")
_MULTI_GT = re.compile(r"^groundtruth_rect\.(\d+)\.txt$")
log = logging.getLogger(__name__)


def _natural_key(path: Path) -> list[object]:
    """Sort ``2.jpg`` before ``10.jpg`` (frame numbers need not be zero-padded)."""
    return [int(part) if part.isdigit() else part.lower() for part in _NUMBERS.split(path.name)]


def list_frames(folder: Path) -> list[Path]:
    """Image files of a sequence folder (``img/`` if present, else the folder), in natural order.

    Raises ``ValueError`` naming the files when an image entry is a broken or looping symlink (skipping
    it would shift every later frame) or when two images share a frame name with different
    extensions (``0001.jpg`` and ``0001.png``: every frame would be used twice).
    """
    image_dir = folder / "img" if (folder / "img").is_dir() else folder
    entries = [p for p in image_dir.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS]
    broken = [p for p in entries if p.is_symlink() and not p.exists()]
    if broken:
        raise ValueError(f"{broken[0]} is a broken or looping symlink ({len(broken)} such frame(s) in "
                         f"{image_dir}); fix or remove them so no frame is skipped")
    frames = [p for p in entries if p.is_file()]
    stems: dict[str, Path] = {}
    for frame in frames:
        other = stems.setdefault(frame.stem.lower(), frame)
        if other is not frame:
            raise ValueError(f"{image_dir} holds both {other.name} and {frame.name}: one image per frame "
                             f"expected (move one set of images elsewhere)")
    return sorted(frames, key=_natural_key)


def _ground_truth_files(folder: Path) -> list[tuple[str, Path]]:
    """``(sequence name, file)`` per target of the folder."""
    for plain in ("groundtruth_rect.txt", "groundtruth.txt"):
        if (folder / plain).is_file():
            return [(folder.name, folder / plain)]
    numbered = []
    for path in folder.iterdir():
        match = _MULTI_GT.match(path.name)
        if match:
            numbered.append((int(match.group(1)), path))
    return [(f"{folder.name}-{k}", path) for k, path in sorted(numbered)]


def _align(gt_xywh: np.ndarray, frames: list[Path], gt_path: Path) -> tuple[np.ndarray, list[Path]]:
    if gt_xywh.shape[0] == 1 and len(frames) > 1:
        unannotated = np.full((len(frames) - 1, 4), np.nan)
        return np.vstack([gt_xywh, unannotated]), frames
    if gt_xywh.shape[0] > len(frames):
        raise ValueError(f"{gt_path}: {gt_xywh.shape[0]} ground-truth rows but only {len(frames)} frames "
                         f"in {frames[0].parent if frames else gt_path.parent}")
    return gt_xywh, frames[:gt_xywh.shape[0]]


def sequence_folder(path: str | Path, one_based: bool = True, dataset: str = "folder") -> SequenceList:
    """The target(s) of one sequence folder (usually one sequence; several with numbered ground truths).

    Args:
        path: the sequence folder.
        one_based: ground-truth boxes are 1-based (OTB's convention; x and y are decremented);
            False for files already 0-based.
        dataset: the ``Sequence.dataset`` label.

    Raises:
        DatasetNotFoundError: no frames or no ground-truth file (the message names the folder).
    """
    folder = Path(path).expanduser()
    if not folder.is_dir():
        raise DatasetNotFoundError(f"sequence folder not found: {folder}")
    frames = list_frames(folder)
    if not frames:
        raise DatasetNotFoundError(f"no frames ({', '.join(IMAGE_EXTENSIONS)}) in {folder} or {folder / 'img'}")
    gt_files = _ground_truth_files(folder)
    if not gt_files:
        raise DatasetNotFoundError(f"no ground truth in {folder}: expected groundtruth_rect.txt "
                                   f"(one x,y,w,h line per frame; the first line alone is enough)")
    sequences = SequenceList()
    for name, gt_path in gt_files:
        gt = read_ground_truth(gt_path)
        if one_based:
            gt = one_based_to_zero_based(gt)
        gt, used = _align(gt, frames, gt_path)
        sequences.append(Sequence(name=name, frames=[str(p) for p in used], dataset=dataset, ground_truth_rect=gt))
    return sequences


def _is_sequence_folder(folder: Path) -> bool:
    return bool(_ground_truth_files(folder)) and bool(list_frames(folder))


def folder_dataset(path: str | Path, one_based: bool = True) -> SequenceList:
    """Sequences from ``path``: a sequence folder, or a folder whose subfolders are sequence folders.

    ``path`` itself is a sequence folder when it (or its ``img/``) holds frames. Otherwise its
    subfolders with frames and ground truth are the sequences (others are skipped); none is an error.

    Raises:
        DatasetNotFoundError: ``path`` missing, or no sequence found in it.
    """
    root = Path(path).expanduser()
    if not root.is_dir():
        raise DatasetNotFoundError(f"dataset folder not found: {root}")
    if list_frames(root):  # frames here: a sequence folder (errors if its ground truth is missing)
        return sequence_folder(root, one_based=one_based)
    sequences = SequenceList()
    for sub in sorted((p for p in root.iterdir() if p.is_dir()), key=_natural_key):
        if _is_sequence_folder(sub):
            sequences += sequence_folder(sub, one_based=one_based)
        elif list_frames(sub):
            log.warning("skipping %s: it has frames but no groundtruth_rect.txt, groundtruth.txt or "
                        "groundtruth_rect.<k>.txt", sub)
    require_unique_names(sequences)
    if not sequences:
        raise DatasetNotFoundError(f"no sequences in {root}: expected <sequence>/img/*.jpg (or frames directly "
                                   f"in <sequence>/) with <sequence>/groundtruth_rect.txt")
    return sequences
