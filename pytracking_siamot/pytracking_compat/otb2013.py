"""OTB2013 inside pytracking: what the generated ``pytracking/evaluation/otb2013dataset.py`` calls.

The targets, frame ranges and ground-truth files come from SiamOT's own loader
(:mod:`evaluation.datasets.otb`), imported with SiamOT's ``evaluation`` package even where
pytracking's ``evaluation`` folder shadows it (:func:`.isolation.import_with_own_packages`).
Boxes stay as in the files (1-based), as in pytracking's own ``otb`` dataset, so pytracking's
runner and analysis see OTB2013 exactly as they see OTB-100; SiamOT's toolkit shifts them to
0-based when it reads them.
"""
from __future__ import annotations

import functools
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from pytracking_siamot.pytracking_compat.isolation import import_with_own_packages


@functools.cache
def _siamot_otb() -> ModuleType:
    """SiamOT's ``evaluation.datasets.otb`` (imported once; later calls return the same module)."""
    return import_with_own_packages("evaluation.datasets.otb", ("evaluation",))


def _setting(env_settings: Any, name: str) -> str:
    return str(getattr(env_settings, name, "") or "")


def otb2013_sequences(env_settings: Any, attribute: str | None = None) -> list[Any]:
    """pytracking ``Sequence`` objects of the OTB2013 targets on disk (all 51 when complete).

    Args:
        env_settings: pytracking's settings (``pytracking/evaluation/local.py``): frames are read
            from ``<root>/<folder>/img/`` where ``root`` is ``otb2013_path`` when set, else
            ``otb_path`` (an OTB-100 download holds every OTB2013 sequence); ground truth is the
            official annotation ``<otb2013_anno_path>/<name>.txt`` when that setting is set and
            the file exists (needed for Tiger1 from an OTB-100 download, whose boxes differ),
            else ``<root>/<folder>/<gt file>``.
        attribute: keep only the targets flagged with this OTB attribute (``'OCC'``); None: all.

    Only targets whose first and last frames and ground truth are on disk are listed (a
    partial download runs on what it has); one line on stderr names the others. Boxes:
    ``(N, 4)`` float64 ``[x, y, w, h]``, 1-based as in the files.

    Raises:
        ValueError: an unknown ``attribute``.
        RuntimeError: no OTB path is set, or ``otb2013_anno_path`` is set but is no folder.
    """
    from pytracking.evaluation.data import Sequence as PytrackingSequence  # the caller's pytracking

    otb = _siamot_otb()
    known = otb.OTB2013_ATTRIBUTES
    names = sorted({a for flags in known.values() for a in flags})
    if attribute is not None and attribute not in names:
        raise ValueError(f"unknown OTB attribute {attribute!r} (known: {', '.join(names)})")
    base_path = _setting(env_settings, "otb2013_path") or _setting(env_settings, "otb_path")
    if not base_path:
        raise RuntimeError("OTB2013: set settings.otb2013_path (or settings.otb_path) in "
                           "pytracking/evaluation/local.py to the folder holding <Sequence>/img/")
    root = Path(base_path)
    anno = _setting(env_settings, "otb2013_anno_path")
    anno_root = Path(anno) if anno else None
    if anno_root is not None and not anno_root.is_dir():
        raise RuntimeError(f"OTB2013: settings.otb2013_anno_path is not a folder: {anno_root}")

    wanted = [e for e in otb.OTB2013_ENTRIES if attribute is None or attribute in known[e.name]]
    sequences, missing = [], []
    for entry in wanted:
        frames = entry.frame_paths(root)
        gt_path = otb.otb2013_ground_truth_path(entry, root, anno_root)
        if gt_path is None or not (Path(frames[0]).is_file() and Path(frames[-1]).is_file()):
            missing.append(entry.name)
            continue
        sequences.append(PytrackingSequence(entry.name, frames, "otb2013", otb.evaluated_ground_truth(entry, gt_path),
                                            object_class=entry.object_class or None))
    if missing:
        print(f"OTB2013: {len(missing)} of {len(wanted)} targets have no frames or ground truth under {root} "
              f"and are left out: {', '.join(missing)}", file=sys.stderr)
    return sequences


def _count_rows(path: Path) -> int:
    with path.open() as handle:
        return sum(1 for line in handle if line.strip())


def tracker_results_dirs(results_path: str) -> list[str]:
    """Every ``<results_path>/<tracker>/<param>`` folder of pytracking's results folder."""
    root = Path(results_path) if results_path else None
    if root is None or not root.is_dir():
        return []
    return [str(param) for tracker in sorted(root.iterdir()) if tracker.is_dir()
            for param in sorted(tracker.iterdir()) if param.is_dir()]


def check_results(sequences: Sequence[Any], results_dirs: Iterable[str]) -> list[str]:
    """Warn (one line) about result files in ``results_dirs`` whose row count is not a sequence's frame count.

    pytracking's results folder ``<results_path>/<tracker>/<param>/<sequence>.txt`` does not
    separate datasets, and its runner skips a sequence whose file exists: results written for
    another dataset with the same sequence name (e.g. OTB-100's Tiger1, which starts at frame 6)
    would be kept and scored here. ``sequences``: pytracking sequences (``name``, ``frames``).
    Returns the files named.
    """
    mismatched = []
    for folder in results_dirs:
        for seq in sequences:
            path = Path(folder) / f"{seq.name}.txt"
            if path.is_file():
                rows = _count_rows(path)
                if rows != len(seq.frames):
                    mismatched.append(f"{path} ({rows} rows, {len(seq.frames)} frames)")
    if mismatched:
        print(f"warning: {len(mismatched)} result file(s) do not match this dataset's frame counts (written for "
              f"another dataset? pytracking's results folder does not separate datasets and its runner would skip "
              f"these sequences; move the files away): {'; '.join(mismatched)}", file=sys.stderr)
    return mismatched
