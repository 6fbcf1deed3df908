"""The paper's experiment (Table 1): four backbones with and without online training on OTB2013.

The paper uses AlexNet, VGGNet-19, ResNet-34 and Inception-v3 from torchvision. Their
ImageNet weights are not available offline here (random initialisation otherwise; give
weight files via the parameter files' ``weights_path`` or ``network_path``), so on this
machine the numbers are only meaningful with those weights installed.
"""
from __future__ import annotations

from typing import Any

from evaluation.data import SequenceList
from evaluation.tracker import Tracker
from pytracking_siamot import variants

PAPER_BACKBONES: dict[str, str] = {b: variants.BACKBONE_LABELS[b]
                                     for b in ("alexnet", "vgg19", "resnet34", "inception_v3")}


def paper_trackers() -> list[Tracker]:
    """``SiamOT-<backbone>`` (online training) and ``SiamFC-<backbone>`` (baseline) per backbone."""
    trackers = []
    for param, label in PAPER_BACKBONES.items():
        trackers.append(Tracker("siamot", variants.parameter_name(param), display_name=f"SiamOT-{label}"))
        trackers.append(Tracker("siamot", variants.parameter_name(param, variants.BASELINE),
                                display_name=f"SiamFC-{label}"))
    return trackers


def otb2013_paper() -> tuple[list[Any], SequenceList]:
    """The eight trackers on the 51 OTB2013 targets (``otb2013_path`` in the settings)."""
    from evaluation.datasets import get_dataset

    return paper_trackers(), get_dataset("otb2013")
