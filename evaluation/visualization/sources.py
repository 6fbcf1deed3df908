"""Results sources for playback and figures: command-line specs, loading, styles.

A results source is any object with ``display_name: str`` and ``results_for(sequence) -> (N, 4)``
``[x, y, w, h]`` boxes: a live ``evaluation.tracker.Tracker`` (its saved results) or an
``evaluation.peer_results.PublishedResults`` folder. Those modules are imported only when a
spec is loaded, so this package works without them.
"""
from __future__ import annotations

import argparse
import logging
import re
import sys
from typing import Callable, Iterable, Protocol

import numpy as np

from evaluation.data import Sequence

log = logging.getLogger(__name__)

_BASELINE = re.compile(r"_baseline(_\d{3})?$")


class ResultsSource(Protocol):
    display_name: str

    def results_for(self, sequence: Sequence) -> np.ndarray: ...


def load_sources(tracker_specs: Iterable[str] = (), published_specs: Iterable[str] = ()) -> list[ResultsSource]:
    """Build the results sources of ``--trackers`` and ``--published`` specs (in that order)."""
    sources: list[ResultsSource] = []
    tracker_specs, published_specs = list(tracker_specs), list(published_specs)
    if tracker_specs:
        try:
            from evaluation.tracker import trackers_from_spec
        except ImportError as exc:
            raise ImportError(f"--trackers needs evaluation.tracker, which cannot be imported: {exc}") from exc
        for spec in tracker_specs:
            trackers = trackers_from_spec(spec)
            if len(trackers) > 1:
                raise ValueError(f"tracker spec '{spec}': give one run id (a viewer shows one run per tracker)")
            sources += trackers
    if published_specs:
        try:
            from evaluation.peer_results import parse_published_spec
        except ImportError as exc:
            raise ImportError(f"--published needs evaluation.peer_results, which cannot be imported: {exc}") from exc
        sources.extend(parse_published_spec(spec) for spec in published_specs)
    if not sources:
        raise ValueError("no trackers given: use --trackers NAME:PARAM and/or --published PATH[:NAME]")
    return sources


def load_sequence(dataset: str, sequence: str) -> Sequence:
    """Sequence ``sequence`` (name, or index when it is an integer) of dataset ``dataset``."""
    try:
        from evaluation.datasets import get_dataset
    except ImportError as exc:
        raise ImportError(f"--dataset needs evaluation.datasets, which cannot be imported: {exc}") from exc
    return get_dataset(dataset).pick(sequence)


def boxes_for(source: ResultsSource, sequence: Sequence) -> np.ndarray:
    """``source``'s ``(len(sequence), 4)`` boxes; missing rows at the end become NaN (not drawn), extra rows are cut.

    Raises whatever ``results_for`` raises for missing results (``FileNotFoundError`` naming the file).
    """
    boxes = np.asarray(source.results_for(sequence), dtype=np.float64).reshape(-1, 4)
    n = len(sequence)
    if len(boxes) != n:
        log.warning("%s: %d result rows for %d frames of %s (%s)", source.display_name, len(boxes), n,
                    sequence.name, "missing frames are not drawn" if len(boxes) < n else "extra rows ignored")
        padded = np.full((n, 4), np.nan)
        padded[:min(n, len(boxes))] = boxes[:n]
        boxes = padded
    return boxes


def parameter_name(source: object) -> str:
    """The source's parameter name (``parameter_name``), else its display name."""
    return str(getattr(source, "parameter_name", None) or getattr(source, "display_name", ""))


def is_baseline(source: object) -> bool:
    """True for a tracker without online training: parameter (or display) name ending in ``_baseline``."""
    return bool(_BASELINE.search(parameter_name(source)))


def style_group(source: object) -> str:
    """Trackers that differ only by ``_baseline`` share a group (one colour, solid vs dashed, as the paper's Fig. 4)."""
    name = str(getattr(source, "name", "") or "")
    return f"{name}:{_BASELINE.sub('', parameter_name(source))}"


def add_source_arguments(parser: argparse.ArgumentParser, trackers_help: str) -> None:
    """``--trackers``, ``--published`` and ``--dataset``: where a viewer's boxes come from."""
    parser.add_argument("--trackers", nargs="+", default=[], metavar="NAME:PARAM[:RUNID][=LABEL]", help=trackers_help)
    parser.add_argument("--published", nargs="+", default=[], metavar="PATH[:NAME]",
                        help="folders of published (results-only) results; NAME defaults to the folder name")
    parser.add_argument("--dataset", default="otb2013", help="dataset name (default: otb2013)")


def run_viewer(body: Callable[[], int]) -> int:
    """The ``main()`` of a viewer command: ``body()``'s exit status, or, for a setup error (a missing
    file, an unknown name, a bad value), one ``error:`` line on stderr and exit status 1."""
    try:
        return body()
    except (OSError, ImportError, LookupError, ValueError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"error: {message}", file=sys.stderr)
        return 1
