"""Results-only trackers: folders of published raw results, analysed beside live trackers.

``PublishedResults(name, path)`` is a *results source* (:class:`evaluation.sources.ResultsSource`):
boxes, times, runs and the files read; its ``aligned_results_for(sequence)`` places rows by the start
frames below, because published results do not always cover the sequence frame for frame.

Layouts (``layout='auto'`` picks the first that fits):

- ``otb``: ``<path>/<Target>.txt`` plus ``<path>/_meta.json`` giving per target ``startFrame`` (1-based
  frame number of row 1 in the original video; ``null``/absent = the sequence's own start frame) and
  optionally ``fps``. Row i is frame ``startFrame + i - 1`` (David starts at 300; results following the
  OTB-100 protocol start Tiger1 at frame 6).
- ``got10k``: ``<path>/<seq>/<seq>_001.txt`` (run 1; ``_002`` ... are further runs, exposed as ``runs``)
  with optional ``<path>/<seq>/<seq>_time.txt``.
- ``pytracking``: ``<path>/<seq>.txt`` with optional ``<path>/<seq>_time.txt`` (or ``times/<seq>_time.txt``
  as got10k's OTB experiment writes it).

Alignment and short/long results (decided here, documented in the report): row i is frame
``start + i`` of the sequence (start from ``_meta.json``, else the sequence's first frame). Frames with
no row (results that start later, end early -- CFWLB is 4 rows short on every target -- or rows that
are NaN because the tracker reported a lost target, e.g. TLD) **count as failures** (IoU 0, infinite
centre error), as the OTB toolkit counts them; rows past the sequence's last frame are ignored. Each
such case emits a ``ResultsAlignmentWarning`` naming tracker, target and frames. The first frame
always counts with the ground truth.

Coordinates: OTB-toolkit results (``otb`` layout) are 1-based like OTB's annotations and are shifted
to our 0-based convention. So are results written by pytracking's own runner: it keeps the dataset
files' coordinates (1-based for OTB, see pytracking's ``otb`` dataset and the ``otb2013`` one
``pytracking_siamot.integrate`` adds) and writes tab-delimited integer boxes (``%d``), while this
toolkit writes floats (``%.2f``): a ``pytracking``-layout folder whose box files hold only
tab-delimited integers is taken as pytracking's and shifted. Other folders are taken as 0-based;
``one_based=True/False`` overrides.

File names are matched to sequence names ignoring case, ``-``, ``_`` and spaces
(``jogging_1.txt`` matches ``Jogging-1``).
"""
from __future__ import annotations

import io
import json
import re
import warnings
from pathlib import Path

import numpy as np

from evaluation.boxes_io import read_boxes_txt, read_text_file, read_values_txt
from evaluation.data import Sequence
from evaluation.sources import AlignedBoxes, ResultsAlignmentWarning, SourceBase, align_boxes

__all__ = ["LAYOUTS", "META_FILE", "PublishedResults", "ResultsAlignmentWarning", "name_key", "parse_published_spec"]

LAYOUTS = ("auto", "otb", "got10k", "pytracking")
META_FILE = "_meta.json"
_RUN_FILE = re.compile(r"^(?P<seq>.+)_(?P<run>\d{3})\.txt$")


def name_key(name: str) -> str:
    """Key for robust name matching: lower case without ``-``, ``_``, spaces and dots."""
    return re.sub(r"[-_ .]", "", name).lower()


