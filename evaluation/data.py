"""``Sequence`` and ``SequenceList``: the dataset-independent view every runner and analysis uses.

A sequence is a list of frames with one ground-truth box ``[x, y, w, h]`` (0-based,
float) per frame; rows with NaN or a value <= 0 in width/height mark frames without a valid
annotation. Frames are image files, or come from a ``frame_loader`` (synthetic and video
sequences generate/decode them).
"""
from __future__ import annotations

import os
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, overload

import cv2
import numpy as np

FrameLoader = Callable[[int], np.ndarray]


def read_image_rgb(path: str | Path) -> np.ndarray:
    """Read an image file as an H x W x 3 uint8 RGB array (grayscale files are expanded to 3 channels).

    Raises ``FileNotFoundError`` for a missing file and ``ValueError`` for one OpenCV cannot decode
    or a truncated JPEG or PNG (OpenCV would decode it with a grey bottom and only a warning).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"frame not found: {path}")
    is_jpeg = check_complete_image(path)
    if is_jpeg:
        image, said = _imread_hearing_libjpeg(path)
        if "Corrupt JPEG data" in said:
            reason = next(line for line in said.splitlines() if "Corrupt JPEG data" in line).strip()
            raise ValueError(f"corrupt JPEG frame ({reason}; it would decode to garbage): {path}")
    else:
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError(f"cannot decode frame (corrupt or not an image): {path}")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def _imread_hearing_libjpeg(path: Path) -> tuple[np.ndarray | None, str]:
    """``cv2.imread`` of a JPEG and what libjpeg printed meanwhile.

    libjpeg reports damaged entropy-coded data ("Corrupt JPEG data: ...") only as a warning on the
    process's stderr and decodes the rest as garbage; that text is the only sign. It is read from
    a pipe put in place of file descriptor 2 for the call (anything else written there meanwhile is
    passed on to the real stderr). File descriptor 2 is per process, so threads decoding at once
    (a Dask worker with several threads) take turns: without the lock one could restore another's pipe.
    """
    with _STDERR_SWAP:
        return _imread_hearing_libjpeg_unlocked(path)


_STDERR_SWAP = threading.Lock()


def _imread_hearing_libjpeg_unlocked(path: Path) -> tuple[np.ndarray | None, str]:
    sys.stderr.flush()
    read_end, write_end = os.pipe()
    saved = os.dup(2)
    try:
        os.dup2(write_end, 2)
        try:
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        finally:
            os.dup2(saved, 2)
            os.close(write_end)
        chunks = []
        while chunk := os.read(read_end, 65536):
            chunks.append(chunk)
    finally:
        os.close(saved)
        os.close(read_end)
    said = b"".join(chunks).decode(errors="replace")
    other = "".join(line for line in said.splitlines(keepends=True) if "Corrupt JPEG data" not in line)
    if other:
        sys.stderr.write(other)
    return image, said


_JPEG_START, _JPEG_END = b"\xff\xd8", b"\xff\xd9"
_PNG_START, _PNG_END = b"\x89PNG\r\n\x1a\n", b"IEND\xaeB`\x82"


def check_complete_image(path: Path) -> bool:
    """Raise ``ValueError`` naming ``path`` when a JPEG lacks its end marker or a PNG its ``IEND`` chunk;
    return whether the file is a JPEG.

    Reads the first and last bytes only. Padding after the end marker (zeros, or a few bytes some
    cameras append) is allowed within the last 64 bytes.
    """
    with path.open("rb") as handle:
        head = handle.read(8)
        size = handle.seek(0, 2)
        handle.seek(max(0, size - 64))
        tail = handle.read()
    if head.startswith(_JPEG_START) and _JPEG_END not in tail:
        raise ValueError(f"truncated JPEG frame (no end-of-image marker): {path}")
    if head.startswith(_PNG_START) and _PNG_END not in tail:
        raise ValueError(f"truncated PNG frame (no IEND chunk): {path}")
    return head.startswith(_JPEG_START)


@dataclass
class Sequence:
    """One target in one video.

    Attributes:
        name: unique within its dataset (e.g. ``Jogging-1``).
        frames: frame identifiers, one per frame: image paths, or labels when ``frame_loader`` is set.
        dataset: dataset name (``otb2013``, ``synthetic``, ...).
        ground_truth_rect: (N, 4) float64 ``[x, y, w, h]``, 0-based; row 0 initialises the tracker.
        object_class: optional class name.
        target_visible: optional (N,) bool.
        attributes: challenge attributes (``IV``, ``SV``, ``OCC``, ...).
        frame_loader: ``i -> RGB uint8 image``; when None, ``frames[i]`` is read from disk.
        start_frame: 1-based number of ``frames[0]`` in the original video (OTB's ``startFrame``).
    """

    name: str
    frames: list[str]
    dataset: str
    ground_truth_rect: np.ndarray
    object_class: str | None = None
    target_visible: np.ndarray | None = None
    attributes: tuple[str, ...] = ()
    frame_loader: FrameLoader | None = field(default=None, repr=False, compare=False)
    start_frame: int = 1

    def __post_init__(self) -> None:
        gt = np.asarray(self.ground_truth_rect, dtype=np.float64)
        if gt.ndim != 2 or gt.shape[1] != 4:
            raise ValueError(f"sequence '{self.name}': ground truth must be (N, 4), got {gt.shape}")
        self.ground_truth_rect = gt

    def __len__(self) -> int:
        return len(self.frames)

    def image(self, index: int) -> np.ndarray:
        """Frame ``index`` as an H x W x 3 uint8 RGB array."""
        if self.frame_loader is not None:
            return self.frame_loader(index)
        return read_image_rgb(self.frames[index])

    def init_info(self) -> dict[str, list[float]]:
        """The first frame's ``info`` for ``tracker.initialize`` (pytracking's contract)."""
        return {"init_bbox": [float(v) for v in self.ground_truth_rect[0]]}

    def frame_info(self, index: int) -> dict[str, object]:
        return self.init_info() if index == 0 else {}


class SequenceList(list):
    """A list of sequences indexable by int, name, slice or list of either; ``+`` concatenates."""

    @overload
    def __getitem__(self, item: int | str) -> Sequence: ...
    @overload
    def __getitem__(self, item: slice | list) -> "SequenceList": ...

    def __getitem__(self, item):  # type: ignore[override]
        if isinstance(item, str):
            for seq in self:
                if seq.name == item:
                    return seq
            raise KeyError(f"no sequence named '{item}' (have: {', '.join(s.name for s in self[:10])}"
                           f"{', ...' if len(self) > 10 else ''})")
        if isinstance(item, slice):
            return SequenceList(super().__getitem__(item))
        if isinstance(item, (list, tuple)):
            return SequenceList(self[i] for i in item)
        return super().__getitem__(item)

    def __add__(self, other: Iterable[Sequence]) -> "SequenceList":  # type: ignore[override]
        return SequenceList(list(self) + list(other))

    def names(self) -> list[str]:
        return [s.name for s in self]

    def pick(self, selector: str) -> Sequence:
        """The sequence named ``selector``, or at index ``selector`` when it is an integer (negative
        counts from the end); ``KeyError`` / ``IndexError`` name it and what the list has."""
        if selector.lstrip("-").isdigit():
            index = int(selector)
            if not -len(self) <= index < len(self):
                raise IndexError(f"sequence index {index} out of range: the dataset has {len(self)} sequences")
            return self[index]
        return self[selector]

    def named(self, names: Iterable[str] | None) -> "SequenceList":
        """The sequences named in ``names``, in this list's order; all of them when ``names`` is ``None``.

        Raises:
            ValueError: a name is not in the list (the message lists it and the known names).
        """
        if names is None:
            return self
        names = list(names)
        known = self.names()
        unknown = [n for n in names if n not in known]
        if unknown:
            raise ValueError(f"unknown sequence {', '.join(unknown)} (the dataset has: {', '.join(known)})")
        return SequenceList(s for s in self if s.name in names)

    def with_attribute(self, attribute: str) -> "SequenceList":
        """The sub-list of sequences flagged with ``attribute`` (e.g. ``IV``)."""
        return SequenceList(s for s in self if attribute in s.attributes)

    def __iter__(self) -> Iterator[Sequence]:
        return super().__iter__()
