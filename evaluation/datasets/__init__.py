"""Datasets: ``get_dataset(*names)`` returns one ``SequenceList`` (concatenated in the given order).

Names:

* ``synthetic`` -- the built-in deterministic sequences (no download; see ``synthetic.py``).
* ``otb2013`` -- the 51 OTB2013 targets from the ``otb2013_path`` setting (ground truth from
  ``otb2013_anno_path`` first when set; see ``otb.py``).
* ``otb`` (alias ``otb100``) -- the 100 OTB-100 targets from ``otb_path``, pytracking's names.
* ``folder:<path>`` -- a sequence folder or a folder of them (``folder_dataset``).
* Benchmarks in their official layouts, each from its settings key (one module each):
  ``tc128`` (``tc128_path``), ``uav123`` / ``uav20l`` (``uav123_path``), ``uav123_10fps``
  (``uav123_10fps_path``), ``nfs`` (``nfs_path``), ``lasot`` (``lasot_path``), ``lasot_ext``
  (``lasot_ext_path``), ``got10k_val`` / ``got10k_test`` (``got10k_path``), ``trackingnet``
  (``trackingnet_path``), ``vot`` (``vot_path``), ``dtb70`` (``dtb70_path``).

Also: ``folder_dataset(path)`` and ``video_sequence(path, init_bbox_xywh)`` for your own data,
attribute names/descriptions (``ATTRIBUTE_NAMES``, ``ATTRIBUTE_DESCRIPTIONS``), and
``available_sequences`` to keep the targets whose frames are on disk; ``segments.temporal_segments``
for OTB2013's temporal robustness evaluation (TRE).

Missing data raises ``DatasetNotFoundError`` with one line naming the path looked for and the
settings key / environment variable that sets it. ``python -m evaluation.datasets check NAME``
(``doctor.py``) lists what is wrong with each sequence of a local copy.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from evaluation.data import Sequence, SequenceList
from evaluation.datasets._common import DatasetNotFoundError, require_unique_names
from evaluation.datasets.attributes import (ATTRIBUTE_DESCRIPTIONS, ATTRIBUTE_NAMES, ATTRIBUTE_TITLES,
                                            OTB100_ATTRIBUTES, OTB2013_ATTRIBUTES)
from evaluation.datasets.dtb70 import dtb70_dataset
from evaluation.datasets.folder import folder_dataset, sequence_folder
from evaluation.datasets.got10k import got10k_test_dataset, got10k_val_dataset
from evaluation.datasets.lasot import lasot_dataset, lasot_ext_dataset
from evaluation.datasets.nfs import nfs_dataset
from evaluation.datasets.otb import OTB100_ENTRIES, OTB2013_ENTRIES, OTBEntry, otb100_dataset, otb2013_dataset
from evaluation.datasets.synthetic import SYNTHETIC_SPECS, SyntheticSpec, synthetic_dataset
from evaluation.datasets.tc128 import tc128_dataset
from evaluation.datasets.trackingnet import trackingnet_dataset
from evaluation.datasets.uav import uav20l_dataset, uav123_10fps_dataset, uav123_dataset
from evaluation.datasets.video import video_sequence
from evaluation.datasets.vot import vot_dataset
from evaluation.settings import Settings, load_settings

__all__ = [
    "ATTRIBUTE_DESCRIPTIONS", "ATTRIBUTE_NAMES", "ATTRIBUTE_TITLES", "DATASET_NAMES", "DatasetNotFoundError",
    "OTB100_ATTRIBUTES", "OTB100_ENTRIES", "OTB2013_ATTRIBUTES", "OTB2013_ENTRIES", "OTBEntry", "SYNTHETIC_SPECS",
    "SyntheticSpec", "available_sequences", "folder_dataset", "get_dataset", "otb100_dataset", "otb2013_dataset",
    "sequence_folder", "synthetic_dataset", "video_sequence",
]

_LOADERS: dict[str, Callable[[Settings], SequenceList]] = {
    "synthetic": lambda settings: synthetic_dataset(),
    "otb2013": otb2013_dataset,
    "otb": otb100_dataset,
    "otb100": otb100_dataset,
    "tc128": tc128_dataset,
    "uav123": uav123_dataset,
    "uav20l": uav20l_dataset,
    "uav123_10fps": uav123_10fps_dataset,
    "nfs": nfs_dataset,
    "lasot": lasot_dataset,
    "lasot_ext": lasot_ext_dataset,
    "got10k_val": got10k_val_dataset,
    "got10k_test": got10k_test_dataset,
    "trackingnet": trackingnet_dataset,
    "vot": vot_dataset,
    "dtb70": dtb70_dataset,
}

#: Dataset names ``get_dataset`` knows (plus ``folder:<path>``).
DATASET_NAMES: tuple[str, ...] = tuple(_LOADERS)

#: Whether a benchmark's annotation files hold 1-based boxes (each loader then subtracts 1 from x
#: and y; our sequences are 0-based). The one owner of that fact: tools that pass a benchmark's own
#: annotations on (got10k's experiments, ``evaluation.interop``) derive their shift from it.
ANNOTATIONS_ONE_BASED: dict[str, bool] = {
    "otb2013": True, "otb": True, "otb100": True, "tc128": True, "uav123": True, "uav20l": True,
    "uav123_10fps": True, "lasot": True, "lasot_ext": True, "dtb70": True,
    "nfs": False, "got10k_val": False, "got10k_test": False, "trackingnet": False, "vot": False,
}

_NEEDS_SETTINGS = set(_LOADERS) - {"synthetic"}


def get_dataset(*names: str, settings: Settings | None = None) -> SequenceList:
    """The sequences of the named datasets, concatenated in order.

    Args:
        names: dataset names (case-insensitive) from ``DATASET_NAMES``, or ``folder:<path>``.
        settings: paths to read from; default ``load_settings()`` (only read when a dataset needs it).

    Raises:
        ValueError: no name, or an unknown one (the message lists the known names).
        DatasetNotFoundError: a dataset's data is missing (one line: path, and how to set it).
    """
    if not names:
        raise ValueError(f"get_dataset needs at least one dataset name "
                         f"({', '.join(DATASET_NAMES)}, folder:<path>)")
    sequences = SequenceList()
    for raw in names:
        name = raw.strip()
        if name.lower().startswith("folder:"):
            sequences += folder_dataset(name.split(":", 1)[1])
            continue
        key = name.lower()
        if key not in _LOADERS:
            raise ValueError(f"unknown dataset '{raw}' (known: {', '.join(DATASET_NAMES)}, folder:<path>)")
        if settings is None and key in _NEEDS_SETTINGS:
            settings = load_settings()
        sequences += _LOADERS[key](settings if settings is not None else Settings())
    require_unique_names(sequences)
    return sequences


def frames_available(sequence: Sequence) -> bool:
    """Whether the sequence's frames can be read: generated/decoded ones, or first and last image on disk."""
    if sequence.frame_loader is not None:
        return True
    return bool(sequence.frames) and Path(sequence.frames[0]).is_file() and Path(sequence.frames[-1]).is_file()


def available_sequences(sequences: SequenceList) -> SequenceList:
    """The sub-list whose frames are available (e.g. the OTB2013 targets of a partial download)."""
    return SequenceList(s for s in sequences if frames_available(s))
