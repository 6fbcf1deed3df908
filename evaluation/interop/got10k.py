"""Registered trackers inside the GOT-10k toolkit (``got10k`` 0.1.3), and its results back in our analysis.

Running a tracker in one of got10k's experiments::

    from evaluation.interop import Got10kTracker, got10k_offline
    from got10k.experiments import ExperimentOTB

    tracker = Got10kTracker("siamot", "mobilenet_v2")             # or ("opencv", "mil"), overrides as kwargs
    with got10k_offline():                                         # never download; see below
        experiment = ExperimentOTB("/data/OTB", version=2013, result_dir="results", report_dir="reports")
    experiment.run(tracker)
    experiment.report([tracker.name])

got10k's conventions (read from its code): ``Tracker.track`` opens every frame with PIL and converts it to
RGB, calls ``init(image, box)`` on frame 0 with the dataset's first annotation row and ``update(image)`` on
the others, which must return ``[x, y, w, h]``; boxes are the annotation files' numbers as they are, so
their pixel convention is the dataset's (:data:`ONE_BASED`): 1-based for OTB, TColor128, UAV123 and
DTB70, 0-based for GOT-10k, NfS and VOT, as our loaders in :mod:`evaluation.datasets` read them. :class:`Got10kTracker` converts between that and the 0-based boxes of our trackers
(``one_based=True``, the default, for OTB; ``one_based=ONE_BASED["GOT-10k"]`` and so on for the others).
Results are written in the dataset's convention too:
``ExperimentOTB`` writes ``<result_dir>/OTB<version>/<tracker name>/<seq>.txt`` (comma-separated,
``%.3f``) and ``.../times/<seq>_time.txt``; ``ExperimentGOT10k`` writes ``<seq>/<seq>_001.txt`` (runs
``_002``, ``_003`` for trackers that are not deterministic) and ``<seq>/<seq>_time.txt``.

Downloads: the constructors of ``ExperimentOTB``, ``ExperimentTColor128`` and ``ExperimentVOT`` build
their dataset with ``download=True``; got10k then fetches every sequence folder of the benchmark's list
that is missing under the root. :func:`got10k_offline` makes them build it with ``download=False`` (a
missing sequence is then only a printed warning and left out) and turns any remaining download attempt
into an error. Without it, a root that holds a folder for every sequence of the version also never
downloads.

Back in our analysis: :func:`got10k_results` reads such a folder as a results-only tracker
(:class:`evaluation.peer_results.PublishedResults` with the coordinate shift), e.g. in an experiment
function for ``python -m evaluation.analyze MODULE FUNCTION``; on the command line,
``python -m evaluation.analyze --dataset otb2013 --published-one-based results/OTB2013/NAME`` (1-based:
OTB, TColor128, UAV123, DTB70) or ``--published results/GOT-10k/NAME`` (0-based).

    python -m evaluation.interop.got10k agree RESULTS REPORT --dataset NAME

prints got10k's success and precision scores beside our analysis of the same files (exit status 1 when
they differ by more than ``--tolerance``, 2 for bad input: :mod:`evaluation.cli_errors`).
"""
from __future__ import annotations

import contextlib
import inspect
import sys
from pathlib import Path
from typing import Any, Iterator

import numpy as np

try:
    from got10k.trackers import Tracker as _Got10kBase
except ImportError as exc:  # optional dependency: say what to install
    raise ImportError("evaluation.interop.got10k needs the GOT-10k toolkit: pip install got10k==0.1.3 --no-deps "
                      "shapely six wget (install.sh installs them)") from exc

from evaluation.datasets import ANNOTATIONS_ONE_BASED
from evaluation.peer_results import PublishedResults
from evaluation.running import torch_thread_count
from evaluation.settings import Settings
from evaluation.tracker import Tracker

__all__ = ["Got10kTracker", "DownloadRefused", "ONE_BASED", "got10k_offline", "got10k_results", "is_deterministic"]

#: Whether a tracker gives the same boxes on every run (got10k then runs it once instead of 3 or 15
#: times). ``"*"`` stands for every parameter name. SiamOT: no random draws (CPU results are
#: bit-identical run to run at a fixed torch thread count). OpenCV's MIL samples from a generator
#: the caller cannot seed (see :mod:`evaluation.opencv_trackers`); the others draw nothing.
DETERMINISTIC: dict[tuple[str, str], bool] = {
    ("siamot", "*"): True,
    ("opencv", "mil"): False,
    ("opencv", "nano"): True,
    ("opencv", "vit"): True,
    ("opencv", "kcf"): True,
    ("opencv", "csrt"): True,
}

