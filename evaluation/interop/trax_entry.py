"""The process the VOT toolkit starts for one registered tracker: a TraX server (``vot-trax``).

Started by the toolkit as ``<python> -m evaluation.interop.trax_entry`` (the ``traxpython`` protocol of a
``trackers.ini`` entry that ``python -m evaluation.interop.vot init`` wrote), with the tracker in the
environment:

- ``SIAMOT_TRAX_TRACKER``: ``NAME:PARAM`` (``siamot:mobilenet_v2``, ``opencv:mil``);
- ``SIAMOT_TRAX_OVERRIDES``: optional JSON object of parameter overrides (``{"engine": "torch"}``);
- ``SIAMOT_TRAX_TORCH_THREADS``: torch threads while tracking (default 1, as our runners).

Protocol: one object, region format *rectangle* (the toolkit converts polygon ground truth to its
bounding rectangle), images as file paths (channel ``color``). Every ``initialize`` builds a fresh tracker
object (the supervised experiment re-initialises after a failure); every frame is answered with the box
``[x, y, w, h]`` as is (VOT's pixel coordinates are 0-based, as ours) and the property ``confidence``:
the tracker's own confidence for the frame (SiamOT's JCPP, VitTrack's score; absent for trackers that
report none).

Errors (unknown names, a tracker that raises) end the session with a TraX ``quit`` whose reason is one
line naming the tracker; the toolkit shows it.
"""
from __future__ import annotations

import json
import os
import sys
from typing import Any

ENV_TRACKER = "SIAMOT_TRAX_TRACKER"
ENV_OVERRIDES = "SIAMOT_TRAX_OVERRIDES"
ENV_TORCH_THREADS = "SIAMOT_TRAX_TORCH_THREADS"

#: Output keys taken as the frame's confidence, first present wins.
CONFIDENCE_KEYS = ("jcpp", "score", "confidence")

VOT_INSTALL = "pip install vot-toolkit==0.9.0 vot-trax==4.0.2 attributee==0.1.9"


def tracker_from_environment(environ: dict[str, str] | None = None) -> tuple[str, str, dict[str, Any], int | None]:
    """``(name, parameter_name, overrides, torch_threads)`` from the environment variables above.

    Raises:
        ValueError: a variable is missing or malformed (the message names it).
    """
    environ = dict(os.environ if environ is None else environ)
    spec = environ.get(ENV_TRACKER, "")
    name, _, parameter_name = spec.partition(":")
    if not (name and parameter_name):
        raise ValueError(f"{ENV_TRACKER} must be NAME:PARAM (e.g. siamot:mobilenet_v2), got {spec!r}")
    try:
        overrides = json.loads(environ.get(ENV_OVERRIDES) or "{}")
    except json.JSONDecodeError as exc:
        raise ValueError(f"{ENV_OVERRIDES} is not JSON: {exc}") from None
    if not isinstance(overrides, dict):
        raise ValueError(f"{ENV_OVERRIDES} must be a JSON object, got {type(overrides).__name__}")
    threads_text = environ.get(ENV_TORCH_THREADS, "1")
    try:
        threads = int(threads_text) if threads_text.lower() != "none" else None
    except ValueError:
        raise ValueError(f"{ENV_TORCH_THREADS} must be an integer or 'none', got {threads_text!r}") from None
    return name, parameter_name, overrides, threads


def frame_confidence(output: dict[str, Any]) -> float | None:
    """The frame's confidence from a tracker output (:data:`CONFIDENCE_KEYS`), or ``None``."""
    for key in CONFIDENCE_KEYS:
        value = output.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    return None


def serve() -> None:
    """Run the TraX session until the client quits (see the module doc)."""
    try:
        from trax import Image, ImageChannel, Region, TraxStatus
        from trax.region import Rectangle
        from trax.server import Server
    except ImportError:
        raise SystemExit(f"error: the TraX entry needs vot-trax: {VOT_INSTALL}") from None

    from evaluation.data import read_image_rgb
    from evaluation.running import torch_thread_count
    from evaluation.tracker import Tracker

    with Server([Region.RECTANGLE], [Image.PATH], tracker_name="siamot", tracker_family="siamot") as server:
        try:
            name, parameter_name, overrides, threads = tracker_from_environment()
            config = Tracker(name, parameter_name, overrides=overrides or None)
        except Exception as exc:  # bad environment or unknown names: one line back to the client
            raise RuntimeError(f"siamot TraX entry: {exc}") from None
        tracker: Any = None
        while True:
            request = server.wait()
            if request.type == TraxStatus.QUIT:
                break
            path = request.image[ImageChannel.COLOR].path()
            image = read_image_rgb(path)
            properties: dict[str, str] = {}
            try:
                if request.type == TraxStatus.INITIALIZE:
                    if len(request.objects) != 1:
                        raise ValueError(f"tracks one object, {len(request.objects)} given")
                    region = request.objects[0][0]
                    bbox_xywh = [float(v) for v in region.bounds()]
                    tracker = config.create()
                    with torch_thread_count(threads):
                        tracker.initialize(image, {"init_bbox": bbox_xywh})
                else:
                    if tracker is None:
                        raise RuntimeError("frame before initialize")
                    if request.objects:
                        raise ValueError("tracks one object, a new one was given during the sequence")
                    with torch_thread_count(threads):
                        output = tracker.track(image)
                    bbox_xywh = [float(v) for v in output["target_bbox"]]
                    confidence = frame_confidence(output)
                    if confidence is not None:
                        properties["confidence"] = f"{confidence:.6g}"
            except Exception as exc:
                raise RuntimeError(f"{config.display_name} on {path}: {type(exc).__name__}: {exc}") from None
            server.status([(Rectangle.create(*bbox_xywh), properties)])


def main() -> int:
    serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
