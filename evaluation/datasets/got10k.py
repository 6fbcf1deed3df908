"""GOT-10k validation and test sets (``got10k_val``, ``got10k_test``) from ``got10k_path``.

Layout (the official download): ``<got10k_path>/val/`` and ``<got10k_path>/test/``, each with
``list.txt`` (one sequence name per line) and ``<seq>/%08d.jpg`` frames, ``<seq>/groundtruth.txt``
(``x,y,w,h``, 0-based pixels as GOT-10k gives them; one row per frame for val, the first row only
for test: the other frames get NaN boxes, scored only by the evaluation server, see
``python -m evaluation.pack got10k``), and for val ``absence.label`` (1 = target absent),
``cover.label`` (visible fraction, 0-8) and ``meta_info.ini`` (``object_class``, ``resolution``).

``target_visible`` is ``cover > 0`` (``absence == 0`` without a cover file): GOT-10k's AO and SR
(:mod:`evaluation.analysis.protocols`) count only those frames. A partial copy (sequences of
``list.txt`` missing) runs on those present, said once.
"""
from __future__ import annotations

import ast
from functools import partial
from pathlib import Path

import numpy as np

from evaluation.boxes_io import read_text_file
from evaluation.data import Sequence, SequenceList
from evaluation.datasets._benchmark import Catalogue, first_row_only, read_levels, read_rows, require_rows
from evaluation.datasets._common import DatasetNotFoundError, dataset_root, how_to_set
from evaluation.settings import Settings


def read_list(path: Path) -> list[str]:
    """Sequence names of a ``list.txt`` (blank lines skipped)."""
    return [line.strip() for line in read_text_file(path).splitlines() if line.strip()]


def read_meta_info(path: Path) -> dict[str, str]:
    """``key: value`` pairs of a ``meta_info.ini`` (its ``[METAINFO]`` header skipped)."""
    meta = {}
    for line in read_text_file(path).splitlines():
        key, sep, value = line.partition(":")
        if sep and not line.startswith("["):
            meta[key.strip()] = value.strip()
    return meta


def got10k_resolution(sequence: Sequence) -> tuple[int, int] | None:
    """``(width, height)`` from the sequence's ``meta_info.ini`` (beside its frames); None without one."""
    path = Path(sequence.frames[0]).parent / "meta_info.ini"
    if not path.is_file():
        return None
    value = read_meta_info(path).get("resolution")
    if value is None:
        return None
    try:
        width, height = ast.literal_eval(value)
    except (ValueError, SyntaxError):
        raise ValueError(f"{path}: resolution {value!r} is not '(width, height)'") from None
    return int(width), int(height)


def got10k_sequence(folder: Path, subset: str) -> Sequence:
    """One GOT-10k sequence folder of ``subset`` (``val`` or ``test``); boxes 0-based ``xywh``."""
    frames = sorted(p for p in folder.iterdir() if p.suffix.lower() == ".jpg")
    if not frames:
        raise DatasetNotFoundError(f"GOT-10k sequence {folder.name}: no frames (%08d.jpg) in {folder}")
    gt_path = folder / "groundtruth.txt"
    gt = read_rows(gt_path, 4)
    visible = None
    object_class = None
    if subset == "test":
        gt = first_row_only(gt, len(frames))
    else:
        require_rows(gt, len(frames), gt_path, f"the {len(frames)} frames in {folder}")
        cover, absence = folder / "cover.label", folder / "absence.label"
        label = cover if cover.is_file() else absence if absence.is_file() else None
        if label is not None:
            levels = read_levels(label)
            if levels.shape[0] != len(frames):
                raise ValueError(f"{label}: {levels.shape[0]} labels for {len(frames)} frames")
            visible = levels > 0 if label == cover else levels == 0
        if (folder / "meta_info.ini").is_file():
            object_class = read_meta_info(folder / "meta_info.ini").get("object_class")
    return Sequence(name=folder.name, frames=[str(p) for p in frames], dataset=f"got10k_{subset}",
                    ground_truth_rect=gt, target_visible=visible, object_class=object_class)


def got10k_catalogue(settings: Settings, subset: str) -> Catalogue:
    """The sequences of ``<got10k_path>/<subset>/list.txt`` that are present (``subset``: val, test).

    Raises:
        DatasetNotFoundError: the path is unset or absent, ``list.txt`` missing, or no sequence present.
    """
    root = dataset_root(settings, "got10k_path", "GOT-10k") / subset
    list_file = root / "list.txt"
    if not list_file.is_file():
        raise DatasetNotFoundError(f"GOT-10k {subset}: {list_file} not found (expected <got10k_path>/{subset}/"
                                   f"list.txt): {how_to_set('got10k_path')}")
    names = read_list(list_file)
    found = [n for n in names if (root / n / "groundtruth.txt").is_file()]
    if not found:
        raise DatasetNotFoundError(f"GOT-10k {subset}: none of the {len(names)} sequences of {list_file} "
                                   f"has {root}/<seq>/groundtruth.txt")
    return Catalogue(f"GOT-10k {subset}", root, names, {n: partial(got10k_sequence, root / n, subset) for n in found})


def got10k_val_dataset(settings: Settings) -> SequenceList:
    """GOT-10k's 180 validation sequences (those present), with full ground truth."""
    return got10k_catalogue(settings, "val").sequences()


def got10k_test_dataset(settings: Settings) -> SequenceList:
    """GOT-10k's 180 test sequences (those present); ground truth of the first frame only."""
    return got10k_catalogue(settings, "test").sequences()


def visible_mask(sequence: Sequence) -> np.ndarray:
    """``(N,)`` bool: frames where the target is visible (all when the sequence has no labels)."""
    if sequence.target_visible is None:
        return np.ones(len(sequence), dtype=bool)
    return np.asarray(sequence.target_visible, dtype=bool)