#: Our dataset of each got10k experiment, keyed by the first part of the experiment's result folder
#: (``OTB2013``, ``UAV123``, ``NfS`` of ``NfS/30``, ``VOT2018``: ``VOT``).
GOT10K_DATASETS: dict[str, str] = {
    "OTB2013": "otb2013", "OTB2015": "otb", "OTBtb50": "otb", "OTBtb100": "otb", "TColor128": "tc128",
    "UAV123": "uav123", "UAV20L": "uav20l", "DTB70": "dtb70", "GOT-10k": "got10k_val", "NfS": "nfs", "VOT": "vot",
}

#: Whether got10k's experiment on a benchmark passes 1-based boxes: got10k hands the annotation files'
#: numbers on as they are, so this is the benchmark's own convention
#: (:data:`evaluation.datasets.ANNOTATIONS_ONE_BASED`, the owner).
ONE_BASED: dict[str, bool] = {name: ANNOTATIONS_ONE_BASED[ours] for name, ours in GOT10K_DATASETS.items()}

#: Added to a 0-based ``[x, y, w, h]`` box to make it 1-based.
ONE_BASED_SHIFT = np.array([1.0, 1.0, 0.0, 0.0])


def is_deterministic(tracker_name: str, parameter_name: str) -> bool:
    """From :data:`DETERMINISTIC`; a plugin's tracker class may say so with a class attribute
    ``is_deterministic = True``. Unknown trackers count as not deterministic (got10k then repeats runs)."""
    for key in ((tracker_name, parameter_name), (tracker_name, "*")):
        if key in DETERMINISTIC:
            return DETERMINISTIC[key]
    from evaluation import registry
    return bool(getattr(registry.tracker_class(tracker_name), "is_deterministic", False))


class Got10kTracker(_Got10kBase):
    """A registered tracker as a ``got10k.trackers.Tracker``.

    Args:
        tracker_name, parameter_name: as for :class:`evaluation.tracker.Tracker` (unknown names raise
            :class:`evaluation.registry.RegistryError` listing the known ones).
        name: got10k's tracker name, which names its results folder (default: our display name,
            ``<tracker>_<parameter>`` with ``@<variant>`` when there are overrides).
        one_based: the dataset's boxes are 1-based (OTB's; see :data:`ONE_BASED`); ``False`` passes them as
            they are.
        torch_threads: torch threads while tracking (1, as our runners, so the boxes are our runner's);
            ``None`` leaves torch's setting.
        settings: paths in force (default: the settings file).
        variant: tag of the overrides in the default name (see :class:`evaluation.tracker.Tracker`).
        **overrides: parameter values replacing the parameter file's (``engine="torch"``); an unknown
            field raises ``ValueError`` naming it.

    ``init(image, box)`` takes a PIL image (any mode; converted to RGB) and ``[x, y, w, h]``;
    ``update(image)`` returns the ``(4,)`` float box in the same convention. The last frame's full
    output (confidences included) is ``last_output``.
    """

    def __init__(self, tracker_name: str, parameter_name: str, *, name: str | None = None,
                 one_based: bool = True, torch_threads: int | None = 1, settings: Settings | None = None,
                 variant: str | None = None, **overrides: Any) -> None:
        self.config = Tracker(tracker_name, parameter_name, settings=settings, overrides=overrides or None,
                              variant=variant)
        super().__init__(name=name or self.config.display_name,
                         is_deterministic=is_deterministic(tracker_name, parameter_name))
        self.one_based = one_based
        self.torch_threads = torch_threads
        self.last_output: dict[str, Any] = {}
        self._tracker: Any = None

    def __repr__(self) -> str:
        return (f"Got10kTracker({self.config.name!r}, {self.config.parameter_name!r}, name={self.name!r}, "
                f"one_based={self.one_based}, overrides={self.config.overrides!r})")

    @staticmethod
    def _rgb(image: Any) -> np.ndarray:
        if hasattr(image, "mode") and image.mode != "RGB":
            image = image.convert("RGB")
        return np.asarray(image)

    def init(self, image: Any, box: Any) -> None:
        """Start a new sequence: a fresh tracker object, initialised on ``box`` (dataset convention)."""
        bbox_xywh = np.asarray(box, dtype=np.float64).reshape(-1)
        if bbox_xywh.shape != (4,):
            raise ValueError(f"got10k box must be [x, y, w, h], got {box!r}")
        if self.one_based:
            bbox_xywh = bbox_xywh - ONE_BASED_SHIFT
        self._tracker = self.config.create()
        with torch_thread_count(self.torch_threads):
            self.last_output = dict(self._tracker.initialize(self._rgb(image),
                                                             {"init_bbox": bbox_xywh.tolist()}) or {})

    def update(self, image: Any) -> np.ndarray:
        """The box of the next frame, ``(4,)`` float64 ``[x, y, w, h]`` in the dataset's convention."""
        if self._tracker is None:
            raise RuntimeError(f"{self.name}: update() called before init()")
        with torch_thread_count(self.torch_threads):
            self.last_output = dict(self._tracker.track(self._rgb(image)))
        bbox_xywh = np.asarray(self.last_output["target_bbox"], dtype=np.float64).reshape(4)
        return bbox_xywh + ONE_BASED_SHIFT if self.one_based else bbox_xywh


