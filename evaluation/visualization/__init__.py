"""Watching trackers: per-frame debug views (levels 1-3), playback of saved results, qualitative figures.

- :func:`make_debug_observer` builds the observer the runner calls for ``--debug L`` / ``--save-debug``
  (a live OpenCV window, or MP4 files under ``<plots_path>/debug/`` when headless).
- ``overlay`` holds the pure drawing primitives, ``debug_view`` composes a frame's view per level,
  ``timeline`` draws JCPP / loss / training events, ``sinks`` shows or writes the views.
- Command-line tools: ``python -m evaluation.playback`` and ``python -m evaluation.qualitative``.
"""
from evaluation.visualization.debug_observer import DebugObserver, make_debug_observer
from evaluation.visualization.debug_view import compose_debug_view, render_frame_overlay
from evaluation.visualization.sinks import VideoSink, WindowSink, display_available

__all__ = ["DebugObserver", "make_debug_observer", "compose_debug_view", "render_frame_overlay",
           "VideoSink", "WindowSink", "display_available"]
