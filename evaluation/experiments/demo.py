"""The demo experiment: runs anywhere, with no download (the built-in synthetic dataset)."""
from __future__ import annotations

from typing import Any

from evaluation.data import SequenceList
from evaluation.tracker import Tracker
from pytracking_siamot import variants


def demo() -> tuple[list[Any], SequenceList]:
    """SiamOT (MobileNetV2, ImageNet weights) with and without online training, and OpenCV MIL,
    on the synthetic dataset."""
    from evaluation.datasets import get_dataset

    trackers = [
        Tracker("siamot", variants.parameter_name("mobilenet_v2"), display_name="SiamOT-MobileNetV2"),
        Tracker("siamot", variants.parameter_name("mobilenet_v2", variants.BASELINE),
                display_name="SiamFC-MobileNetV2"),
        Tracker("opencv", "mil", display_name="MIL"),
    ]
    return trackers, get_dataset("synthetic")
