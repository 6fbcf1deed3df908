"""Results sources: what the analysis, the paper's figures and the viewers read boxes from.

A *results source* is a :class:`ResultsSource`: a live :class:`evaluation.tracker.Tracker` (its saved
results) or a folder of published results (:class:`evaluation.peer_results.PublishedResults`). The
protocol is typed in full, so callers never probe for attributes:

required (every source)
    ``name`` (tracker name), ``display_name`` (tables and legends) and ``results_for(sequence)``;
optional capabilities (defaults in :class:`SourceBase`: "has none")
    ``aligned_results_for`` (boxes aligned with the sequence's frames; default: :func:`align_boxes` on
    ``results_for``), ``times_for`` (FPS), ``state_for`` (per-frame online state), ``result_files_for``
    (the files read: the analysis cache's key), ``runs`` (several runs averaged into one entry),
    ``run_group`` (live runs of one configuration), ``pairing`` (colour group, baseline or not, backbone)
    and ``cache_identity``.

Sources written elsewhere subclass :class:`SourceBase` and implement ``results_for`` (and what else they
have); :func:`as_source` turns any other object with ``display_name`` and ``results_for`` into a source
with no optional capability.

One rule aligns stored rows with a sequence (:func:`align_boxes`): row ``i`` is frame ``first_frame + i``;
frames without a row (results cut short) have no prediction -- the analysis counts them as failures, the
viewers draw nothing -- and rows past the last frame are ignored.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple, Protocol, runtime_checkable

import numpy as np

from evaluation.data import Sequence
from pytracking_siamot import variants


class ResultsAlignmentWarning(UserWarning):
    """Results do not cover a sequence frame for frame (frames without a prediction count as failures)."""


class AlignedBoxes(NamedTuple):
    """A source's predictions on the N frames of a sequence.

    Attributes:
        boxes: ``(N, 4)`` float64 ``[x, y, w, h]``, 0-based; NaN rows where there is no prediction.
        has_prediction: ``(N,)`` bool, False where a frame has no prediction.
    """

    boxes: np.ndarray
    has_prediction: np.ndarray


def align_boxes(rows: np.ndarray, sequence: Sequence, first_frame: int = 0,
                lost: np.ndarray | None = None) -> AlignedBoxes:
    """Place stored rows on the frames of ``sequence`` (the module's one alignment rule).

    Args:
        rows: ``(M, 4)`` ``[x, y, w, h]`` boxes (anything that reshapes to that).
        sequence: the N frames the boxes are aligned with.
        first_frame: 0-based frame index of row 0 (published results may start later or earlier).
        lost: ``(M,)`` bool, rows that say "no prediction" (a tracker that reported a lost target);
            ``None``: every row is a prediction.

    Returns:
        :class:`AlignedBoxes`: row ``i`` at frame ``first_frame + i``; frames without a row (or with a
        lost one) are NaN without a prediction; rows outside ``0..N-1`` are dropped.
    """
    rows = np.asarray(rows, dtype=np.float64).reshape(-1, 4)
    n = len(sequence)
    frame_index = np.arange(len(rows)) + int(first_frame)
    inside = (frame_index >= 0) & (frame_index < n)
    if lost is not None:
        inside &= ~np.asarray(lost, dtype=bool)
    boxes = np.full((n, 4), np.nan)
    boxes[frame_index[inside]] = rows[inside]
    has_prediction = np.zeros(n, dtype=bool)
    has_prediction[frame_index[inside]] = True
    return AlignedBoxes(boxes, has_prediction)


@dataclass(frozen=True)
class Pairing:
    """How a source is paired with others in figures and in the paper's Table 1.

    Attributes:
        group: sources of one group share a colour (the paper's colour = backbone); the hash of this key
            picks the colour, so it must not change between runs of a report.
        baseline: the source runs without online training (dashed; Table 1's "without" column).
        backbone: the backbone's parameter name (Table 1's row) when the source is a SiamOT variant.
    """

    group: str
    baseline: bool = False
    backbone: str | None = None


def tracker_pairing(name: str, parameter_name: str, variant: str | None = None,
                    overrides: dict[str, Any] | None = None) -> Pairing:
    """The pairing of a live configuration, from the owner of SiamOT's parameter names
    (:mod:`pytracking_siamot.variants`): a ``siamot`` baseline shares the group of its backbone's default
    (``siamot:mobilenet_v2`` for ``mobilenet_v2`` and ``mobilenet_v2_baseline``); any other variant or
    tracker is a group of its own. A tracker with ad-hoc overrides (``variant`` tag) is its own group,
    a baseline when the overrides turn online training off."""
    if variant is not None:
        return Pairing(f"{name}:{parameter_name}@{variant}", (overrides or {}).get("online_training") is False)
    parsed = variants.parse_parameter_name(parameter_name) if name == variants.TRACKER_NAME else None
    if parsed is None:
        return Pairing(f"{name}:{parameter_name}")
    twin = variants.baseline_of(parameter_name)
    return Pairing(f"{name}:{twin or parameter_name}", twin is not None, parsed.backbone)


@runtime_checkable
class ResultsSource(Protocol):
    """What every results source offers (see the module doc; :class:`SourceBase` has the defaults)."""

    name: str
    display_name: str

    def results_for(self, sequence: Sequence) -> np.ndarray:
        """``(M, 4)`` float64 ``[x, y, w, h]`` boxes as stored (a live tracker: one per frame from frame 0);
        ``FileNotFoundError`` naming the file when there are none."""
        ...

    def aligned_results_for(self, sequence: Sequence) -> AlignedBoxes:
        """The boxes on the sequence's frames (:func:`align_boxes`); warns when they do not fit."""
        ...

    def times_for(self, sequence: Sequence) -> np.ndarray | None:
        """``(M,)`` seconds per frame, or ``None`` without timing."""
        ...

    def state_for(self, sequence: Sequence) -> dict[str, np.ndarray] | None:
        """Per-frame online state columns (``frame``, ``peak``, ``trained``, ...), or ``None``."""
        ...

    def result_files_for(self, sequence: Sequence) -> list[Path] | None:
        """The files the results of ``sequence`` are read from (the analysis cache's key), or ``None``
        (not cached)."""
        ...

    @property
    def runs(self) -> list["ResultsSource"]:
        """Several runs averaged into one report entry, or ``[]`` (this source is one run)."""
        ...

    def run_group(self) -> str | None:
        """A key shared by the runs of one configuration (their entry's display name when theirs
        differ), or ``None`` when the source is not one of several runs."""
        ...

    def pairing(self) -> Pairing:
        """Colour group, baseline or not, backbone (see :class:`Pairing`)."""
        ...

    def cache_identity(self) -> dict[str, Any]:
        """JSON values identifying the source in the analysis cache's key (stable across processes)."""
        ...


class SourceBase:
    """The optional capabilities' defaults ("has none"); subclasses set ``name`` and ``display_name``
    and implement ``results_for``."""

    name: str
    display_name: str

    def results_for(self, sequence: Sequence) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} must implement results_for")

    def aligned_results_for(self, sequence: Sequence) -> AlignedBoxes:
        """:func:`align_boxes` of :meth:`results_for` (one row per frame from frame 0); a
        ``ResultsAlignmentWarning`` names the source, sequence and files when the row count differs."""
        rows = np.asarray(self.results_for(sequence), dtype=np.float64).reshape(-1, 4)
        n = len(sequence)
        if len(rows) != n:
            files = self.result_files_for(sequence)
            where = str(files[0]) if files else "no file"
            warnings.warn(f"{self.display_name}: {sequence.name}: {len(rows)} result rows for {n} frames ({where}); "
                          + ("missing frames count as failures" if len(rows) < n else "extra rows ignored"),
                          ResultsAlignmentWarning, stacklevel=2)
        return align_boxes(rows, sequence)

    def times_for(self, sequence: Sequence) -> np.ndarray | None:
        return None

    def state_for(self, sequence: Sequence) -> dict[str, np.ndarray] | None:
        return None

    def result_files_for(self, sequence: Sequence) -> list[Path] | None:
        return None

    @property
    def runs(self) -> list[ResultsSource]:
        return []

    def run_group(self) -> str | None:
        return None

    def pairing(self) -> Pairing:
        return Pairing(f"{self.name}:{self.display_name}")

    def cache_identity(self) -> dict[str, Any]:
        # The default object repr holds a memory address: it would never match in the next process.
        identity = repr(self) if type(self).__repr__ is not object.__repr__ else f"{self.name}/{self.display_name}"
        return {"source": identity, "class": type(self).__qualname__, "one_based": None}


class _Minimal(SourceBase):
    """An object with ``display_name`` and ``results_for`` only, as a source without optional capabilities."""

    def __init__(self, wrapped: Any) -> None:
        self.wrapped = wrapped
        self.name = self.display_name = str(wrapped.display_name)

    def __repr__(self) -> str:
        return f"{type(self.wrapped).__qualname__}({self.display_name!r})"

    def results_for(self, sequence: Sequence) -> np.ndarray:
        return self.wrapped.results_for(sequence)


def as_source(obj: Any) -> ResultsSource:
    """``obj`` when it is a :class:`ResultsSource`, else ``obj`` as a source with no optional capability.

    Raises:
        TypeError: ``obj`` has no ``display_name`` or no callable ``results_for`` (the message names it).
    """
    if isinstance(obj, ResultsSource):
        return obj
    try:
        display_name, results_for = obj.display_name, obj.results_for
    except AttributeError:
        display_name = results_for = None
    if not isinstance(display_name, str) or not callable(results_for):
        raise TypeError(f"{obj!r} is not a results source: it needs display_name (str) and "
                        "results_for(sequence); see evaluation.sources")
    return _Minimal(obj)
