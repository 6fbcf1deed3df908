"""VOT short-term sequences (``vot``) from ``vot_path`` (one stack, e.g. the VOT2017 or VOT2018 folder).

Layout (as the VOT toolkit downloads them): ``list.txt`` (one sequence per line), frames in
``<seq>/color/%08d.jpg`` (VOT2017 on) or directly in ``<seq>/%08d.jpg`` (VOT2013-2016), and
``<seq>/groundtruth.txt`` with one box per frame: 4 numbers ``x,y,w,h`` or an 8-number polygon
``x1,y1,...,x4,y4`` (0-based pixels). Polygons become axis-aligned boxes by the **area rule** of
the GOT-10k toolkit, pysot and SiamFC (``_benchmark.polygon_to_xywh``): centred on the corners'
mean, the min-max extent scaled to the polygon's area, plus one pixel. Per-frame ``*.tag`` /
``*.label`` files are not read. The toolkit runs VOT sequences one-pass (OPE, no re-initialisation;
VOT's EAO is not computed).
"""
from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np

from evaluation.boxes_io import read_text_file
from evaluation.data import Sequence, SequenceList
from evaluation.datasets._benchmark import Catalogue, polygon_to_xywh, require_rows
from evaluation.datasets._common import DatasetNotFoundError, dataset_root, how_to_set
from evaluation.settings import Settings


def read_vot_ground_truth(path: Path) -> np.ndarray:
    """``(N, 4)`` ``xywh`` boxes of a VOT ``groundtruth.txt`` (rows of 4 numbers, or polygons of 8)."""
    rows = []
    for line_no, line in enumerate(read_text_file(path).splitlines(), start=1):
        text = line.strip()
        if not text:
            continue
        if text.startswith("m"):
            raise ValueError(f"{path}:{line_no}: segmentation-mask ground truth (VOT2020+) is not supported")
        try:
            values = [float(v) for v in text.split(",")]
        except ValueError:
            raise ValueError(f"{path}:{line_no}: non-numeric value in {text!r}") from None
        if len(values) not in (4, 8):
            raise ValueError(f"{path}:{line_no}: expected 4 (x,y,w,h) or 8 (polygon) values, got {len(values)}")
        rows.append(values if len(values) == 4 else polygon_to_xywh(np.array([values]))[0].tolist())
    if not rows:
        raise ValueError(f"{path}: no rows")
    return np.asarray(rows, dtype=np.float64)


def vot_sequence(root: Path, name: str) -> Sequence:
    """Sequence ``name``: frames from ``<name>/color/`` (else ``<name>/``), boxes 0-based ``xywh``."""
    folder = root / name
    image_dir = folder / "color" if (folder / "color").is_dir() else folder
    gt_path = folder / "groundtruth.txt"
    gt = read_vot_ground_truth(gt_path)
    frames = sorted(p for p in image_dir.iterdir() if p.suffix.lower() == ".jpg")
    require_rows(gt, len(frames), gt_path, f"the {len(frames)} frames in {image_dir}")
    return Sequence(name=name, frames=[str(p) for p in frames], dataset="vot", ground_truth_rect=gt)


def vot_catalogue(settings: Settings) -> Catalogue:
    """The sequences of ``<vot_path>/list.txt`` that are present.

    Raises:
        DatasetNotFoundError: the path is unset or absent, ``list.txt`` missing, or no sequence present.
    """
    root = dataset_root(settings, "vot_path", "VOT")
    list_file = root / "list.txt"
    if not list_file.is_file():
        raise DatasetNotFoundError(f"VOT: {list_file} not found (one sequence name per line): {how_to_set('vot_path')}")
    names = [line.strip() for line in read_text_file(list_file).splitlines() if line.strip()]
    found = [n for n in names if (root / n / "groundtruth.txt").is_file()]
    if not found:
        raise DatasetNotFoundError(f"VOT: none of the {len(names)} sequences of {list_file} has "
                                   f"<seq>/groundtruth.txt under {root}")
    return Catalogue("VOT", root, names, {n: partial(vot_sequence, root, n) for n in found})


def vot_dataset(settings: Settings) -> SequenceList:
    """The VOT sequences (:func:`vot_catalogue`), loaded."""
    return vot_catalogue(settings).sequences()
