"""The VOT toolkit's supervised (reset) experiment, runnable over TraX with vot-toolkit 0.9.0.

A stack names it by its class path instead of ``type: supervised``::

    experiments:
      baseline:
        type: evaluation.interop.vot_supervised.SupervisedExperiment
        repetitions: 1
        skip_initialize: 5
        analyses:
          - type: supervised_average_ar
          - type: supervised_eao_score
            low: 100
            high: 356

(``python -m evaluation.interop.vot init`` writes such stacks.) Why: in vot-toolkit 0.9.0 the supervised
experiment (``vot/experiment/multirun.py``, ``SupervisedExperiment.execute``) still speaks the runtime
interface of an older toolkit, and fails with every TraX tracker (ours or anyone's), before writing a
result:

1. ``multirun.py`` line 283 passes the runtime's ``initialize`` one ``ObjectStatus`` (a
   ``(region, properties)`` pair) where ``vot/tracker/trax.py`` line 610 (``TraxTrackerRuntime.initialize``)
   expects a list of them, and takes the pair's length 2 for two objects: "Tracker does not support
   multiple objects, but multiple objects were provided for initialization";
2. ``multirun.py`` line 291 calls ``update(frame)`` (``new=None``), which ``trax.py`` line 633 refuses for
   every single-object tracker (its test ``new is None or len(new) != 0``) with the same message;
3. ``update`` returns a list of ``ObjectStatus`` (``trax.py`` line 397; the ``python`` protocol's
   ``FrameResult``, ``vot/tracker/__init__.py`` line 617, wraps its one status in a list too), and
   ``multirun.py`` line 293 reads ``target.properties`` from that list (``AttributeError``); so no
   runtime of the toolkit runs it.

:class:`SupervisedExperiment` is the toolkit's experiment with its runtime wrapped in
:class:`OneObjectRuntime`, which speaks each side's interface: the experiment's single ``ObjectStatus``
in and out, the runtime's lists. The experiment's own logic (failure when the overlap is at most
``failure_overlap``, re-initialisation ``skip_initialize`` frames later, repetitions) and its results
files are the toolkit's, unchanged; the toolkit's supervised analyses (``supervised_average_ar``,
``supervised_eao_score``, ``supervised_eao_curve``) accept it as a supervised experiment.

This module imports the toolkit (``vot``): only the toolkit loads it, from a stack file. It runs in the
toolkit's interpreter, so the toolkit must be installed where this repository is importable (the
environment of this install, or ``PYTHONPATH``).
"""
from __future__ import annotations

from typing import Any

from vot.experiment.multirun import SupervisedExperiment as _ToolkitSupervisedExperiment
from vot.tracker import ObjectStatus, OnlineTrackerRuntime

#: The ``type`` a stack file gives this experiment.
EXPERIMENT_TYPE = "evaluation.interop.vot_supervised.SupervisedExperiment"


def one_object(status: Any) -> Any:
    """The one ``ObjectStatus`` of a runtime's answer (a list of one, or already one status).

    Raises:
        ValueError: the answer holds no object or several.
    """
    if isinstance(status, ObjectStatus) or status is None:
        return status
    objects = list(status)
    if len(objects) != 1:
        raise ValueError(f"expected the status of one object from the tracker, got {len(objects)}")
    return objects[0]


class OneObjectRuntime(OnlineTrackerRuntime):
    """A single-object runtime as the supervised experiment calls it: ``initialize(frame, status)`` and
    ``update(frame)`` return ``(ObjectStatus, seconds)``; the wrapped runtime gets and returns lists."""

    def __init__(self, runtime: Any) -> None:
        super().__init__(runtime.tracker)
        self._runtime = runtime

    @property
    def multiobject(self) -> bool:
        return False

    def initialize(self, frame: Any, new: Any = None, properties: dict | None = None) -> tuple[Any, float]:
        """Start the tracker on ``frame`` at ``new`` (one ``ObjectStatus``, or a list of one)."""
        objects = [new] if isinstance(new, ObjectStatus) else list(new or [])
        status, elapsed = self._runtime.initialize(frame, objects)
        return one_object(status), elapsed

    def update(self, frame: Any, new: Any = None, properties: dict | None = None) -> tuple[Any, float]:
        """Track on ``frame`` (no new objects: ``new`` must be empty)."""
        if new:
            raise ValueError("a single-object tracker gets no new object during a sequence")
        status, elapsed = self._runtime.update(frame, [])
        return one_object(status), elapsed

    def restart(self) -> None:
        self._runtime.restart()

    def stop(self) -> None:
        self._runtime.stop()


class SupervisedExperiment(_ToolkitSupervisedExperiment):
    """The toolkit's supervised experiment (same settings, results and analyses) with its runtime wrapped in
    :class:`OneObjectRuntime`; under ``realtime`` the toolkit's real-time wrapper is kept, around the
    wrapped runtime."""

    def _get_runtime(self, tracker: Any, sequence: Any, multiobject: bool = False) -> OneObjectRuntime:
        runtime = super()._get_runtime(tracker, sequence, multiobject)
        inner = getattr(runtime, "_runtime", None)  # the real-time wrapper's runtime
        if isinstance(inner, OnlineTrackerRuntime):
            runtime._runtime = OneObjectRuntime(inner)
        return OneObjectRuntime(runtime)