class PublishedResults(SourceBase):
    """A folder of published raw results as a results source.

    Args:
        name: tracker name (used in cache keys and as the default display name).
        path: the folder.
        layout: ``auto``, ``otb``, ``got10k`` or ``pytracking`` (see the module doc).
        display_name: name shown in tables and legends.
        run: got10k layout only: the run number to read (1-based); None = run 1, with further runs
            listed in ``runs``.
        one_based: the boxes are in 1-based pixel coordinates (MATLAB / the OTB toolkit, and any tool
            that kept OTB's annotation coordinates) and are shifted by -1 in x and y to match our 0-based
            sequences. None = True for the ``otb`` layout and for a ``pytracking``-layout folder written
            by pytracking's runner (tab-delimited integers only), False otherwise (results written by this
            toolkit are 0-based floats). IoU and centre errors only need both sides on the same basis, but a
            mismatch moves every box by one pixel.

    Raises:
        FileNotFoundError: ``path`` is not a folder.
        ValueError: unknown layout, or the folder does not fit the layout.
    """

    def __init__(self, name: str, path: str | Path, layout: str = "auto", display_name: str | None = None,
                 run: int | None = None, one_based: bool | None = None) -> None:
        if layout not in LAYOUTS:
            raise ValueError(f"unknown results layout '{layout}' (choose from {', '.join(LAYOUTS)})")
        self.name = name
        self.display_name = display_name or name
        self.path = Path(path).expanduser()
        if not self.path.is_dir():
            raise FileNotFoundError(f"published results folder not found: {self.path}")
        self.layout = _detect_layout(self.path) if layout == "auto" else layout
        self.run = run
        self._files = self._index()
        if one_based is None:
            one_based = self.layout == "otb" or (self.layout == "pytracking" and _integer_boxes(self._files.values()))
        self.one_based = one_based
        self._meta = self._read_meta() if self.layout == "otb" else {}

    def __repr__(self) -> str:
        return f"PublishedResults({self.name!r}, {str(self.path)!r}, layout={self.layout!r})"

    # -- indexing -------------------------------------------------------------------------------
    def _index(self) -> dict[str, Path]:
        files: dict[str, Path] = {}
        if self.layout == "got10k":
            wanted = self.run or 1
            for folder in sorted(p for p in self.path.iterdir() if p.is_dir()):
                for file in folder.glob("*.txt"):
                    match = _RUN_FILE.match(file.name)
                    if match and int(match["run"]) == wanted and name_key(match["seq"]) == name_key(folder.name):
                        _add_unique(files, name_key(folder.name), file)
        else:
            for file in sorted(self.path.glob("*.txt")):
                # pytracking's runner also writes <seq>_object_presence_scores.txt beside the boxes.
                if not file.stem.endswith(("_time", "_object_presence_scores")):
                    _add_unique(files, name_key(file.stem), file)
        if not files:
            raise ValueError(f"{self.path}: no result files found for layout '{self.layout}'")
        return files

    def _read_meta(self) -> dict[str, dict[str, object]]:
        meta_path = self.path / META_FILE
        if not meta_path.is_file():
            raise ValueError(f"{self.path}: layout 'otb' needs {META_FILE} with per-target start frames")
        try:
            raw = json.loads(read_text_file(meta_path))
        except json.JSONDecodeError as exc:
            raise ValueError(f"{meta_path}: invalid JSON: {exc}") from exc
        if not isinstance(raw, dict):
            raise ValueError(f"{meta_path}: expected an object keyed by target name")
        return {name_key(k): v for k, v in raw.items() if isinstance(v, dict)}

    @property
    def runs(self) -> list["PublishedResults"]:
        """got10k layout with several runs: one source per run (averaged by the analysis); else ``[]``."""
        if self.layout != "got10k" or self.run is not None:
            return []
        run_ids = sorted({int(m["run"]) for p in self.path.glob("*/*.txt") if (m := _RUN_FILE.match(p.name))})
        if len(run_ids) <= 1:
            return []
        return [PublishedResults(self.name, self.path, "got10k", self.display_name, run=r, one_based=self.one_based)
                for r in run_ids]

    # -- files ---------------------------------------------------------------------------------
    def results_file(self, sequence: Sequence) -> Path:
        """The result file of ``sequence``; ``FileNotFoundError`` naming the folder when absent."""
        file = self._files.get(name_key(sequence.name))
        if file is None:
            raise FileNotFoundError(f"no result file for '{sequence.name}' in {self.path} "
                                    f"(layout {self.layout}; names compared ignoring case, '-', '_')")
        return file

    def time_file(self, sequence: Sequence) -> Path | None:
        if self.layout == "otb":
            return None
        file = self.results_file(sequence)
        if self.layout == "got10k":
            candidates = [file.parent / f"{file.parent.name}_time.txt"]
        else:  # pytracking: beside the boxes; got10k's OTB experiment: in times/
            candidates = [file.parent / f"{file.stem}_time.txt", file.parent / "times" / f"{file.stem}_time.txt"]
        return next((c for c in candidates if c.is_file()), None)

    def cache_identity(self) -> dict[str, object]:
        """Folder, layout and coordinate base (see :meth:`evaluation.sources.SourceBase.cache_identity`)."""
        return {**super().cache_identity(), "one_based": self.one_based}

    def result_files_for(self, sequence: Sequence) -> list[Path]:
        """Every file the results of ``sequence`` are read from (for cache fingerprints)."""
        files = [self.results_file(sequence)]
        time_file = self.time_file(sequence)
        if time_file is not None:
            files.append(time_file)
        if self.layout == "otb":
            files.append(self.path / META_FILE)
        return files

    # -- results source --------------------------------------------------------------------------
    def start_frame_for(self, sequence: Sequence) -> int:
        """1-based original-video frame number of the first result row."""
        if self.layout != "otb":
            return sequence.start_frame
        entry = self._meta.get(name_key(sequence.name), {})
        start = entry.get("startFrame")
        if start is None:
            return sequence.start_frame
        if isinstance(start, bool) or not isinstance(start, (int, float)) or start != int(start) or start < 1:
            raise ValueError(f"{self.path / META_FILE}: '{sequence.name}': startFrame must be a 1-based "
                             f"integer frame number, got {start!r}")
        return int(start)

    def aligned_results_for(self, sequence: Sequence) -> AlignedBoxes:
        """Predictions aligned with the sequence's frames (:func:`evaluation.sources.align_boxes` from the
        start frame; NaN rows are lost targets, frames without a prediction).

        Returns:
            ``(boxes (N, 4) float64 xywh, has_prediction (N,) bool)`` with ``N = len(sequence)``; rows
            of frames without a prediction are NaN.

        Raises:
            FileNotFoundError: no result file for the sequence.
            ValueError: a row has a negative width or height (file and row named).
        """
        file = self.results_file(sequence)
        rows = read_boxes_txt(file)
        lost = ~np.all(np.isfinite(rows), axis=1)
        negative = ~lost & np.any(rows[:, 2:] < 0, axis=1)
        if negative.any():
            row = int(np.flatnonzero(negative)[0])
            raise ValueError(f"{file}: row {row + 1}: negative width/height in predicted box {rows[row].tolist()}")
        offset = self.start_frame_for(sequence) - sequence.start_frame
        if self.one_based:
            rows[:, :2] -= 1.0
        aligned = align_boxes(rows, sequence, first_frame=offset, lost=lost)
        self._warn_alignment(sequence, file, np.arange(len(rows)) + offset, lost, aligned.has_prediction)
        return aligned

    def _warn_alignment(self, sequence: Sequence, file: Path, frame_index: np.ndarray, lost: np.ndarray,
                        has_prediction: np.ndarray) -> None:
        n = len(sequence)
        missing = int((~has_prediction[1:]).sum())  # frame 0 always counts with the ground truth
        dropped = int(((frame_index < 0) | (frame_index >= n)).sum())
        if not missing and not dropped:
            return
        first = sequence.start_frame
        parts = [f"{self.display_name}: {sequence.name}: {len(frame_index)} rows from frame "
                 f"{self.start_frame_for(sequence)} for frames {first}-{first + n - 1} ({file.name})"]
        if missing:
            parts.append(f"{missing} frames without a prediction ({int(lost.sum())} NaN rows) count as failures")
        if dropped:
            parts.append(f"{dropped} rows outside the sequence ignored")
        warnings.warn("; ".join(parts), ResultsAlignmentWarning, stacklevel=3)

    def results_for(self, sequence: Sequence) -> np.ndarray:
        """``(len(sequence), 4)`` xywh boxes; NaN rows mark frames without a prediction."""
        return self.aligned_results_for(sequence)[0]

    def times_for(self, sequence: Sequence) -> np.ndarray | None:
        """Per-frame seconds: the ``_time.txt`` file, or ``1 / fps`` per frame from ``_meta.json``; else None."""
        if self.layout == "otb":
            fps = self._meta.get(name_key(sequence.name), {}).get("fps")
            if fps is not None and (isinstance(fps, bool) or not isinstance(fps, (int, float))):
                raise ValueError(f"{self.path / META_FILE}: '{sequence.name}': fps must be a number, got {fps!r}")
            if fps is None or not float(fps) > 0:
                return None
            rows = len(read_boxes_txt(self.results_file(sequence)))
            return np.full(rows, 1.0 / float(fps))  # type: ignore[arg-type]
        time_file = self.time_file(sequence)
        if time_file is None:
            return None
        if self.layout == "got10k":
            try:
                table = np.loadtxt(io.StringIO(read_text_file(time_file)), delimiter=",", ndmin=2)
            except ValueError as exc:
                raise ValueError(f"{time_file}: {exc}" if str(time_file) not in str(exc) else str(exc)) from exc
            column = min((self.run or 1) - 1, table.shape[1] - 1)
            return table[:, column]
        return read_values_txt(time_file)