class DownloadRefused(RuntimeError):
    """got10k tried to download inside :func:`got10k_offline`."""


def _refuse_download(url: str, filename: str, *args: Any, **kwargs: Any) -> None:
    raise DownloadRefused(f"got10k wanted to download {url} to {filename}; offline mode: put the dataset "
                          f"under the root folder yourself (got10k's layout)")


class _OfflineDataset:
    """Marker base of the dataset classes :func:`got10k_offline` substitutes."""


def _offline_class(cls: type) -> type:
    """A subclass of got10k dataset class ``cls`` whose constructor always gets ``download=False``."""
    signature = inspect.signature(cls.__init__)

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        bound = signature.bind(self, *args, **kwargs)
        bound.arguments["download"] = False
        cls.__init__(*bound.args, **bound.kwargs)

    return type(cls.__name__, (cls, _OfflineDataset), {"__init__": __init__, "__module__": cls.__module__})


@contextlib.contextmanager
def got10k_offline() -> Iterator[None]:
    """While active, got10k's experiments and datasets never download.

    Experiment modules get dataset classes built with ``download=False`` (a missing sequence folder is a
    warning printed by got10k and the sequence is left out; an empty or missing root is got10k's
    "Dataset not found" error), and got10k's download function raises :class:`DownloadRefused`. Build
    the experiment inside the block; ``run`` and ``report`` may follow outside it.
    """
    import got10k.datasets
    import got10k.experiments  # noqa: F401  (loads every experiment module)

    patches: list[tuple[Any, str, Any]] = []
    for module_name, module in list(sys.modules.items()):
        if module is None or not module_name.startswith(("got10k.experiments", "got10k.datasets")):
            continue
        for attr, value in list(vars(module).items()):
            if attr == "download" and callable(value) and module_name.startswith("got10k.datasets."):
                patches.append((module, attr, _refuse_download))
            elif (module_name.startswith("got10k.experiments.") and isinstance(value, type)
                  and value.__module__.startswith("got10k.datasets") and not issubclass(value, _OfflineDataset)
                  and "download" in inspect.signature(value.__init__).parameters):
                patches.append((module, attr, _offline_class(value)))
    originals = [(module, attr, getattr(module, attr)) for module, attr, _ in patches]
    try:
        for module, attr, replacement in patches:
            setattr(module, attr, replacement)
        yield
    finally:
        for module, attr, original in originals:
            setattr(module, attr, original)


def got10k_results(path: str | Path, name: str | None = None, one_based: bool = True,
                   display_name: str | None = None) -> PublishedResults:
    """got10k's results of one tracker as a results-only tracker for :mod:`evaluation.analysis`.

    Args:
        path: the tracker's folder: ``<result_dir>/OTB2013/<tracker name>`` (``<seq>.txt`` with
            ``times/<seq>_time.txt``, written by ``ExperimentOTB`` and its kind: UAV123, DTB70, NfS,
            TColor128) or ``<result_dir>/GOT-10k/<tracker name>`` (``<seq>/<seq>_001.txt``; several runs
            are averaged).
        name: tracker name (default: the folder's name).
        one_based: the boxes are in the dataset's 1-based convention (got10k keeps the annotation's);
            they are shifted by -1 to our 0-based sequences. ``False`` for a 0-based dataset (see
            :data:`ONE_BASED`).
        display_name: name in tables and legends.

    Raises:
        FileNotFoundError: ``path`` is not a folder; ValueError: no result files in it.
    """
    path = Path(path).expanduser()
    return PublishedResults(name or path.name, path, layout="auto", display_name=display_name, one_based=one_based)


