"""A video file as a sequence: frames decoded with OpenCV, only the initial box known.

``video_sequence(path, init_bbox_xywh)`` gives a ``Sequence`` whose ground truth is the
initial box followed by NaN rows (unannotated frames), for ``run_tracker --video``.
Frames are decoded on demand by a ``VideoFrameLoader``: sequential reads (what a tracker
does) cost one decode each; going backwards re-opens the file. The loader pickles without
its open capture, so the sequence can be sent to worker processes.
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from evaluation.data import Sequence
from evaluation.datasets._common import DatasetNotFoundError

#: Still-image suffixes; OpenCV (FFmpeg's image demuxer) would open such a file as a one-frame "video".
IMAGE_SUFFIXES: tuple[str, ...] = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".gif", ".ppm", ".pgm")
_IMAGE_MAGIC: tuple[bytes, ...] = (b"\xff\xd8\xff", b"\x89PNG", b"BM", b"GIF8", b"II*\x00", b"MM\x00*")


def _is_still_image(path: Path) -> bool:
    """Whether the file starts like a JPEG, PNG, BMP, GIF, TIFF or WebP image (whatever its name)."""
    with path.open("rb") as handle:
        head = handle.read(12)
    return head.startswith(_IMAGE_MAGIC) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP")


class VideoFrameLoader:
    """``index -> RGB uint8 frame`` of a video file, efficient for increasing indices.

    Args:
        path: the video file.
        num_frames: the number of frames (to report reads past the end clearly).
    """

    def __init__(self, path: Path, num_frames: int) -> None:
        self.path = path
        self.num_frames = num_frames
        self._capture: cv2.VideoCapture | None = None
        self._next_index = 0

    def __getstate__(self) -> dict[str, object]:
        return {"path": self.path, "num_frames": self.num_frames}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__init__(state["path"], state["num_frames"])  # type: ignore[misc,arg-type]

    def _open(self) -> cv2.VideoCapture:
        self.close()
        capture = cv2.VideoCapture(str(self.path))
        if not capture.isOpened():
            raise ValueError(f"cannot open video (missing codec or not a video): {self.path}")
        self._capture, self._next_index = capture, 0
        return capture

    def close(self) -> None:
        """Release the decoder (it is re-opened on the next read)."""
        if self._capture is not None:
            self._capture.release()
        self._capture = None

    def __call__(self, index: int) -> np.ndarray:
        if not 0 <= index < self.num_frames:
            raise IndexError(f"{self.path}: frame {index} out of range (video has {self.num_frames} frames)")
        capture = self._capture
        if capture is None or index < self._next_index:
            capture = self._open()
        while self._next_index < index:  # skip forward without converting colours
            if not capture.grab():
                raise ValueError(f"{self.path}: cannot decode frame {self._next_index}")
            self._next_index += 1
        ok, frame_bgr = capture.read()
        if not ok or frame_bgr is None:
            raise ValueError(f"{self.path}: cannot decode frame {index}")
        self._next_index = index + 1
        return cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2RGB)


def count_frames(path: Path) -> int:
    """Frames in a video: the container's count when it gives one, else counted by decoding."""
    capture = cv2.VideoCapture(str(path))
    try:
        if not capture.isOpened():
            raise ValueError(f"cannot open video (missing codec or not a video): {path}")
        reported = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        if reported > 0:
            return reported
        count = 0
        while capture.grab():
            count += 1
        return count
    finally:
        capture.release()


def video_sequence(path: str | Path, init_bbox_xywh: list[float] | tuple[float, ...] | np.ndarray,
                   name: str | None = None) -> Sequence:
    """A sequence over the frames of a video file.

    Args:
        path: video file readable by OpenCV (mp4, avi, ...).
        init_bbox_xywh: the target in the first frame, ``[x, y, w, h]``, 0-based pixels.
        name: sequence name (default: the file name without extension).

    Raises:
        DatasetNotFoundError: the file is missing.
        ValueError: the box is not 4 finite numbers with w, h > 0, the file is a still image, or
            the video has no frame.
    """
    video = Path(path).expanduser()
    if video.is_dir():
        raise DatasetNotFoundError(f"{video} is a folder, not a video file: for a folder of frames with "
                                   f"groundtruth_rect.txt use --dataset folder:{video}")
    if not video.is_file():
        raise DatasetNotFoundError(f"video not found: {video}")
    if video.suffix.lower() in IMAGE_SUFFIXES or _is_still_image(video):
        raise ValueError(f"{video} is an image, not a video: put the frames in a folder with "
                         f"groundtruth_rect.txt and use --dataset folder:PATH")
    box = np.asarray(init_bbox_xywh, dtype=np.float64).reshape(-1)
    if box.shape != (4,) or not np.all(np.isfinite(box)) or box[2] <= 0 or box[3] <= 0:
        raise ValueError(f"initial box must be x,y,w,h with w, h > 0, got {list(np.atleast_1d(box))}")
    num_frames = count_frames(video)
    if num_frames == 0:
        raise ValueError(f"no frames in video: {video}")
    gt = np.full((num_frames, 4), np.nan)
    gt[0] = box
    label = name or video.stem
    return Sequence(name=label, frames=[f"{video.name}#{i}" for i in range(num_frames)], dataset="video",
                    ground_truth_rect=gt, frame_loader=VideoFrameLoader(video, num_frames))