def _add_unique(files: dict[str, Path], key: str, file: Path) -> None:
    if key in files and files[key] != file:
        raise ValueError(f"ambiguous result files {files[key].name} and {file.name} in {file.parent} "
                         "(names are compared ignoring case, '-', '_')")
    files[key] = file


_PYTRACKING_ROW = re.compile(r"-?\d+\t-?\d+\t-?\d+\t-?\d+")


def _integer_boxes(files) -> bool:
    """Whether every box file is in pytracking runner's format: tab-delimited integers
    (``np.savetxt(..., astype(int), delimiter='\\t', fmt='%d')``)."""
    return all(all(_PYTRACKING_ROW.fullmatch(line) for line in file.read_text().split("\n") if line.strip())
               for file in files)


def _detect_layout(path: Path) -> str:
    if (path / META_FILE).is_file():
        return "otb"
    if any(_RUN_FILE.match(p.name) for p in path.glob("*/*.txt")):
        return "got10k"
    if any(path.glob("*.txt")):
        return "pytracking"
    raise ValueError(f"{path}: cannot tell the results layout (no _meta.json, no <seq>/<seq>_001.txt, "
                     "no <seq>.txt)")


def parse_published_spec(spec: str, one_based: bool | None = None) -> PublishedResults:
    """``PATH[:NAME]`` (the ``--published`` flag) -> ``PublishedResults``; NAME defaults to the folder name;
    ``one_based`` as :class:`PublishedResults` takes it (None: from the layout, see the module doc)."""
    path_text, name = spec, None
    head, sep, tail = spec.rpartition(":")
    if sep and head and not Path(spec).exists() and "/" not in tail:
        path_text, name = head, tail
    path = Path(path_text).expanduser()
    return PublishedResults(name or path.name, path, one_based=one_based)
