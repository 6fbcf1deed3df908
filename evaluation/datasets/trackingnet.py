"""TrackingNet's test set (``trackingnet``: 511 sequences) from ``trackingnet_path``.

Layout (the official download): ``TEST/frames/<seq>/<i>.jpg`` with ``i = 0, 1, ...`` not
zero-padded (sorted by number here: a string sort would put ``10.jpg`` before ``2.jpg``) and
``TEST/anno/<seq>.txt`` holding the first frame's ``x,y,w,h`` box (0-based pixels); the other
frames get NaN boxes: results are scored by the evaluation server (``python -m evaluation.pack
trackingnet``). Sequences are the annotation files, in name order.
"""
from __future__ import annotations

from functools import partial
from pathlib import Path

from evaluation.data import Sequence, SequenceList
from evaluation.datasets._benchmark import Catalogue, first_row_only, numeric_frames, read_rows
from evaluation.datasets._common import DatasetNotFoundError, dataset_root, how_to_set
from evaluation.settings import Settings


def trackingnet_sequence(subset_dir: Path, name: str) -> Sequence:
    """Sequence ``name`` of ``subset_dir`` (``.../TEST``): frames in numeric order, first box 0-based."""
    folder = subset_dir / "frames" / name
    if not folder.is_dir():
        raise DatasetNotFoundError(f"TrackingNet sequence {name}: frame folder {folder} not found")
    frames = numeric_frames(folder)
    if not frames:
        raise DatasetNotFoundError(f"TrackingNet sequence {name}: no <i>.jpg frames in {folder}")
    gt = read_rows(subset_dir / "anno" / f"{name}.txt", 4)
    return Sequence(name=name, frames=[str(p) for p in frames], dataset="trackingnet",
                    ground_truth_rect=first_row_only(gt, len(frames)))


def trackingnet_catalogue(settings: Settings) -> Catalogue:
    """TrackingNet's test sequences under ``trackingnet_path``.

    Raises:
        DatasetNotFoundError: the path is unset or absent, or ``TEST/anno/`` holds no annotation.
    """
    subset_dir = dataset_root(settings, "trackingnet_path", "TrackingNet") / "TEST"
    annos = sorted((subset_dir / "anno").glob("*.txt")) if (subset_dir / "anno").is_dir() else []
    if not annos:
        raise DatasetNotFoundError(f"TrackingNet: no TEST/anno/<seq>.txt under {subset_dir.parent}: "
                                   f"{how_to_set('trackingnet_path')}")
    return Catalogue("TrackingNet", subset_dir, [], {a.stem: partial(trackingnet_sequence, subset_dir, a.stem)
                                                     for a in annos})


def trackingnet_dataset(settings: Settings) -> SequenceList:
    """TrackingNet's test sequences (:func:`trackingnet_catalogue`), loaded."""
    return trackingnet_catalogue(settings).sequences()
