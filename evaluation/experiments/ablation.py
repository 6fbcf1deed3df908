"""Ablation of SiamOT's online training: the variants of one backbone on the OTB2013 targets on disk.

The variants are :data:`pytracking_siamot.variants.VARIANTS` (default, baseline, paper); each runs its
own parameter file (``parameter/siamot/<backbone>{,_baseline,_paper}.py``), so its results share the
folder ``<results_path>/siamot/<parameter name>/`` with every other experiment that runs the same
configuration (one results folder per configuration). They are displayed as ``<backbone>@<variant>``.
Ad-hoc variants (``SiamOTParams`` overrides of the default, e.g. from ``--set``) get their own folder
``<backbone>@<tag>/`` (see :class:`evaluation.tracker.Tracker`).
Run and analyse (per-target AUC, % frames trained, mean AUC per variant, confidence table)::

    python -m evaluation.run_experiment ablation mobilenet_v2 --threads 2 --torch-threads 1 --analyze
    python -m evaluation.analyze ablation mobilenet_v2 --per-sequence
    python -m evaluation.run_experiment ablation efficientnet_lite0 --sequences Deer --analyze  # a quick check
    python -m evaluation.run_experiment ablation robustness_mobilenet_v2 \
        --threads 2 --torch-threads 1 --analyze  # the robustness options on every development target on disk
    python -m evaluation.analyze ablation robustness_mobilenet_v2 --compare mobilenet_v2@guard5 mobilenet_v2@default

To add a variant for every experiment, add it to ``pytracking_siamot.variants`` (and its parameter
files); for a one-off comparison pass ``extra`` to :func:`variant_trackers`.
"""
from __future__ import annotations

from typing import Any, Mapping

from evaluation.data import SequenceList
from evaluation.tracker import Tracker
from pytracking_siamot import variants


def variant_trackers(backbone: str, extra: Mapping[str, Mapping[str, Any]] | None = None) -> list[Tracker]:
    """One ``siamot`` :class:`Tracker` per variant of ``backbone`` (its parameter file), then one per
    ``extra`` entry (tag -> ``SiamOTParams`` overrides of the default, results in ``<backbone>@<tag>/``);
    all displayed as ``<backbone>@<variant or tag>``. A tag that is also a variant's name is a ``ValueError``."""
    trackers = [Tracker(variants.TRACKER_NAME, variants.parameter_name(backbone, name),
                        display_name=f"{backbone}@{name}") for name in variants.VARIANTS]
    for tag, overrides in (extra or {}).items():
        if tag in variants.VARIANTS:
            raise ValueError(f"ablation variant tag '{tag}' is a SiamOT variant's name (variants: "
                             f"{', '.join(variants.VARIANTS)}); choose another tag")
        trackers.append(Tracker(variants.TRACKER_NAME, variants.parameter_name(backbone), overrides=overrides,
                                variant=tag, display_name=f"{backbone}@{tag}"))
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


#: The robustness options of ``robustness_mobilenet_v2`` (tag -> overrides of the default): the drift
#: guard (the un-adapted first-frame template's map as an anchor: rollback after N frames in a row of
#: confident disagreement, to the state before it or to the identity, with or without moving the
#: target to the un-adapted peak), a map blended with the un-adapted one, and learning only from frames
#: where both agree. The earlier options (hard negatives, no learning while confidence falls, a wider
#: search after a loss; ``adapter_negative_weight``, ``adapter_fall_window``, ``wide_search_after``)
#: were measured on 17 targets with this experiment and are in ``docs/online_training.md``.
ROBUSTNESS_VARIANTS: dict[str, dict[str, Any]] = {
    "guard3": {"adapter_guard_frames": 3},
    "guard5": {"adapter_guard_frames": 5},
    "guard8": {"adapter_guard_frames": 8},
    "guard5-relocate": {"adapter_guard_frames": 5, "adapter_guard_relocate": True},
    "guard5-identity": {"adapter_guard_frames": 5, "adapter_guard_rollback": "identity"},
    "guard5-identity-relocate": {"adapter_guard_frames": 5, "adapter_guard_rollback": "identity",
                                 "adapter_guard_relocate": True},
    "blend0.6": {"adapter_blend": 0.6},
    "agree2": {"adapter_agree_distance": 2.0},
}


#: The benchmarks whose targets on disk join OTB2013's in :func:`development_targets` (dataset name ->
#: its settings key); each is skipped where its key is unset.
DEVELOPMENT_BENCHMARKS: dict[str, str] = {"otb": "otb_path", "uav123_10fps": "uav123_10fps_path",
                                          "dtb70": "dtb70_path", "vot": "vot_path"}


def on_disk(dataset_name: str, settings_key: str) -> SequenceList:
    """The sequences of ``dataset_name`` whose frames are on disk (none when ``settings_key`` is unset)."""
    from evaluation.datasets import available_sequences, get_dataset
    from evaluation.settings import load_settings

    settings = load_settings()
    if not getattr(settings, settings_key):
        return SequenceList()
    return available_sequences(get_dataset(dataset_name, settings=settings))


def otb100_on_disk() -> SequenceList:
    """The OTB-100 targets whose frames are on disk under ``otb_path`` (none when it is unset)."""
    return on_disk("otb", "otb_path")


def development_targets() -> SequenceList:
    """The OTB2013 targets on disk, then those of :data:`DEVELOPMENT_BENCHMARKS` (OTB-100, UAV123@10fps,
    DTB70, VOT) that are on disk."""
    targets = otb2013_on_disk()
    for name, key in DEVELOPMENT_BENCHMARKS.items():
        targets = targets + on_disk(name, key)
    return targets


def robustness_mobilenet_v2() -> tuple[list[Any], SequenceList]:
    """MobileNetV2's default and baseline and the :data:`ROBUSTNESS_VARIANTS` on the development targets
    on disk (:func:`development_targets`; the paper variant is left out: it is not what these options change)."""
    return robustness("mobilenet_v2")


def robustness_efficientnet_lite0() -> tuple[list[Any], SequenceList]:
    """As :func:`robustness_mobilenet_v2`, for EfficientNet-Lite0."""
    return robustness("efficientnet_lite0")


def robustness(backbone: str) -> tuple[list[Any], SequenceList]:
    """``backbone``'s default and baseline and the :data:`ROBUSTNESS_VARIANTS` on :func:`development_targets`."""
    trackers = variant_trackers(backbone, ROBUSTNESS_VARIANTS)
    return [t for t in trackers if not t.display_name.endswith("@paper")], development_targets()
