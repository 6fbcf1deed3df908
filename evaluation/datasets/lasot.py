"""LaSOT (``lasot``: the 280 test sequences of protocol II; ``lasot_path``) and its extension
(``lasot_ext``: 150 sequences of 15 new classes; ``lasot_ext_path``).

Layout (the official downloads, one folder per class): ``<class>/<class>-<k>/img/%08d.jpg``,
``groundtruth.txt`` (one ``x,y,w,h`` box per frame, 1-based; turned 0-based here),
``full_occlusion.txt`` and ``out_of_view.txt`` (one comma-separated 0/1 flag per frame). The
target is *visible* in a frame flagged neither (``Sequence.target_visible``): LaSOT's protocol
(:mod:`evaluation.analysis.protocols`) counts the other frames as failures. Test sequences carry
LaSOT's 14 attributes (``tables/lasot.txt``), extension sequences theirs (``tables/lasot_ext.txt``).
The downloads ship no attribute files (LaSOT's evaluation toolkit does, ``annos/att/``; the test
table agrees with them on all 280 sequences).

A partial copy (a few classes) runs on the sequences present, said once.
"""
from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np

from evaluation.data import Sequence, SequenceList
from evaluation.datasets._benchmark import Catalogue, numbered_frames, read_flags, read_rows, read_table
from evaluation.datasets._common import DatasetNotFoundError, dataset_root, how_to_set, one_based_to_zero_based
from evaluation.datasets.attributes import LASOT_ATTRIBUTE_NAMES, check_benchmark_attributes
from evaluation.settings import Settings

#: Test sequence name -> its attributes (280 sequences, the benchmark's order within a class).
LASOT_TEST: dict[str, tuple[str, ...]] = {row[0]: tuple(row[1:]) for row in read_table("lasot")}
check_benchmark_attributes(LASOT_TEST, LASOT_ATTRIBUTE_NAMES, "LaSOT")

#: The extension's 15 classes, 10 sequences each (``<class>-1`` .. ``<class>-10``).
LASOT_EXT_CLASSES: tuple[str, ...] = ("atv", "badminton", "cosplay", "dancingshoe", "footbag", "frisbee", "jianzi",
                                      "lantern", "misc", "opossum", "paddle", "raccoon", "rhino", "skatingshoe",
                                      "wingsuit")
LASOT_EXT: tuple[str, ...] = tuple(f"{c}-{k}" for c in LASOT_EXT_CLASSES for k in range(1, 11))

#: Extension sequence name -> its attributes (the 150 of :data:`LASOT_EXT`).
LASOT_EXT_ATTRIBUTES: dict[str, tuple[str, ...]] = {row[0]: tuple(row[1:]) for row in read_table("lasot_ext")}
check_benchmark_attributes(LASOT_EXT_ATTRIBUTES, LASOT_ATTRIBUTE_NAMES, "LaSOT extension")
if set(LASOT_EXT_ATTRIBUTES) != set(LASOT_EXT):  # a typo in the table; fail at import, not in a plot
    raise ValueError(f"tables/lasot_ext.txt: names differ from the extension's 150 "
                     f"({sorted(set(LASOT_EXT_ATTRIBUTES) ^ set(LASOT_EXT))[:5]})")


def lasot_sequence(root: Path, name: str, dataset: str = "lasot", attributes: tuple[str, ...] = ()) -> Sequence:
    """Sequence ``<class>-<k>`` under ``root``: boxes 0-based ``xywh``, ``target_visible`` from the flags.

    Raises:
        ValueError: a flag file's length differs from the ground truth's (file named).
    """
    folder = root / name.rsplit("-", 1)[0] / name
    gt = read_rows(folder / "groundtruth.txt", 4)
    hidden = np.zeros(gt.shape[0], dtype=bool)
    for flag_file in ("full_occlusion.txt", "out_of_view.txt"):
        path = folder / flag_file
        if not path.is_file():
            raise DatasetNotFoundError(f"LaSOT sequence {name}: {path} missing")
        flags = read_flags(path)
        if flags.shape[0] != gt.shape[0]:
            raise ValueError(f"{path}: {flags.shape[0]} flags for {gt.shape[0]} ground-truth rows")
        hidden |= flags
    return Sequence(name=name, frames=numbered_frames(folder / "img", 1, gt.shape[0], nz=8), dataset=dataset,
                    ground_truth_rect=one_based_to_zero_based(gt), object_class=name.rsplit("-", 1)[0],
                    target_visible=~hidden, attributes=attributes)


def _catalogue(root: Path, names: list[str], label: str, key: str, dataset: str,
               attributes: dict[str, tuple[str, ...]]) -> Catalogue:
    def present(name: str) -> bool:
        return (root / name.rsplit("-", 1)[0] / name / "groundtruth.txt").is_file()

    found = [n for n in names if present(n)]
    if not found:
        raise DatasetNotFoundError(f"{label}: none of its sequences under {root} "
                                   f"(expected <class>/<class>-<k>/groundtruth.txt): {how_to_set(key)}")
    return Catalogue(label, root, names, {n: partial(lasot_sequence, root, n, dataset, attributes.get(n, ()))
                                          for n in found})


def lasot_catalogue(settings: Settings) -> Catalogue:
    """LaSOT's 280 test sequences under ``lasot_path`` (loaders for those present)."""
    root = dataset_root(settings, "lasot_path", "LaSOT")
    return _catalogue(root, list(LASOT_TEST), "LaSOT", "lasot_path", "lasot", LASOT_TEST)


def lasot_ext_catalogue(settings: Settings) -> Catalogue:
    """The LaSOT extension's 150 sequences under ``lasot_ext_path`` (loaders for those present)."""
    root = dataset_root(settings, "lasot_ext_path", "LaSOT extension")
    return _catalogue(root, list(LASOT_EXT), "LaSOT extension", "lasot_ext_path", "lasot_ext", LASOT_EXT_ATTRIBUTES)


def lasot_dataset(settings: Settings) -> SequenceList:
    """LaSOT's 280 test sequences from ``lasot_path`` (those present)."""
    return lasot_catalogue(settings).sequences()


def lasot_ext_dataset(settings: Settings) -> SequenceList:
    """The LaSOT extension's 150 sequences from ``lasot_ext_path`` (those present)."""
    return lasot_ext_catalogue(settings).sequences()
