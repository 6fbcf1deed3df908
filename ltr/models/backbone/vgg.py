"""VGG-19 cut for SiamFC: the 4th max-pool and the whole 5th conv block removed (paper, Sec. 3.1).

What stays: conv1_1 .. conv4_4 with their ReLUs and the first three max-pools.
Feature sizes: 127 -> 15x15, 255 -> 31x31, 512 channels, total stride 8.
"""
from __future__ import annotations

from torch import nn
from torchvision import models

from ltr.models.backbone.base import IMAGENET_MEAN, IMAGENET_STD, Backbone, BackboneSpec
from ltr.models.backbone.loading import load_torchvision

SPEC = BackboneSpec("vgg19", 512, 8, IMAGENET_MEAN, IMAGENET_STD,
                    "4th max-pool and conv5 block removed (ends at conv4_4 + ReLU)")
#: The ImageNet weights ``pretrained=True`` loads (torchvision's weights API).
WEIGHTS = models.VGG19_Weights.IMAGENET1K_V1


def vgg19(pretrained: bool = False, weights_path: str | None = None, download: bool = True) -> Backbone:
    net = models.vgg19(weights=None)
    load_torchvision(net, WEIGHTS, pretrained, weights_path, download)
    layers: list[nn.Module] = []
    pools = 0
    for layer in net.features.children():
        if isinstance(layer, nn.MaxPool2d):
            pools += 1
            if pools == 4:
                break
        layers.append(layer)
    return Backbone(SPEC, nn.Sequential(*layers))
