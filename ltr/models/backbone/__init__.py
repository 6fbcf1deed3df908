"""SiamFC backbones: ImageNet CNNs cut to total stride 8 (127 -> 17x17 score map over 255).

``build_backbone(name, pretrained, weights_path)`` is the one entry point; ``BACKBONES``
lists the names. The paper's four backbones (AlexNet, VGG-19, Inception-v3, ResNet-34)
plus two whose ImageNet weights are available offline (MobileNetV2, EfficientNet-Lite0).
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from torchvision import models

from ltr.models.backbone.alexnet import alexnet
from ltr.models.backbone.base import Backbone, BackboneSpec
from ltr.models.backbone.efficientnet import efficientnet_lite0, pretrained_file
from ltr.models.backbone.inception import inception_v3
from ltr.models.backbone.mobilenet import mobilenet_v2
from ltr.models.backbone.resnet import resnet34
from ltr.models.backbone.vgg import vgg19
from ltr.models.backbone.weights import WeightsNotFoundError, checkpoint_dir

BackboneBuilder = Callable[..., Backbone]

BACKBONES: dict[str, BackboneBuilder] = {
    "alexnet": alexnet,
    "vgg19": vgg19,
    "resnet34": resnet34,
    "inception_v3": inception_v3,
    "mobilenet_v2": mobilenet_v2,
    "efficientnet_lite0": efficientnet_lite0,
}

_TORCHVISION_WEIGHTS = {
    "alexnet": models.AlexNet_Weights.IMAGENET1K_V1,
    "vgg19": models.VGG19_Weights.IMAGENET1K_V1,
    "resnet34": models.ResNet34_Weights.IMAGENET1K_V1,
    "inception_v3": models.Inception_V3_Weights.IMAGENET1K_V1,
    "mobilenet_v2": models.MobileNet_V2_Weights.IMAGENET1K_V1,
}


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
    if name == "efficientnet_lite0":
        return pretrained_file()
    return checkpoint_dir() / Path(_TORCHVISION_WEIGHTS[name].url).name


__all__ = ["BACKBONES", "Backbone", "BackboneSpec", "WeightsNotFoundError", "build_backbone",
           "expected_weight_file"]
