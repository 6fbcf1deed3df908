"""The observers of ``--debug L`` / ``--save-debug``: a picklable factory for every runner."""
from __future__ import annotations

import functools
from pathlib import Path

from evaluation.running.sequence import Observer, ObserverFactory
from evaluation.tracker import Tracker


def _debug_observers(level: int, save: bool, plots_path: str, tracker: Tracker) -> list[Observer]:
    from evaluation.visualization import make_debug_observer
    return [make_debug_observer(level=level, tracker_display_name=tracker.display_name,
                                plots_path=Path(plots_path).expanduser(), save=save)]


def debug_observer_factory(level: int, save: bool, plots_path: str) -> ObserverFactory | None:
    """Observers for ``--debug L`` / ``--save-debug`` (``None`` when neither is asked for).

    Uses :func:`evaluation.visualization.make_debug_observer` (checked now, so a missing module
    fails before any tracking). The factory is picklable for worker processes.
    """
    if level < 1 and not save:
        return None
    try:
        import evaluation.visualization  # noqa: F401
    except ModuleNotFoundError as exc:
        raise ImportError(f"--debug/--save-debug need the debug views in evaluation.visualization, "
                          f"which cannot be imported: {exc}") from exc
    return functools.partial(_debug_observers, max(level, 1), save, plots_path)
