"""Results sources for playback and figures: command-line specs and loading.

The sources are :class:`evaluation.sources.ResultsSource` objects: live ``evaluation.tracker.Tracker``
objects (their saved results) or ``evaluation.peer_results.PublishedResults`` folders. Those modules are
imported only when a spec is loaded. Their boxes on a sequence's frames are
``source.aligned_results_for(sequence).boxes`` (NaN rows, not drawn, where a frame has no box).
"""
from __future__ import annotations

import argparse
from typing import Iterable

from evaluation.data import Sequence
from evaluation.sources import ResultsSource


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


def add_source_arguments(parser: argparse.ArgumentParser, trackers_help: str) -> None:
    """``--trackers``, ``--published`` and ``--dataset``: where a viewer's boxes come from."""
    parser.add_argument("--trackers", nargs="+", default=[], metavar="NAME:PARAM[:RUNID][=LABEL]", help=trackers_help)
    parser.add_argument("--published", nargs="+", default=[], metavar="PATH[:NAME]",
                        help="folders of published (results-only) results; NAME defaults to the folder name")
    parser.add_argument("--dataset", default="otb2013", help="dataset name (default: otb2013)")
