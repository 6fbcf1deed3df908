"""Where rendered views go: a live OpenCV window, an MP4 file, or PNG frames.

Every sink has ``show(image_rgb) -> bool`` (False: the user asked to stop this sequence) and
``close()``. :func:`display_available` decides between a window and a file without crashing the
process: OpenCV's Qt backend *aborts* (SIGABRT, not an exception) when it cannot reach a display,
so the check opens a window in a child process.
"""
from __future__ import annotations

import logging
import os
import subprocess
import sys
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

import cv2
import numpy as np

log = logging.getLogger(__name__)

_PROBE = "import cv2; cv2.namedWindow('siamot-display-probe'); cv2.waitKey(1); cv2.destroyAllWindows()"


def gui_framework() -> str:
    """OpenCV's GUI framework name (``QT``, ``GTK3``, ``WIN32UI``, ...), or '' for headless builds."""
    if hasattr(cv2, "currentUIFramework"):
        name = str(cv2.currentUIFramework() or "")
    else:  # older OpenCV: read the build information
        info = cv2.getBuildInformation()
        start = info.find("GUI:")
        name = info[start:].splitlines()[0].split(":", 1)[1].strip() if start >= 0 else ""
    return "" if name.upper() in ("", "NONE") else name


def display_available(environ: dict[str, str] | None = None, probe_timeout_s: float = 20.0) -> tuple[bool, str]:
    """Whether an OpenCV window can be opened here, and why not.

    Checks, in order: OpenCV has a GUI backend; on Linux a ``DISPLAY`` or ``WAYLAND_DISPLAY`` is set;
    a child Python process can open and close a window (catches unreachable X servers, where Qt
    would abort this process).
    """
    environ = dict(os.environ) if environ is None else environ
    framework = gui_framework()
    if not framework:
        return False, "OpenCV has no GUI support (headless build)"
    if sys.platform.startswith("linux") and not (environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY")):
        return False, "no DISPLAY or WAYLAND_DISPLAY environment variable"
    try:
        probe = subprocess.run([sys.executable, "-c", _PROBE], env=environ, capture_output=True, text=True,
                               timeout=probe_timeout_s)
    except subprocess.TimeoutExpired:
        return False, f"opening a test window did not finish in {probe_timeout_s:.0f} s"
    if probe.returncode != 0:
        lines = [line for line in (probe.stderr or "").splitlines() if line.strip()]
        detail = lines[-1] if lines else f"exit status {probe.returncode}"
        return False, f"OpenCV ({framework}) cannot open a window: {detail}"
    return True, f"OpenCV {framework} window"


def _even_size(image: np.ndarray) -> np.ndarray:
    """Pad to even width/height: MPEG-4 encoders drop an odd last row/column."""
    h, w = image.shape[:2]
    if h % 2 == 0 and w % 2 == 0:
        return image
    return cv2.copyMakeBorder(image, 0, h % 2, 0, w % 2, cv2.BORDER_CONSTANT, value=(0, 0, 0))


@dataclass
class PngFramesSink:
    """Writes ``<folder>/<index:05d>.png`` per shown image (the fallback when no video can be written)."""

    folder: Path
    count: int = 0

    def show(self, image_rgb: np.ndarray) -> bool:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{self.count:05d}.png"
        if not cv2.imwrite(str(path), cv2.cvtColor(image_rgb, cv2.COLOR_RGB2BGR)):
            raise OSError(f"cannot write debug frame {path}")
        self.count += 1
        return True

    def close(self) -> None:
        pass

    @property
    def path(self) -> Path:
        return self.folder


@dataclass
class VideoSink:
    """An MP4 (``mp4v``) video opened at the first image; falls back to PNG frames when OpenCV cannot open it.

    All frames get the first frame's size (later frames of another size are resized) so the file has
    exactly one frame per ``show`` call. ``path`` is the file written (the PNG folder after a fallback).
    """

    video_path: Path
    fps: float = 20.0
    fourcc: str = "mp4v"
    fallback_folder: Path | None = None
    count: int = 0
    _writer: Any = field(default=None, repr=False)
    _frames: PngFramesSink | None = field(default=None, repr=False)
    _size_wh: tuple[int, int] | None = field(default=None, repr=False)

    @property
    def path(self) -> Path:
        return self._frames.folder if self._frames is not None else self.video_path

    def _open(self, size_wh: tuple[int, int]) -> None:
        self.video_path.parent.mkdir(parents=True, exist_ok=True)
        writer = cv2.VideoWriter(str(self.video_path), cv2.VideoWriter_fourcc(*self.fourcc), float(self.fps), size_wh)
        if writer.isOpened():
            self._writer = writer
            return
        writer.release()
        folder = self.fallback_folder or self.video_path.with_name(self.video_path.stem + "_frames")
        log.warning("cannot open video writer (%s) for %s; writing PNG frames to %s instead",
                    self.fourcc, self.video_path, folder)
        self._frames = PngFramesSink(folder)

    def show(self, image_rgb: np.ndarray) -> bool:
        image = _even_size(np.ascontiguousarray(image_rgb, dtype=np.uint8))
        if self._size_wh is None:
            self._size_wh = (image.shape[1], image.shape[0])
            self._open(self._size_wh)
        elif (image.shape[1], image.shape[0]) != self._size_wh:
            image = cv2.resize(image, self._size_wh, interpolation=cv2.INTER_AREA)
        if self._frames is not None:
            self._frames.show(image)
        else:
            self._writer.write(cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
        self.count += 1
        return True

    def close(self) -> None:
        if self._writer is not None:
            self._writer.release()
            self._writer = None


class KeyAction(Enum):
    """What a key press in the live window means."""

    NONE = "none"
    TOGGLE_PAUSE = "pause"
    STEP = "step"
    QUIT = "quit"


# Right-arrow codes of cv2.waitKeyEx: GTK/X11, Qt, Windows, macOS (Cocoa); 'n' steps too.
_RIGHT_ARROW_CODES = frozenset({65363, 0x01000014, 2555904, 63235, ord("n")})


def key_action(key: int) -> KeyAction:
    """Map a ``cv2.waitKeyEx`` code: space pauses/resumes, right arrow (or n) steps one frame, q/Esc quits."""
    if key < 0:
        return KeyAction.NONE
    if key in _RIGHT_ARROW_CODES:
        return KeyAction.STEP
    low = key & 0xFF
    if low == ord(" "):
        return KeyAction.TOGGLE_PAUSE
    if low in (ord("q"), ord("Q"), 27):
        return KeyAction.QUIT
    return KeyAction.NONE


@dataclass
class WindowSink:
    """A live OpenCV window. Space: pause/resume; right arrow: step one frame while paused; q/Esc: stop.

    ``gui`` is the object with OpenCV's HighGUI functions (``cv2``; tests pass a fake).
    Closing the window also stops the sequence.
    """

    title: str
    delay_ms: int = 1
    gui: Any = cv2
    paused: bool = False
    _opened: bool = field(default=False, repr=False)

    def _window_closed(self) -> bool:
        return self.gui.getWindowProperty(self.title, self.gui.WND_PROP_VISIBLE) < 1

    def show(self, image_rgb: np.ndarray) -> bool:
        if not self._opened:
            self.gui.namedWindow(self.title, self.gui.WINDOW_AUTOSIZE)
            self._opened = True
        self.gui.imshow(self.title, cv2.cvtColor(np.ascontiguousarray(image_rgb, dtype=np.uint8), cv2.COLOR_RGB2BGR))
        while True:
            action = key_action(int(self.gui.waitKeyEx(30 if self.paused else self.delay_ms)))
            if action is KeyAction.QUIT or self._window_closed():
                return False
            if action is KeyAction.TOGGLE_PAUSE:
                self.paused = not self.paused
                if not self.paused:
                    return True
            elif action is KeyAction.STEP:
                self.paused = True  # stepping implies staying paused at the next frame
                return True
            elif not self.paused:
                return True

    def close(self) -> None:
        if self._opened:
            self.gui.destroyWindow(self.title)
            self.gui.waitKey(1)  # let the GUI thread process the close
            self._opened = False
