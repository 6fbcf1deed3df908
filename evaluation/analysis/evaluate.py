"""Evaluate results sources on a sequence list: per (tracker, sequence) metrics, runs averaged, cached.

The sources are :class:`evaluation.sources.ResultsSource` objects (live trackers, published results;
any other object with ``display_name`` and ``results_for`` is taken through
:func:`evaluation.sources.as_source`). :func:`group_runs` turns them into report entries once: a source
with ``runs`` is one entry over those runs, and live trackers that differ only in ``run_id``
(``trackerlist(..., run_ids=[...])``, same :meth:`~evaluation.sources.ResultsSource.run_group`) are
grouped as runs of one tracker too. :class:`Evaluation` keeps the entries, so tables, styles and
states never regroup the sources.

Boxes come from ``aligned_results_for`` (:func:`evaluation.sources.align_boxes`: results with fewer rows
than the sequence count the missing frames as failures, rows past the end are ignored, both with a
``ResultsAlignmentWarning``); NaN or negative sizes are errors naming file and row.
"""
from __future__ import annotations

import hashlib
import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence as TypingSequence

import numpy as np

from evaluation.analysis.metrics import (Curves, Scores, SequenceMetrics, average_curves, average_metrics,
                                         evaluate_sequence, summarize, valid_gt_mask)
from evaluation.boxes_io import atomic_write_text, read_text_file
from evaluation.data import Sequence, SequenceList
from evaluation.datasets.attributes import ATTRIBUTE_NAMES
from evaluation.sources import Pairing, ResultsSource, as_source

#: Bumped whenever the metric definitions change, so old caches are not reused.
METRICS_VERSION = 1


class MissingResultsError(FileNotFoundError):
    """Some trackers lack results for some sequences (raised with ``strict=True``)."""


class MissingResultsWarning(UserWarning):
    """Sequences skipped because some tracker has no results for them."""


class UnevaluableSequenceError(ValueError):
    """Sequences without ground truth after their first frame (raised with ``strict=True``)."""


class UnevaluableSequenceWarning(UserWarning):
    """Sequences excluded because no frame after the first has a ground-truth box."""


def evaluable(sequence: Sequence) -> bool:
    """Whether a frame after the first has a valid ground-truth box. Frame 0 is the tracker's initial
    box (always a perfect match), so a sequence annotated only there (a ``--video`` run, a folder
    with one ground-truth row) would score a meaningless AUC near 1."""
    return bool(valid_gt_mask(sequence.ground_truth_rect[1:]).any())


@dataclass
class TrackerEntry:
    """One row of a report: a display name and the runs (results sources) averaged into it."""

    display_name: str
    runs: list[ResultsSource]

    @property
    def pairing(self) -> Pairing:
        """The entry's colour group and baseline-ness: its first run's."""
        return self.runs[0].pairing()


def group_runs(sources: Iterable[Any]) -> list[TrackerEntry]:
    """Group results sources into report entries (order of first appearance kept).

    A source with a non-empty ``runs`` list is one entry over those runs. Sources with the same
    :meth:`~evaluation.sources.ResultsSource.run_group` (live trackers of one configuration with
    different run ids) form one entry, displayed as their common ``display_name``, else as the group key.

    Raises:
        ValueError: two entries would be displayed under one name.
        TypeError: an object is not a results source (:func:`evaluation.sources.as_source`).
    """
    entries: list[TrackerEntry] = []
    by_group: dict[str, TrackerEntry] = {}
    for source in map(as_source, sources):
        if source.runs:
            entries.append(TrackerEntry(source.display_name, list(source.runs)))
            continue
        group = source.run_group()
        if group is None:
            entries.append(TrackerEntry(source.display_name, [source]))
            continue
        entry = by_group.get(group)
        if entry is None:
            entry = by_group[group] = TrackerEntry(source.display_name, [source])
            entries.append(entry)
            continue
        entry.runs.append(source)
        if entry.display_name != source.display_name:
            entry.display_name = group
    names = [e.display_name for e in entries]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"several trackers are displayed as {', '.join(duplicates)}: give them distinct "
                         "display names")
    return entries


def pairings(entries: Iterable[TrackerEntry]) -> dict[str, Pairing]:
    """``{display_name: pairing}`` of report entries (what styles and Table 1 pair by)."""
    return {e.display_name: e.pairing for e in entries}


# -- reading one run ------------------------------------------------------------------------------

def _label(source: ResultsSource, sequence: Sequence) -> str:
    files = source.result_files_for(sequence)
    return str(files[0]) if files else f"{source.display_name}: {sequence.name}"


