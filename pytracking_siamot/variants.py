"""SiamOT's variants: the one place that says which configurations exist and what they are called.

A variant is a named set of :class:`~pytracking_siamot.parameters.SiamOTParams` overrides applied to a
backbone's defaults:

- ``default``: SiamOT's default online training (the best measured configuration);
- ``baseline``: the same SiamFC tracker without online training (the paper's "without OT" column);
- ``paper``: the paper's online training exactly as written (:data:`PAPER_ONLINE`).

Parameter names follow one convention, ``<backbone>`` / ``<backbone>_baseline`` / ``<backbone>_paper``
(:func:`parameter_name` makes one, :func:`parse_parameter_name` reads one back); every file of
``parameter/siamot/`` is one call of :func:`make_parameters`. Experiments, styles and tables ask this
module (never a pattern on display names) which variant a name is and which baseline belongs to which
online-trained tracker. To add a variant, add it to :data:`VARIANTS` and one parameter file per backbone.
"""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any, Mapping, NamedTuple

from pytracking_siamot.parameters import SiamOTParams, TrackerParams

#: The tracker name these parameter names belong to (``Tracker("siamot", <parameter name>)``).
TRACKER_NAME = "siamot"

#: The paper's thresholds (Section 3.1), for ``dataclasses.replace(params, **PAPER_THRESHOLDS)``.
PAPER_THRESHOLDS: dict[str, float] = {"zero_loss_threshold": 1.0, "confidence_threshold": 0.7}

#: The online update exactly as written in the paper: its thresholds, Eq. 8 relative to the
#: updated ``R_t`` and the full Eq. 11 update rate (``dataclasses.replace(params, **PAPER_ONLINE)``).
PAPER_ONLINE: dict[str, Any] = {**PAPER_THRESHOLDS, "confidence_reference": "template", "template_update_max": 1.0,
                                "current_map": "recrop", "online_method": "backbone"}


@dataclass(frozen=True)
class Variant:
    """One variant: its ``name``, the ``suffix`` of its parameter names and its ``overrides`` of the
    ``SiamOTParams`` defaults (field name -> value)."""

    name: str
    suffix: str
    description: str
    overrides: Mapping[str, Any] = field(default_factory=dict)

    @property
    def online_training(self) -> bool:
        """Whether this variant trains online (``False`` only for the baseline)."""
        return bool(self.overrides.get("online_training", SiamOTParams.online_training))


DEFAULT, BASELINE, PAPER = "default", "baseline", "paper"

#: The variants in the order experiments run and tables list them.
VARIANTS: dict[str, Variant] = {
    DEFAULT: Variant(DEFAULT, "", "SiamOT's default online training"),
    BASELINE: Variant(BASELINE, "_baseline", "SiamFC without online training", {"online_training": False}),
    PAPER: Variant(PAPER, "_paper", "the paper's online training exactly as written", dict(PAPER_ONLINE)),
}


class VariantName(NamedTuple):
    """A parameter name read back: its ``backbone`` and its ``variant`` (a key of :data:`VARIANTS`)."""

    backbone: str
    variant: str


_BACKBONE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


def variant(name: str) -> Variant:
    """The variant called ``name``; ``KeyError`` lists the known ones."""
    try:
        return VARIANTS[name]
    except KeyError:
        raise KeyError(f"unknown SiamOT variant '{name}' (known: {', '.join(VARIANTS)})") from None


def parameter_name(backbone: str, variant_name: str = DEFAULT) -> str:
    """``('mobilenet_v2', 'baseline')`` -> ``'mobilenet_v2_baseline'`` (the parameter file's name)."""
    if not _BACKBONE.fullmatch(backbone):
        raise ValueError(f"backbone name {backbone!r} must be letters, digits, '_', '.' or '-'")
    return backbone + variant(variant_name).suffix


def parse_parameter_name(name: str) -> VariantName | None:
    """``'mobilenet_v2_baseline'`` -> ``VariantName('mobilenet_v2', 'baseline')``; a name without a
    variant suffix is the backbone's ``default``. ``None`` for a name that does not follow the convention
    (empty, ``@``, a bare suffix such as ``_paper``). The backbone is not checked against the installed
    ones (results of a backbone no longer installed still read back)."""
    for candidate in VARIANTS.values():
        if candidate.suffix and name.endswith(candidate.suffix):
            backbone = name[:-len(candidate.suffix)]
            return VariantName(backbone, candidate.name) if _BACKBONE.fullmatch(backbone) else None
    return VariantName(name, DEFAULT) if _BACKBONE.fullmatch(name) else None


def parameter_names(backbones: list[str] | tuple[str, ...]) -> list[str]:
    """Every parameter name of ``backbones`` (each backbone's variants in :data:`VARIANTS` order)."""
    return [parameter_name(b, v) for b in backbones for v in VARIANTS]


def settings(backbone: str, variant_name: str = DEFAULT, **overrides: Any) -> SiamOTParams:
    """The frozen settings of ``backbone`` in variant ``variant_name``, then ``overrides`` (fields of
    ``SiamOTParams``; an unknown one is a ``TypeError`` naming it)."""
    params = SiamOTParams(backbone=backbone, **dict(variant(variant_name).overrides))
    return dataclasses.replace(params, **overrides) if overrides else params


def make_parameters(backbone: str, variant_name: str = DEFAULT) -> TrackerParams:
    """A fresh pytracking view of :func:`settings` (what every ``parameter/siamot`` file returns)."""
    return TrackerParams(settings(backbone, variant_name))


def baseline_of(name: str) -> str | None:
    """The parameter name a baseline pairs with (its backbone's ``default``, the same tracker with
    online training), or ``None`` when ``name`` is not a baseline's. The paper's figures draw such a
    pair in one colour, solid with online training and dashed without, and Table 1 sets them side by side."""
    parsed = parse_parameter_name(name)
    if parsed is None or variant(parsed.variant).online_training:
        return None
    return parameter_name(parsed.backbone, DEFAULT)


#: How each backbone of ``ltr.models.backbone.BACKBONES`` is named in tables and figures (the paper's
#: spelling for its four). Kept here, free of torch, so that the toolkit's tables need not load networks.
BACKBONE_LABELS: dict[str, str] = {"alexnet": "AlexNet", "vgg19": "VGGNet-19", "resnet34": "ResNet-34",
                                   "inception_v3": "Inception-v3", "mobilenet_v2": "MobileNetV2",
                                   "efficientnet_lite0": "EfficientNet-Lite0"}
