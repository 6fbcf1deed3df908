"""OpenCV's single-object trackers as toolkit trackers (registry name ``opencv``).

Parameter names:

- ``mil``: ``cv2.TrackerMIL`` (no model file). Not reproducible run to run: OpenCV's MIL
  sampler draws random samples from a generator the caller cannot seed (two runs on the
  same frames differ even after ``cv2.setRNGSeed``). Its ``init`` never returns on a box of
  4x4 px or smaller: such an initial box is a ``ValueError`` (see :data:`MIL_MIN_SIDE`);
  other hangs are caught by the runner's watchdog (``--frame-timeout``).
- ``nano``: NanoTrack v2, ``cv2.TrackerNano`` with the ONNX backbone and neck/head from the
  settings keys ``nanotrack_backbone`` and ``nanotrack_head``.
- ``vit``: VitTrack, ``cv2.TrackerVit`` with the ONNX net from ``vittrack_net``; each frame's
  output also has ``score`` (``getTrackingScore()``).
- ``kcf``, ``csrt``: only with ``opencv-contrib-python`` installed *instead of*
  ``opencv-python`` (never both: they overwrite each other's ``cv2``).

Frames arrive RGB (the pytracking contract) and are converted to BGR for OpenCV. OpenCV
trackers take and return integer rectangles; the output boxes are floats of those. When an
OpenCV tracker reports a failure (``update`` returns ``False``; VitTrack then returns a zero
box) the previous box is kept and ``found`` is ``False`` in the frame's output.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import cv2
import numpy as np

from evaluation.settings import Settings, SettingsError, env_name, settings_file
from pytracking_siamot.boxes import validate_init_xywh

OPENCV_TRACKERS: dict[str, str] = {
    "mil": "Multiple Instance Learning (cv2.TrackerMIL)",
    "nano": "NanoTrack v2 (cv2.TrackerNano, ONNX models from settings)",
    "vit": "VitTrack (cv2.TrackerVit, ONNX model from settings)",
    "kcf": "KCF (cv2.TrackerKCF, needs opencv-contrib-python)",
    "csrt": "CSRT (cv2.TrackerCSRT, needs opencv-contrib-python)",
}

_CONTRIB = {"kcf": "TrackerKCF", "csrt": "TrackerCSRT"}

#: cv2.TrackerMIL.init hangs forever on a box whose sides are both smaller than this (4x4 hangs,
#: 4x10 and 5x5 work; OpenCV 5.0): such boxes are refused with a clear error instead.
MIL_MIN_SIDE = 5


@dataclass
class OpenCVParams:
    """Parameters of one OpenCV tracker; ``debug``/``visualization`` are set by the runner.

    Attributes:
        kind: one of :data:`OPENCV_TRACKERS`.
        backbone, neckhead: NanoTrack ONNX files (``nano`` only).
        net: VitTrack ONNX file (``vit`` only).
    """

    kind: str
    backbone: str = ""
    neckhead: str = ""
    net: str = ""
    debug: int = 0
    visualization: bool = False

    def get(self, name: str, *default: Any) -> Any:
        """pytracking's ``params.get(name, default)``; without a default a missing name raises."""
        if hasattr(self, name):
            return getattr(self, name)
        if default:
            return default[0]
        raise AttributeError(f"OpenCV tracker parameters have no '{name}'")

    def has(self, name: str) -> bool:
        return hasattr(self, name)


def _model_file(settings: Settings, key: str) -> str:
    path = settings.path(key)
    if not path.is_file():
        raise SettingsError(f"model file for setting '{key}' not found: {path} "
                            f"(fix it in {settings_file()} or set {env_name(key)})")
    return str(path)


def _contrib_class(kind: str) -> Any:
    name = _CONTRIB[kind]
    cls = getattr(cv2, name, None) or getattr(getattr(cv2, "legacy", None), name, None)
    if cls is None:
        raise ImportError(f"OpenCV tracker '{kind}' needs cv2.{name}, which comes with "
                          f"opencv-contrib-python: pip uninstall opencv-python && "
                          f"pip install opencv-contrib-python (never install both)")
    return cls


def opencv_parameters(kind: str, settings: Settings) -> OpenCVParams:
    """A fresh :class:`OpenCVParams` for ``kind``, with model paths from ``settings``.

    Raises ``LookupError`` for an unknown kind, ``SettingsError`` for a model file that is
    not set or missing, and ``ImportError`` for KCF/CSRT without opencv-contrib-python.
    """
    if kind not in OPENCV_TRACKERS:
        raise LookupError(f"unknown OpenCV tracker '{kind}' (known: {', '.join(OPENCV_TRACKERS)})")
    if kind == "nano":
        return OpenCVParams(kind, backbone=_model_file(settings, "nanotrack_backbone"),
                            neckhead=_model_file(settings, "nanotrack_head"))
    if kind == "vit":
        return OpenCVParams(kind, net=_model_file(settings, "vittrack_net"))
    if kind in _CONTRIB:
        _contrib_class(kind)
    return OpenCVParams(kind)