def evaluate_run(source: ResultsSource, sequence: Sequence) -> SequenceMetrics:
    """Metrics of one run on one sequence, with its tracking time when the source has times."""
    boxes, has_prediction = source.aligned_results_for(sequence)
    metrics = evaluate_sequence(boxes, sequence.ground_truth_rect, has_prediction,
                                source=_label(source, sequence))
    times = source.times_for(sequence)
    if times is not None:
        times = np.asarray(times, dtype=np.float64).reshape(-1)
        times = times[np.isfinite(times)]
        metrics.time_s = float(times.sum())
        metrics.timed_frames = int(len(times))
    return metrics


# -- cache ----------------------------------------------------------------------------------------

def _gt_digest(sequence: Sequence) -> str:
    return hashlib.sha256(np.ascontiguousarray(sequence.ground_truth_rect, dtype=np.float64).tobytes()).hexdigest()


def cache_key(source: ResultsSource, sequence: Sequence) -> str | None:
    """Hash of everything the metrics of (source, sequence) depend on; None when not cacheable.

    Inputs: the metric version, the source's identity (``cache_identity``: ``repr``, class, coordinate
    base), the result files' paths, sizes and modification times, and the ground truth with the
    sequence's start frame.
    """
    files = source.result_files_for(sequence)
    if files is None:
        return None
    stats = []
    for file in files:
        try:
            st = file.stat()
            stats.append([str(file.absolute()), st.st_size, st.st_mtime_ns])
        except FileNotFoundError:
            stats.append([str(file.absolute()), None, None])
    payload = {"version": METRICS_VERSION, **source.cache_identity(), "files": stats, "sequence": sequence.name,
               "start_frame": sequence.start_frame, "n_frames": len(sequence.ground_truth_rect),
               "gt": _gt_digest(sequence)}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


@dataclass
class MetricsCache:
    """A JSON file of per-(run, sequence) metrics keyed by :func:`cache_key` (one file per report).

    A corrupt cache file is an error naming it (delete it to recompute); it is never silently replaced.
    """

    path: Path | None
    entries: dict[str, dict[str, Any]] = field(default_factory=dict)
    used: set[str] = field(default_factory=set)
    hits: int = 0
    misses: int = 0

    @classmethod
    def open(cls, path: Path | None) -> "MetricsCache":
        cache = cls(path)
        if path is not None and path.is_file():
            try:
                data = json.loads(read_text_file(path))
            except json.JSONDecodeError as exc:
                raise ValueError(f"analysis cache {path} is corrupt ({exc}); delete it to recompute") from exc
            if data.get("version") == METRICS_VERSION:
                cache.entries = dict(data.get("entries", {}))
        return cache

    def get(self, key: str | None) -> SequenceMetrics | None:
        if key is None or key not in self.entries:
            self.misses += 1
            return None
        self.used.add(key)
        self.hits += 1
        return SequenceMetrics.from_json(self.entries[key])

    def put(self, key: str | None, metrics: SequenceMetrics) -> None:
        if key is not None:
            self.entries[key] = metrics.to_json()
            self.used.add(key)

    def save(self) -> None:
        """Write the entries used by this evaluation (stale ones are dropped)."""
        if self.path is None:
            return
        kept = {k: v for k, v in self.entries.items() if k in self.used}
        atomic_write_text(self.path, json.dumps({"version": METRICS_VERSION, "entries": kept}))


# -- evaluation of a report -----------------------------------------------------------------------

@dataclass
class Evaluation:
    """Per-sequence metrics of every tracker on the sequences all trackers have results for.

    Attributes:
        trackers: display names in the order given.
        sequences: the evaluated sequences.
        metrics: ``metrics[tracker][sequence name]`` (runs averaged).
        skipped: ``skipped[tracker]`` = names of sequences that tracker had no results for.
        entries: the report entries (display name and runs), in the order of ``trackers``.
    """

    trackers: list[str]
    sequences: SequenceList
    metrics: dict[str, dict[str, SequenceMetrics]]
    skipped: dict[str, list[str]]
    entries: list[TrackerEntry] = field(default_factory=list)

    def attributes(self) -> list[str]:
        """Attributes flagged on at least one evaluated sequence: OTB's listing order, then others sorted."""
        present = {a for seq in self.sequences for a in seq.attributes}
        return [a for a in ATTRIBUTE_NAMES if a in present] + sorted(present - set(ATTRIBUTE_NAMES))

    def _names(self, attribute: str | None) -> list[str]:
        seqs = self.sequences if attribute is None else self.sequences.with_attribute(attribute)
        return seqs.names()

    def scores(self, attribute: str | None = None) -> dict[str, Scores]:
        """Summary scores per tracker over all sequences, or those flagged with ``attribute``."""
        names = self._names(attribute)
        return {t: summarize([self.metrics[t][n] for n in names]) for t in self.trackers}

    def curves(self, attribute: str | None = None) -> dict[str, Curves]:
        names = self._names(attribute)
        return {t: average_curves([self.metrics[t][n] for n in names]) for t in self.trackers}

    def n_sequences(self, attribute: str | None = None) -> int:
        return len(self._names(attribute))


