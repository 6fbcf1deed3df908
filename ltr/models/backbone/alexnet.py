"""AlexNet cut for SiamFC: first conv stride 2 (was 4), last max-pool removed (paper, Sec. 3.1).

Feature sizes: 127 -> 14x14, 255 -> 30x30, 256 channels, total stride 8.
"""
from __future__ import annotations

from torch import nn
from torchvision import models

from ltr.models.backbone.base import IMAGENET_MEAN, IMAGENET_STD, Backbone, BackboneSpec
from ltr.models.backbone.loading import load_torchvision

SPEC = BackboneSpec("alexnet", 256, 8, IMAGENET_MEAN, IMAGENET_STD,
                    "conv1 stride 4 -> 2, last max-pool removed")
#: The ImageNet weights ``pretrained=True`` loads (torchvision's weights API).
WEIGHTS = models.AlexNet_Weights.IMAGENET1K_V1


def alexnet(pretrained: bool = False, weights_path: str | None = None, download: bool = True) -> Backbone:
    net = models.alexnet(weights=None)
    load_torchvision(net, WEIGHTS, pretrained, weights_path, download)
    layers = list(net.features.children())[:-1]  # drop the last MaxPool2d
    conv1 = layers[0]
    assert isinstance(conv1, nn.Conv2d)
    conv1.stride = (2, 2)
    return Backbone(SPEC, nn.Sequential(*layers))