def _quietly(create: Callable[[], Any]) -> Callable[[], Any]:
    """``create`` with OpenCV's own log held at errors while it runs (restored after): loading an ONNX
    model logs two warnings per tracker about the DNN engine's targets, once per sequence of a run."""
    def quiet_create() -> Any:
        level = cv2.utils.logging.getLogLevel()
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
        try:
            return create()
        finally:
            cv2.utils.logging.setLogLevel(level)
    return quiet_create


def _factory(params: OpenCVParams) -> Callable[[], Any]:
    if params.kind == "mil":
        return cv2.TrackerMIL.create
    if params.kind == "nano":
        nano = cv2.TrackerNano_Params()
        nano.backbone, nano.neckhead = params.backbone, params.neckhead
        return _quietly(lambda: cv2.TrackerNano.create(nano))
    if params.kind == "vit":
        vit = cv2.TrackerVit_Params()
        vit.net = params.net
        return _quietly(lambda: cv2.TrackerVit.create(vit))
    if params.kind in _CONTRIB:
        return _contrib_class(params.kind).create
    raise LookupError(f"unknown OpenCV tracker '{params.kind}' (known: {', '.join(OPENCV_TRACKERS)})")


def _rgb_to_bgr(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected an H x W x 3 RGB image, got shape {image.shape}")
    if image.dtype != np.uint8:
        image = np.clip(image, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(image[:, :, ::-1])


class OpenCVTracker:
    """An OpenCV tracker behind the pytracking contract (``initialize``/``track``, RGB frames)."""

    def __init__(self, params: OpenCVParams) -> None:
        self.params = params
        self._create = _factory(params)
        self._tracker: Any = None
        self._bbox_xywh: list[float] | None = None

    def initialize(self, image: np.ndarray, info: dict) -> dict:
        """Start on ``info['init_bbox']`` (``[x, y, w, h]``); returns ``{'time': seconds}``."""
        start = time.perf_counter()
        bgr = _rgb_to_bgr(image)
        bbox_xywh = validate_init_xywh(info["init_bbox"], bgr.shape)
        self._tracker = self._create()
        # OpenCV wants an integer rectangle; round to the nearest pixel, at least 1x1.
        rect = tuple(int(round(v)) for v in bbox_xywh[:2]) + tuple(max(1, int(round(v)))
                                                                     for v in bbox_xywh[2:])
        if self.params.kind == "mil" and max(rect[2:]) <= MIL_MIN_SIDE - 1:
            raise ValueError(f"OpenCV MIL cannot start on a {rect[2]}x{rect[3]} px box (cv2.TrackerMIL.init "
                             f"never returns when both sides are below {MIL_MIN_SIDE} px); initial box "
                             f"{[float(v) for v in bbox_xywh]}")
        self._tracker.init(bgr, rect)
        self._bbox_xywh = [float(v) for v in bbox_xywh]
        return {"time": time.perf_counter() - start}

    def track(self, image: np.ndarray, info: dict | None = None) -> dict:
        """One frame: ``target_bbox`` ``[x, y, w, h]``, ``time``, ``found`` (and ``score`` for VitTrack)."""
        if self._tracker is None or self._bbox_xywh is None:
            raise RuntimeError("OpenCVTracker.track called before initialize")
        start = time.perf_counter()
        found, rect = self._tracker.update(_rgb_to_bgr(image))
        if found and rect[2] > 0 and rect[3] > 0:
            self._bbox_xywh = [float(v) for v in rect]
        output: dict[str, Any] = {"target_bbox": list(self._bbox_xywh), "found": bool(found)}
        if self.params.kind == "vit":
            output["score"] = float(self._tracker.getTrackingScore())
        output["time"] = time.perf_counter() - start
        return output


def model_paths_present(settings: Settings, kind: str) -> bool:
    """Whether ``kind``'s model files are set and exist (for skipping examples and tests)."""
    keys = {"nano": ("nanotrack_backbone", "nanotrack_head"), "vit": ("vittrack_net",)}.get(kind, ())
    return all(getattr(settings, key) and Path(getattr(settings, key)).expanduser().is_file() for key in keys)
