"""DTB70 (``dtb70``): 70 drone sequences in OTB's format, from ``dtb70_path``.

Layout: ``<Seq>/img/%05d.jpg`` and ``<Seq>/groundtruth_rect.txt``, one ``x,y,w,h`` box per frame,
1-based (turned 0-based here); every sequence runs from frame 1 to its last annotated frame (the
DTB70 toolkit's ranges). Sequences are the benchmark's 70 (``tables/dtb70.txt``, with the toolkit's
10 named attribute flags) present under the root, then any other folder holding a ground truth; a
partial copy is said once.
"""
from __future__ import annotations

from functools import partial
from pathlib import Path

from evaluation.data import Sequence, SequenceList
from evaluation.datasets._benchmark import Catalogue, numbered_frames, read_rows, read_table
from evaluation.datasets._common import DatasetNotFoundError, dataset_root, how_to_set, one_based_to_zero_based
from evaluation.datasets.attributes import DTB70_ATTRIBUTE_NAMES, check_benchmark_attributes
from evaluation.settings import Settings

#: Sequence name -> its attributes (the benchmark's 70 sequences).
DTB70_ATTRIBUTES: dict[str, tuple[str, ...]] = {row[0]: tuple(row[1:]) for row in read_table("dtb70")}
check_benchmark_attributes(DTB70_ATTRIBUTES, DTB70_ATTRIBUTE_NAMES, "DTB70")


def dtb70_sequence(folder: Path) -> Sequence:
    """One DTB70 sequence folder: frames ``img/00001.jpg..`` with one box per frame (0-based ``xywh``)."""
    gt_path = folder / "groundtruth_rect.txt"
    gt = read_rows(gt_path, 4)
    frames = numbered_frames(folder / "img", 1, gt.shape[0], nz=5)
    return Sequence(name=folder.name, frames=frames, dataset="dtb70", ground_truth_rect=one_based_to_zero_based(gt),
                    attributes=DTB70_ATTRIBUTES.get(folder.name, ()))


def dtb70_catalogue(settings: Settings) -> Catalogue:
    """The DTB70 sequences under ``dtb70_path`` (each ``<Seq>/`` with ``groundtruth_rect.txt``).

    Raises:
        DatasetNotFoundError: the path is unset or absent, or holds no sequence.
    """
    root = dataset_root(settings, "dtb70_path", "DTB70")
    present = {p.name: p for p in root.iterdir() if (p / "groundtruth_rect.txt").is_file()}
    if not present:
        raise DatasetNotFoundError(f"DTB70: no <Seq>/groundtruth_rect.txt under {root}: {how_to_set('dtb70_path')}")
    ordered = [n for n in DTB70_ATTRIBUTES if n in present] + sorted(set(present) - set(DTB70_ATTRIBUTES))
    return Catalogue("DTB70", root, list(DTB70_ATTRIBUTES), {n: partial(dtb70_sequence, present[n]) for n in ordered})


def dtb70_dataset(settings: Settings) -> SequenceList:
    """The DTB70 sequences (:func:`dtb70_catalogue`), loaded."""
    return dtb70_catalogue(settings).sequences()
