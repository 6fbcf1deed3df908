"""UAV123, UAV20L (``uav123``, ``uav20l``; ``uav123_path``) and UAV123@10fps (``uav123_10fps``;
``uav123_10fps_path``).

Layout (the official downloads):

* UAV123 / UAV20L: ``data_seq/UAV123/<folder>/%06d.jpg``, ``anno/UAV123/<seq>.txt`` and
  ``anno/UAV20L/<seq>.txt``;
* UAV123@10fps: ``data_seq/UAV123_10fps/<folder>/%06d.jpg``, ``anno/UAV123_10fps/<seq>.txt``.

Several sequences share one image folder (``car1_1``, ``car1_2``, ``car1_3`` over ``car1/``): the
frames of each come from the benchmark's start/end table (``tables/uav123.txt``). Annotation rows
are ``x,y,w,h``, 1-based (turned 0-based here), one per frame of the range; ``NaN`` rows mark frames
where the target is fully occluded or out of view (no valid ground truth: excluded from the
metrics). UAV123's 12 attributes come with each sequence from ``tables/uav123.txt``.

Attribute flag files of the local copy (``anno/<version>/att/<seq>.txt``: one row of 12 comma-separated
0/1 flags in :data:`~evaluation.datasets.attributes.UAV123_ATTRIBUTE_NAMES`' order, as the UAV123
download ships them for UAV123 and UAV20L) give the attributes of sequences the table has none for
(UAV20L). Where the table has them, the table stays (results compare with published per-attribute
ones whatever the copy) and a file that disagrees is said in one warning line naming it. A missing
``att`` folder or file changes nothing; a file that is not 12 flags is an error naming it.

A partial copy (some annotation files absent) runs on the sequences present, said once.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path

from evaluation.data import Sequence, SequenceList
from evaluation.datasets._benchmark import Catalogue, log, numbered_frames, read_rows, read_table, require_rows
from evaluation.datasets._common import DatasetNotFoundError, dataset_root, how_to_set, one_based_to_zero_based
from evaluation.datasets.attributes import UAV123_ATTRIBUTE_NAMES, check_benchmark_attributes, read_flag_file
from evaluation.settings import Settings


@dataclass(frozen=True)
class UAVEntry:
    """One UAV sequence: ``version`` (``UAV123``, ``UAV20L``, ``UAV123_10fps``), its name, the image
    folder it reads and its 1-based inclusive frame range, and its attributes."""

    version: str
    name: str
    folder: str
    start_frame: int
    end_frame: int
    attributes: tuple[str, ...] = ()


def _entries() -> dict[str, tuple[UAVEntry, ...]]:
    by_version: dict[str, list[UAVEntry]] = {}
    for version, name, folder, start, end, *attributes in read_table("uav123"):
        by_version.setdefault(version, []).append(UAVEntry(version, name, folder, int(start), int(end),
                                                           tuple(attributes)))
    check_benchmark_attributes({e.name: e.attributes for v in by_version.values() for e in v},
                               UAV123_ATTRIBUTE_NAMES, "UAV123")
    return {version: tuple(entries) for version, entries in by_version.items()}


#: version -> its sequences in the benchmark's order (123 for UAV123 and UAV123_10fps, 20 for UAV20L).
UAV_ENTRIES: dict[str, tuple[UAVEntry, ...]] = _entries()

_DATASET = {"UAV123": "uav123", "UAV20L": "uav20l", "UAV123_10fps": "uav123_10fps"}
_ROOTS = {"UAV123": ("uav123_path", "UAV123"), "UAV20L": ("uav123_path", "UAV20L"),
          "UAV123_10fps": ("uav123_10fps_path", "UAV123@10fps")}


def uav_attributes(root: Path, entry: UAVEntry) -> tuple[str, ...]:
    """The attributes of ``entry``: the table's; where it has none, those of the local flag file
    ``anno/<version>/att/<name>.txt`` if present (a file disagreeing with the table: one warning line naming it).

    Raises:
        ValueError: the flag file is not 12 0/1 flags (file named).
    """
    path = root / "anno" / entry.version / "att" / f"{entry.name}.txt"
    if not path.is_file():
        return entry.attributes
    local = read_flag_file(path, UAV123_ATTRIBUTE_NAMES)
    if not entry.attributes:
        return local
    if set(local) != set(entry.attributes):
        log.warning("%s: flags %s, the benchmark's table says %s; keeping the table's", path,
                    " ".join(local) or "none", " ".join(entry.attributes))
    return entry.attributes


def uav_sequence(root: Path, entry: UAVEntry) -> Sequence:
    """The sequence of ``entry`` under ``root`` (boxes 0-based ``xywh``; NaN rows kept; attributes from
    :func:`uav_attributes`)."""
    images = "UAV123_10fps" if entry.version == "UAV123_10fps" else "UAV123"
    anno = root / "anno" / entry.version / f"{entry.name}.txt"
    gt = read_rows(anno, 4)
    count = entry.end_frame - entry.start_frame + 1
    require_rows(gt, count, anno, f"{entry.name}, frames {entry.start_frame}-{entry.end_frame} of {entry.folder}/")
    frames = numbered_frames(root / "data_seq" / images / entry.folder, entry.start_frame, entry.end_frame, nz=6)
    return Sequence(name=entry.name, frames=frames, dataset=_DATASET[entry.version],
                    ground_truth_rect=one_based_to_zero_based(gt), attributes=uav_attributes(root, entry),
                    start_frame=entry.start_frame)


def uav_catalogue(settings: Settings, version: str) -> Catalogue:
    """The sequences of ``version`` (``UAV123``, ``UAV20L``, ``UAV123_10fps``) whose annotation is present.

    Raises:
        DatasetNotFoundError: the path is unset or absent, or holds none of the version's annotations.
    """
    key, label = _ROOTS[version]
    root = dataset_root(settings, key, label)
    entries = UAV_ENTRIES[version]
    anno_dir = root / "anno" / version
    present = [e for e in entries if (anno_dir / f"{e.name}.txt").is_file()]
    if not present:
        raise DatasetNotFoundError(f"{label}: no annotation files in {anno_dir} "
                                   f"(expected anno/{version}/<seq>.txt): {how_to_set(key)}")
    return Catalogue(label, root, [e.name for e in entries], {e.name: partial(uav_sequence, root, e) for e in present})


def uav123_dataset(settings: Settings) -> SequenceList:
    """UAV123's 123 sequences from ``uav123_path`` (those present)."""
    return uav_catalogue(settings, "UAV123").sequences()


def uav20l_dataset(settings: Settings) -> SequenceList:
    """UAV20L's 20 long sequences from ``uav123_path`` (those present)."""
    return uav_catalogue(settings, "UAV20L").sequences()


def uav123_10fps_dataset(settings: Settings) -> SequenceList:
    """UAV123@10fps's 123 sequences from ``uav123_10fps_path`` (those present)."""
    return uav_catalogue(settings, "UAV123_10fps").sequences()