def agreement(results_dir: str | Path, performance: dict[str, Any], dataset: Any,
              one_based: bool = True) -> list[tuple[str, str, float, float]]:
    """got10k's report against our analysis on the same result files.

    Args:
        results_dir: got10k's ``<result_dir>/<experiment folder>`` (holding one folder per tracker).
        performance: got10k's ``performance.json`` (``ExperimentOTB.report``'s return value), trackers by name.
        dataset: our sequences of that benchmark (:func:`evaluation.datasets.get_dataset`); only those in the
            report are compared.
        one_based: the result boxes are 1-based (see :data:`ONE_BASED`).

    Returns:
        ``(tracker, measure, got10k's value, ours)`` rows: ``success`` (got10k's success score, our AUC) and
        ``precision`` (at 20 px) over the report's sequences, per tracker.
    """
    from evaluation.analysis.evaluate import evaluate
    from evaluation.data import SequenceList
    from evaluation.peer_results import name_key

    rows = []
    for name, report in performance.items():
        wanted = {name_key(seq) for seq in report["seq_wise"]}
        sequences = SequenceList(s for s in dataset if name_key(s.name) in wanted)
        if len(sequences) != len(wanted):
            found = {name_key(s.name) for s in sequences}
            raise ValueError(f"{name}: the dataset lacks the report's sequences {sorted(wanted - found)}")
        evaluation, _ = evaluate([got10k_results(Path(results_dir) / name, name, one_based)], sequences)
        scores = evaluation.scores()[name]
        rows.append((name, "success", float(report["overall"]["success_score"]), scores.auc))
        rows.append((name, "precision", float(report["overall"]["precision_score"]), scores.precision))
    return rows


def main(argv: list[str] | None = None) -> int:
    """``python -m evaluation.interop.got10k agree``: print got10k's report beside our analysis; exit codes of
    :mod:`evaluation.cli_errors` (1 when a difference exceeds the tolerance, 2 for bad input)."""
    import argparse

    from evaluation.cli_errors import run_cli
    from evaluation.cli_help import PlainHelpFormatter

    parser = argparse.ArgumentParser(
        prog="python -m evaluation.interop.got10k", formatter_class=PlainHelpFormatter,
        description="Compare a got10k OTB-style report (performance.json) with our analysis of the same result "
                    "files: success score vs AUC and precision at 20 px, per tracker. Exit status 1 when a "
                    "difference exceeds --tolerance.")
    commands = parser.add_subparsers(dest="command", required=True)
    agree = commands.add_parser("agree", formatter_class=PlainHelpFormatter,
                                help="print got10k's success/precision beside ours",
                                description="Print got10k's success/precision beside our analysis of its files.")
    agree.add_argument("results", type=Path, help="got10k's results folder of the experiment, e.g. results/OTB2013")
    agree.add_argument("report", type=Path, help="its performance.json, e.g. reports/OTB2013/NAME/performance.json")
    agree.add_argument("--dataset", required=True, metavar="NAME",
                       help="our dataset of those sequences: otb2013, otb, uav123, dtb70, tc128, folder:<path>, ...")
    agree.add_argument("--zero-based", action="store_true",
                       help="the benchmark's boxes are 0-based (GOT-10k, NfS, VOT); default 1-based (OTB)")
    agree.add_argument("--tolerance", type=float, default=1e-6, help="largest difference accepted (default 1e-6)")
    args = parser.parse_args(argv)
    return run_cli(lambda: _agree(args))


def _agree(args: Any) -> int:
    import json

    from evaluation.datasets import get_dataset

    try:
        performance = json.loads(args.report.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{args.report} is not got10k's performance.json: {exc}") from None
    rows = agreement(args.results, performance, get_dataset(args.dataset), one_based=not args.zero_based)
    worst = 0.0
    print(f"{'tracker':24s} {'measure':10s} {'got10k':>10s} {'ours':>10s} {'difference':>12s}")
    for name, measure, theirs, ours in rows:
        worst = max(worst, abs(theirs - ours))
        print(f"{name:24s} {measure:10s} {theirs:10.6f} {ours:10.6f} {ours - theirs:12.2e}")
    print(f"largest difference {worst:.2e} (tolerance {args.tolerance:g})")
    return 0 if worst <= args.tolerance else 1


if __name__ == "__main__":
    sys.exit(main())
