"""The runner's debug observer: renders every frame at a debug level to a window or to files.

The runner (``evaluation.running``) calls, per sequence: ``start(sequence, tracker_display_name)``,
``frame(index, image_rgb, output, gt_xywh) -> bool`` for every frame (False: stop this sequence,
the window's q key) and ``finish()``. The observer only reads what it is given, so debugging
never changes the tracking.

Headless (``save=True`` or no display): ``<plots_path>/debug/<tracker>/<sequence>.mp4`` (PNG frames in
``<sequence>_frames/`` when no video writer opens) and, at level 3, ``<sequence>_timeline.png/.pdf``.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

import numpy as np

from evaluation.data import Sequence
from evaluation.visualization.debug_view import TIMELINE_HEIGHT, compose_debug_view, debug_view_shape
from evaluation.visualization.sinks import VideoSink, WindowSink, display_available
from evaluation.visualization.timeline import TimelineHistory, TimelinePanel, save_timeline

log = logging.getLogger(__name__)

MAX_DEBUG_LEVEL = 3


def safe_file_name(name: str) -> str:
    """``name`` with path separators and unusual characters replaced by ``_`` (spaces kept)."""
    cleaned = re.sub(r"[^\w .+@=-]", "_", name).strip(" .")
    return cleaned or "unnamed"


@dataclass
class DebugObserver:
    """Draws each frame at ``level`` (1-3) into a window (``output_dir`` None) or into files under ``output_dir``.

    Attributes:
        level: debug level, 1 (boxes, state), 2 (+ crop/score maps), 3 (+ time-lines).
        tracker_display_name: used when ``start`` gets an empty name.
        output_dir: headless: files go to ``<output_dir>/<tracker>/``; None: a live window.
        fps: frame rate of written videos.
        jcpp_threshold: T_c drawn on the time-lines (None: not drawn).
        written: files and folders written by headless runs so far.
    """

    level: int
    tracker_display_name: str
    output_dir: Path | None = None
    fps: float = 20.0
    jcpp_threshold: float | None = None
    written: list[Path] = field(default_factory=list)
    _sink: VideoSink | WindowSink | None = field(default=None, repr=False)
    _sequence: Sequence | None = field(default=None, repr=False)
    _tracker: str = field(default="", repr=False)
    _history: TimelineHistory = field(default_factory=TimelineHistory, repr=False)
    _panel: TimelinePanel | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not 1 <= self.level <= MAX_DEBUG_LEVEL:
            raise ValueError(f"debug level must be 1..{MAX_DEBUG_LEVEL}, got {self.level}")

    @property
    def headless(self) -> bool:
        return self.output_dir is not None

    def _folder(self) -> Path:
        if self.output_dir is None:
            raise RuntimeError("a live-window DebugObserver writes no files")
        return self.output_dir / safe_file_name(self._tracker)

    def start(self, sequence: Sequence, tracker_display_name: str | None = None) -> None:
        """Begin a sequence: open the window or the video file (lazily, at the first frame)."""
        if self._sink is not None:
            self.finish()
        self._sequence = sequence
        self._tracker = tracker_display_name or self.tracker_display_name
        self._history = TimelineHistory()
        self._panel = None  # built at the first frame, when the view width is known
        if self.headless:
            self._sink = VideoSink(self._folder() / f"{safe_file_name(sequence.name)}.mp4", fps=self.fps)
        else:
            self._sink = WindowSink(f"{self._tracker} - {sequence.name}")

    def frame(self, index: int, image_rgb: np.ndarray, output: Mapping[str, object],
              gt_xywh: np.ndarray | None) -> bool:
        """Draw frame ``index``; returns False when the user asked to stop this sequence."""
        if self._sink is None or self._sequence is None:
            raise RuntimeError("DebugObserver.frame called before start(sequence, tracker_display_name)")
        frame_number = self._sequence.start_frame + index
        self._history.append(frame_number, output)
        timeline = None
        if self.level >= 3:
            if self._panel is None:
                width = debug_view_shape(image_rgb.shape, self.level)[1]
                self._panel = TimelinePanel((width, TIMELINE_HEIGHT), len(self._sequence),
                                            self._sequence.start_frame, self.jcpp_threshold)
            timeline = self._panel.render(self._history)
        view = compose_debug_view(image_rgb, output, gt_xywh, frame_number, self.level, self._tracker, timeline)
        return self._sink.show(view)

    def finish(self) -> None:
        """End the sequence: close the video/window; at level 3 headless, save the time-line PNG and PDF
        (when the tracker reported any online state)."""
        sink, sequence = self._sink, self._sequence
        self._sink = None
        if sink is None or sequence is None:
            return
        sink.close()
        self._panel = None
        if not self.headless:
            return
        if sink.count:
            self.written.append(sink.path)
            log.info("debug video: %s (%d frames)", sink.path, sink.count)
        if self.level >= 3 and self._history.has_state():  # OpenCV peers report no online state
            stem = self._folder() / f"{safe_file_name(sequence.name)}_timeline"
            paths = save_timeline(self._history, stem, title=f"{self._tracker} - {sequence.name}",
                                  jcpp_threshold=self.jcpp_threshold)
            self.written.extend(paths)


def make_debug_observer(level: int, tracker_display_name: str, plots_path: Path, save: bool, *,
                        fps: float = 20.0, jcpp_threshold: float | None = None,
                        environ: dict[str, str] | None = None) -> DebugObserver:
    """The observer the CLIs pass to the runner for ``--debug L`` / ``--save-debug``.

    Args:
        level: debug level; values above 3 are clamped to 3, and 0 (``--save-debug`` alone) means 1.
        tracker_display_name: default name for window titles and the output folder.
        plots_path: the settings' plots path; headless files go to ``<plots_path>/debug/``.
        save: True writes files even when a display is available.
        fps: frame rate of written videos.
        jcpp_threshold: the paper's T_c, drawn on level-3 time-lines when given.
        environ: environment for the display check (default ``os.environ``).

    Without a display (see :func:`~evaluation.visualization.sinks.display_available`) the observer falls
    back to files and logs why.
    """
    if level < 0:
        raise ValueError(f"debug level must be >= 0, got {level}")
    level = min(max(level, 1), MAX_DEBUG_LEVEL)
    output_dir: Path | None = Path(plots_path).expanduser() / "debug"
    if not save:
        available, reason = display_available(environ)
        if available:
            output_dir = None
        else:
            log.warning("debug view: no display (%s); writing videos under %s", reason, output_dir)
    return DebugObserver(level, tracker_display_name, output_dir, fps=fps, jcpp_threshold=jcpp_threshold)
