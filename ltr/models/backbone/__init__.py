"""SiamFC backbones: ImageNet CNNs cut to total stride 8 (127 -> 17x17 score map over 255).

``build_backbone(name, pretrained, weights_path)`` is the one entry point; ``BACKBONES``
lists the names. The paper's four backbones (AlexNet, VGG-19, Inception-v3, ResNet-34)
plus two whose ImageNet weights are available offline (MobileNetV2, EfficientNet-Lite0).
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from types import ModuleType

from ltr.models.backbone import alexnet, efficientnet, inception, mobilenet, resnet, vgg
from ltr.models.backbone.base import Backbone, BackboneSpec
from ltr.models.backbone.weights import WeightsNotFoundError, checkpoint_dir

BackboneBuilder = Callable[..., Backbone]

# One module per backbone: its ``SPEC`` names it, a function of that name builds it, and its
# ``WEIGHTS`` (torchvision) or ``pretrained_file()`` (offline package) says where its weights are.
_MODULES: dict[str, ModuleType] = {m.SPEC.name: m for m in (alexnet, vgg, resnet, inception, mobilenet, efficientnet)}

BACKBONES: dict[str, BackboneBuilder] = {name: getattr(module, name) for name, module in _MODULES.items()}


def build_backbone(name: str, pretrained: bool = False, weights_path: str | None = None,
                   download: bool = True) -> Backbone:
    """Build a SiamFC backbone by name.

    Args:
        name: one of ``BACKBONES``.
        pretrained: load ImageNet weights through torchvision's weights API (or the offline package).
        weights_path: load this state dict file instead (the full, uncut network's keys).
        download: allow torchvision to download a missing file.
    """
    if name not in BACKBONES:
        raise KeyError(f"unknown backbone '{name}'; known: {', '.join(BACKBONES)}")
    return BACKBONES[name](pretrained=pretrained, weights_path=weights_path, download=download)


def expected_weight_file(name: str) -> Path:
    """Where ``pretrained=True`` looks for the weights of backbone ``name``."""
    module = _MODULES[name]
    if hasattr(module, "WEIGHTS"):
        return checkpoint_dir() / Path(module.WEIGHTS.url).name
    return module.pretrained_file()


__all__ = ["BACKBONES", "Backbone", "BackboneSpec", "WeightsNotFoundError", "build_backbone",
           "expected_weight_file"]