def evaluate(sources: TypingSequence[Any], dataset: Iterable[Sequence], cache_path: Path | None = None,
             strict: bool = False, progress: bool = False) -> tuple[Evaluation, MetricsCache]:
    """Evaluate results sources on ``dataset``.

    Sequences some tracker has no results for are skipped for **all** trackers (so every tracker is
    scored on the same sequences) with a ``MissingResultsWarning`` listing them; ``strict=True`` raises
    ``MissingResultsError`` instead. Sequences without ground truth after their first frame (see
    :func:`evaluable`) are excluded with an ``UnevaluableSequenceWarning``; ``strict=True`` raises
    ``UnevaluableSequenceError``.

    Returns:
        ``(evaluation, cache)``; the cache is saved to ``cache_path`` (when given) and reports hits.

    Raises:
        MissingResultsError: ``strict`` and results are missing, or no sequence has results from all.
        ValueError: bad result rows (file and row named), duplicate display names, empty inputs.
    """
    entries = group_runs(sources)
    sequences = SequenceList(dataset)
    if not entries:
        raise ValueError("no trackers to analyse")
    if not sequences:
        raise ValueError("the dataset has no sequences")
    unannotated = [s.name for s in sequences if not evaluable(s)]
    if unannotated:
        message = (f"sequences without ground truth after the first frame cannot be evaluated: "
                   f"{_short_list(unannotated)}")
        if strict:
            raise UnevaluableSequenceError(message)
        warnings.warn(f"{message}; excluded", UnevaluableSequenceWarning, stacklevel=2)
        sequences = SequenceList(s for s in sequences if evaluable(s))
        if not sequences:
            raise UnevaluableSequenceError("no sequence has ground truth after its first frame: nothing to "
                                           "evaluate (a --video run or a one-row groundtruth_rect.txt only "
                                           "gives the initial box)")
    cache = MetricsCache.open(cache_path)
    metrics: dict[str, dict[str, SequenceMetrics]] = {e.display_name: {} for e in entries}
    skipped: dict[str, list[str]] = {e.display_name: [] for e in entries}
    pairs = [(e, s) for e in entries for s in sequences]
    iterator: Iterable[tuple[TrackerEntry, Sequence]] = pairs
    if progress:
        from tqdm import tqdm
        iterator = tqdm(pairs, desc="evaluating", unit="seq")
    for entry, seq in iterator:
        runs: list[SequenceMetrics] = []
        for source in entry.runs:
            try:
                key = cache_key(source, seq)
                cached = cache.get(key)
                if cached is None:
                    cached = evaluate_run(source, seq)
                    cache.put(key, cached)
            except FileNotFoundError:
                runs = []
                break
            runs.append(cached)
        if runs:
            metrics[entry.display_name][seq.name] = average_metrics(runs)
        else:
            skipped[entry.display_name].append(seq.name)
    missing = {t: names for t, names in skipped.items() if names}
    if missing:
        listing = "; ".join(f"{t}: {_short_list(names)}" for t, names in missing.items())
        if strict:
            raise MissingResultsError(f"missing results ({listing})")
        warnings.warn(f"skipping sequences without results from every tracker ({listing})",
                      MissingResultsWarning, stacklevel=2)
    excluded = {n for names in skipped.values() for n in names}
    kept = SequenceList(s for s in sequences if s.name not in excluded)
    if not kept:
        raise MissingResultsError("no sequence has results from every tracker (run the trackers first): "
                                  + "; ".join(f"{t}: {len(n)} missing" for t, n in skipped.items()))
    cache.save()
    return Evaluation([e.display_name for e in entries], kept,
                      {t: {s.name: m[s.name] for s in kept} for t, m in metrics.items()}, skipped, entries), cache


def _short_list(names: list[str], limit: int = 8) -> str:
    shown = ", ".join(names[:limit])
    return f"{shown}, ... ({len(names)} in all)" if len(names) > limit else shown
