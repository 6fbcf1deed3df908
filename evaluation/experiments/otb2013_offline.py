"""OTB2013 with what runs offline: the backbones with ImageNet weights on disk, OpenCV peers,
and published results of classic and Siamese trackers plotted beside them.

Needs ``otb2013_path`` (frames), ``nanotrack_backbone``/``nanotrack_head``/``vittrack_net``
(OpenCV models) and ``peer_results_path`` (published raw results) in the settings.
"""
from __future__ import annotations

from typing import Any

from evaluation.data import SequenceList
from evaluation.settings import Settings, load_settings
from evaluation.tracker import Tracker
from pytracking_siamot import variants

OFFLINE_BACKBONES: dict[str, str] = {b: variants.BACKBONE_LABELS[b]
                                       for b in ("mobilenet_v2", "efficientnet_lite0")}

OPENCV_PEERS: dict[str, str] = {"mil": "MIL", "nano": "NanoTrack", "vit": "VitTrack"}

# Folder under peer_results_path -> legend name.
PUBLISHED: dict[str, str] = {
    "SiamFC-3s_cfnetrelease": "SiamFC-3s",
    "KCF_GaussHog_zz": "KCF",
    "Struck_zz": "Struck",
    "TLD_zz": "TLD",
}


def offline_trackers(settings: Settings) -> list[Tracker]:
    trackers = []
    for param, label in OFFLINE_BACKBONES.items():
        trackers.append(Tracker("siamot", variants.parameter_name(param), display_name=f"SiamOT-{label}",
                                settings=settings))
        trackers.append(Tracker("siamot", variants.parameter_name(param, variants.BASELINE),
                                display_name=f"SiamFC-{label}", settings=settings))
    for param, label in OPENCV_PEERS.items():
        trackers.append(Tracker("opencv", param, display_name=label, settings=settings))
    return trackers


def published_trackers(settings: Settings) -> list[Any]:
    """Results-only trackers from ``peer_results_path`` (an error names the setting when unset)."""
    from evaluation.peer_results import PublishedResults

    root = settings.path("peer_results_path")
    return [PublishedResults(folder, root / folder, display_name=label) for folder, label in PUBLISHED.items()]


def otb2013_offline() -> tuple[list[Any], SequenceList]:
    """Live trackers and published results on the 51 OTB2013 targets."""
    from evaluation.datasets import get_dataset

    settings = load_settings()
    return offline_trackers(settings) + published_trackers(settings), get_dataset("otb2013", settings=settings)


def otb2013_offline_available() -> tuple[list[Any], SequenceList]:
    """As :func:`otb2013_offline`, on the OTB2013 targets whose frames are on disk (a partial
    download, such as the nine-target development subset)."""
    from evaluation.datasets import available_sequences, get_dataset

    settings = load_settings()
    dataset = available_sequences(get_dataset("otb2013", settings=settings))
    if not dataset:
        raise LookupError(f"no OTB2013 frames found under {settings.path('otb2013_path')}")
    return offline_trackers(settings) + published_trackers(settings), dataset
