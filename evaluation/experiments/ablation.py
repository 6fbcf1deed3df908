"""Ablation of SiamOT's online training: parameter variants of one backbone on the OTB2013 targets on disk.

Every variant is the backbone's parameter file (``parameter/siamot/<backbone>.py``) with the
overrides of :data:`VARIANTS` (``SiamOTParams`` fields, applied with ``dataclasses.replace``; an
unknown field is an error naming it). Results go to ``<results_path>/siamot/<backbone>@<variant>/``,
except for a variant without overrides, which shares ``<backbone>/`` with the other experiments.
Run and analyse (per-target AUC, % frames trained, mean AUC per variant, confidence table)::

    python -m evaluation.run_experiment ablation mobilenet_v2 --threads 2 --torch-threads 1 --analyze
    python -m evaluation.analyze ablation mobilenet_v2 --per-sequence
    python -m evaluation.run_experiment ablation efficientnet_lite0 --sequences Deer --analyze  # a quick check

To add a variant, add one line to :data:`VARIANTS` (name -> overrides); every backbone function
picks it up. Renaming a variant moves its results folder; keep one name per set of overrides.
"""
from __future__ import annotations

from typing import Any

from evaluation.data import SequenceList
from evaluation.tracker import Tracker
from pytracking_siamot.parameters import PAPER_ONLINE

#: Variant name -> ``SiamOTParams`` overrides of the backbone's parameter file; run in this order
#: (the order of the per-sequence table's columns).
VARIANTS: dict[str, dict[str, Any]] = {
    "default": {},
    "baseline": {"online_training": False},
    "paper": dict(PAPER_ONLINE),
}


def variant_trackers(backbone: str, variants: dict[str, dict[str, Any]] | None = None) -> list[Tracker]:
    """One ``siamot`` :class:`Tracker` per variant of ``backbone``, displayed as ``<backbone>@<variant>``."""
    trackers = []
    for name, overrides in (VARIANTS if variants is None else variants).items():
        trackers.append(Tracker("siamot", backbone, overrides=overrides, variant=name if overrides else None,
                                display_name=f"{backbone}@{name}"))
    return trackers


def otb2013_on_disk() -> SequenceList:
    """The OTB2013 targets whose frames are on disk (``otb2013_path``); an error names the path when none."""
    from evaluation.datasets import available_sequences, get_dataset
    from evaluation.settings import load_settings

    settings = load_settings()
    dataset = available_sequences(get_dataset("otb2013", settings=settings))
    if not dataset:
        raise LookupError(f"no OTB2013 frames found under {settings.path('otb2013_path')}")
    return dataset


def mobilenet_v2() -> tuple[list[Any], SequenceList]:
    """The variants of MobileNetV2 on the OTB2013 targets on disk."""
    return variant_trackers("mobilenet_v2"), otb2013_on_disk()


def efficientnet_lite0() -> tuple[list[Any], SequenceList]:
    """The variants of EfficientNet-Lite0 on the OTB2013 targets on disk."""
    return variant_trackers("efficientnet_lite0"), otb2013_on_disk()
