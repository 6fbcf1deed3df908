"""Need for Speed at 30 fps (``nfs``) from ``nfs_path``, in either of two layouts.

* Official download: ``<seq>/30/<seq>/%05d.jpg`` with ``<seq>/30/<seq>.txt``, whose rows are
  ``track xmin ymin xmax ymax frame lost occluded generated "label"``. For most sequences the 30 fps
  file holds the 240 fps rows (about 8 per 30 fps frame): as the benchmark does, every 8th row is
  kept starting with the first (``rows[0::8]``), and a count still one off the frames is trimmed to
  the shorter (the GOT-10k toolkit's rule). ``lost`` marks frames without a visible target
  (``target_visible``).
* Re-organised (pytracking's): ``sequences/<seq>/%05d.jpg`` with ``anno/nfs_<seq>.txt``, one
  ``x y w h`` box per frame.

Boxes are 0-based ``xywh`` pixels as annotated. Sequences are named ``<seq>`` in both layouts.
"""
from __future__ import annotations

import shlex
from functools import partial
from pathlib import Path

import numpy as np

from evaluation.boxes_io import read_text_file
from evaluation.data import Sequence, SequenceList
from evaluation.datasets._benchmark import Catalogue, read_rows
from evaluation.datasets._common import DatasetNotFoundError, dataset_root, how_to_set
from evaluation.settings import Settings

#: 240 fps rows per 30 fps frame.
SUBSAMPLE = 8


def read_nfs_annotation(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """``(boxes (N, 4) xywh, lost (N,) bool)`` of an official NfS annotation file (all its rows)."""
    boxes, lost = [], []
    for line_no, line in enumerate(read_text_file(path).splitlines(), start=1):
        if not line.strip():
            continue
        parts = shlex.split(line)
        try:
            xmin, ymin, xmax, ymax = (float(v) for v in parts[1:5])
            lost.append(int(parts[6]) != 0 if len(parts) > 6 else False)
        except (ValueError, IndexError):
            raise ValueError(f"{path}:{line_no}: expected 'track xmin ymin xmax ymax frame lost ...', "
                             f"got {line.strip()!r}") from None
        boxes.append([xmin, ymin, xmax - xmin, ymax - ymin])
    if not boxes:
        raise ValueError(f"{path}: no rows")
    return np.asarray(boxes, dtype=np.float64), np.asarray(lost, dtype=bool)


def subsample_to_frames(rows: np.ndarray, n_frames: int, path: Path) -> slice:
    """The rows of ``n_frames`` 30 fps frames: ``0::8`` when the file holds 240 fps rows, then at most
    one row/frame of difference trimmed; another mismatch is an error naming ``path``."""
    step = SUBSAMPLE if abs(len(rows) / max(n_frames, 1) - SUBSAMPLE) < 1 else 1
    kept = len(rows[::step])
    if abs(kept - n_frames) > 1:
        raise ValueError(f"{path}: {len(rows)} rows for {n_frames} frames (expected {n_frames} 30 fps rows, "
                         f"or about {SUBSAMPLE * n_frames} 240 fps rows)")
    return slice(0, min(kept, n_frames) * step, step)


def nfs_official_sequence(root: Path, name: str) -> Sequence:
    """Sequence ``name`` of the official layout (frames and rows aligned as the module says)."""
    anno = root / name / "30" / f"{name}.txt"
    folder = root / name / "30" / name
    frames = sorted(p for p in folder.iterdir() if p.suffix.lower() == ".jpg") if folder.is_dir() else []
    if not frames:
        raise DatasetNotFoundError(f"NfS sequence {name}: no frames in {folder}")
    boxes, lost = read_nfs_annotation(anno)
    rows = subsample_to_frames(boxes, len(frames), anno)
    boxes, lost = boxes[rows], lost[rows]
    frames = frames[:len(boxes)]
    return Sequence(name=name, frames=[str(p) for p in frames], dataset="nfs", ground_truth_rect=boxes,
                    target_visible=~lost)


def nfs_reorganised_sequence(root: Path, anno: Path) -> Sequence:
    """Sequence of ``anno/nfs_<seq>.txt`` in the re-organised layout: ``sequences/<seq>/%05d.jpg``."""
    name = anno.stem[len("nfs_"):]
    gt = read_rows(anno, 4)
    folder = root / "sequences" / name
    frames = [str(folder / f"{i:05d}.jpg") for i in range(1, gt.shape[0] + 1)]
    return Sequence(name=name, frames=frames, dataset="nfs", ground_truth_rect=gt)


def nfs_catalogue(settings: Settings) -> Catalogue:
    """The NfS 30 fps sequences under ``nfs_path`` (layout detected: ``anno/`` + ``sequences/`` is the
    re-organised one), in name order.

    Raises:
        DatasetNotFoundError: the path is unset or absent, or holds no sequence of either layout.
    """
    root = dataset_root(settings, "nfs_path", "NfS")
    if (root / "anno").is_dir() and (root / "sequences").is_dir():
        annos = sorted((root / "anno").glob("nfs_*.txt"))
        if annos:
            return Catalogue("NfS", root, [], {a.stem[len("nfs_"):]: partial(nfs_reorganised_sequence, root, a)
                                               for a in annos})
    names = sorted(p.name for p in root.iterdir() if (p / "30" / f"{p.name}.txt").is_file())
    if not names:
        raise DatasetNotFoundError(f"NfS: no <seq>/30/<seq>.txt (official layout) nor anno/nfs_<seq>.txt "
                                   f"(re-organised) under {root}: {how_to_set('nfs_path')}")
    return Catalogue("NfS", root, [], {n: partial(nfs_official_sequence, root, n) for n in names})


def nfs_dataset(settings: Settings) -> SequenceList:
    """The NfS 30 fps sequences (:func:`nfs_catalogue`), loaded."""
    return nfs_catalogue(settings).sequences()
