"""Temporal robustness evaluation (TRE, Wu et al., OTB2013): each sequence as several segments.

OTB2013's TRE starts the tracker at several points of each sequence (20 in the benchmark), with
the ground truth of that frame, and runs it to the sequence's end; the success and precision of
all segments are averaged. :func:`temporal_segments` turns a ``SequenceList`` into those segments,
so every runner and the analysis use them unchanged:

* segment 0 is the sequence itself, under its own name (its results are the one-pass (OPE)
  results: nothing is run twice);
* segment ``k`` starts at frame index ``round(k * N / count)``, moved forward to the next frame
  where the target can be initialised: a valid ground-truth box, and the target visible where the
  sequence has visibility flags (``target_visible``: LaSOT's full occlusion / out of view, GOT-10k's
  absence, NfS's lost frames, the synthetic ``Pillar``, whose box goes on behind the occluder; a
  tracker started on a hidden target learns the occluder), and is named
  ``<name>@<frame>`` with ``<frame>`` the 1-based frame number in the original video (OTB's
  numbering, ``start_frame`` included), e.g. ``Jogging-1@103``;
* a segment with fewer than ``min_frames`` frames, or whose start coincides with an earlier
  segment's, is left out.

Segments keep the sequence's attributes, dataset and frame loader (offset), so per-attribute
tables and plots work as for OPE.
"""
from __future__ import annotations

import numpy as np

from pytracking_siamot.boxes import valid_gt_mask
from evaluation.data import FrameLoader, Sequence, SequenceList

#: Segments per sequence in OTB2013's TRE.
OTB_TRE_SEGMENTS = 20

#: Shortest segment kept (frames, the start frame included).
MIN_SEGMENT_FRAMES = 10

SEGMENT_SEPARATOR = "@"


def startable_frames(sequence: Sequence) -> np.ndarray:
    """``(M,)`` bool, ``M`` = ground-truth rows: frames where a segment may start, i.e. a valid box
    (``valid_gt_mask``) and, when ``sequence.target_visible`` is set, the target visible (rows beyond
    the flags count as visible)."""
    valid = valid_gt_mask(sequence.ground_truth_rect)
    if sequence.target_visible is not None:
        visible = np.asarray(sequence.target_visible, dtype=bool).reshape(-1)[:valid.size]
        valid[:visible.size] &= visible
    return valid


def segment_starts(sequence: Sequence, count: int, min_frames: int = MIN_SEGMENT_FRAMES) -> list[int]:
    """The 0-based frame indices where ``sequence``'s TRE segments start (``0`` first); a start after
    ``0`` is a frame with a valid box where the target is visible (:func:`startable_frames`).

    Raises ``ValueError`` when ``count`` < 1 or ``min_frames`` < 1.
    """
    if count < 1:
        raise ValueError(f"TRE needs at least 1 segment per sequence, got {count}")
    if min_frames < 1:
        raise ValueError(f"min_frames must be >= 1, got {min_frames}")
    n = len(sequence)
    valid = startable_frames(sequence)
    starts: list[int] = [0]
    for k in range(1, count):
        index = int(round(k * n / count))
        while index < min(n, len(valid)) and not valid[index]:
            index += 1
        if n - index >= min_frames and index > starts[-1]:
            starts.append(index)
    return starts


class _OffsetLoader:
    """Frame ``index`` of a segment = frame ``start + index`` of its sequence (picklable, for worker processes)."""

    def __init__(self, loader: FrameLoader, start: int) -> None:
        self.loader, self.start = loader, start

    def __call__(self, index: int) -> np.ndarray:
        return self.loader(self.start + index)


def segment(sequence: Sequence, start: int) -> Sequence:
    """``sequence`` from frame index ``start`` on (the whole sequence, unchanged, for ``start == 0``)."""
    if start == 0:
        return sequence
    if not 0 < start < len(sequence):
        raise ValueError(f"segment start {start} outside sequence '{sequence.name}' ({len(sequence)} frames)")
    loader = sequence.frame_loader
    first = sequence.start_frame + start
    return Sequence(
        name=f"{sequence.name}{SEGMENT_SEPARATOR}{first}",
        frames=list(sequence.frames[start:]),
        dataset=sequence.dataset,
        ground_truth_rect=sequence.ground_truth_rect[start:],
        object_class=sequence.object_class,
        target_visible=None if sequence.target_visible is None else sequence.target_visible[start:],
        attributes=sequence.attributes,
        frame_loader=None if loader is None else _OffsetLoader(loader, start),
        start_frame=first,
    )


def temporal_segments(sequences: SequenceList, count: int = OTB_TRE_SEGMENTS,
                      min_frames: int = MIN_SEGMENT_FRAMES) -> SequenceList:
    """Every sequence's TRE segments (see the module docstring), sequence by sequence.

    ``count == 1`` returns the sequences themselves (OPE).
    """
    out = SequenceList()
    for sequence in sequences:
        out += [segment(sequence, start) for start in segment_starts(sequence, count, min_frames)]
    return out
