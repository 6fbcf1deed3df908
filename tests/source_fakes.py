"""Results sources for the analysis tests: folders of boxes written the way the runners write them."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from evaluation.boxes_io import read_boxes_txt, read_values_txt
from evaluation.data import Sequence
from evaluation.sources import Pairing, SourceBase, tracker_pairing


class FolderSource(SourceBase):
    """A results source like a live tracker: ``<folder>/<seq>.txt`` and ``<seq>_time.txt``, paired by
    ``name`` and ``parameter_name`` as a live tracker is.

    ``parameter_name`` and ``display_name`` default to ``name``.
    """

    def __init__(self, name: str, folder: Path, parameter_name: str | None = None,
                 display_name: str | None = None) -> None:
        self.name = name
        self.parameter_name = parameter_name or name
        self.display_name = display_name or name
        self.results_dir = folder

    def __repr__(self) -> str:
        return f"FolderSource({self.display_name!r}, {str(self.results_dir)!r})"

    def results_for(self, sequence: Sequence) -> np.ndarray:
        return read_boxes_txt(self.results_dir / f"{sequence.name}.txt")

    def times_for(self, sequence: Sequence) -> np.ndarray | None:
        path = self.results_dir / f"{sequence.name}_time.txt"
        return read_values_txt(path) if path.is_file() else None

    def result_files_for(self, sequence: Sequence) -> list[Path]:
        return [self.results_dir / f"{sequence.name}.txt", self.results_dir / f"{sequence.name}_time.txt"]

    def pairing(self) -> Pairing:
        return tracker_pairing(self.name, self.parameter_name)
