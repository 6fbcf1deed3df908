"""MobileNetV2 cut for SiamFC (our choice; real ImageNet weights are available offline).

Kept: ``features[0:14]`` (stem and inverted-residual blocks 1-13, 96 channels, stride 16
in the original network). The first block of the 64-channel stage (``features[7]``) has
its depthwise stride set 2 -> 1, giving total stride 8 like the paper's backbones; its
input and output channels differ, so it has no residual connection to keep in step.
Feature sizes: 127 -> 16x16, 255 -> 32x32, 96 channels.
"""
from __future__ import annotations

from torch import nn
from torchvision import models

from ltr.models.backbone.base import IMAGENET_MEAN, IMAGENET_STD, Backbone, BackboneSpec
from ltr.models.backbone.loading import load_torchvision

SPEC = BackboneSpec("mobilenet_v2", 96, 8, IMAGENET_MEAN, IMAGENET_STD,
                    "features[0:14] kept (96 ch), features[7] depthwise stride 2 -> 1")
#: The ImageNet weights ``pretrained=True`` loads (torchvision's weights API).
WEIGHTS = models.MobileNet_V2_Weights.IMAGENET1K_V1


def mobilenet_v2(pretrained: bool = False, weights_path: str | None = None, download: bool = True) -> Backbone:
    net = models.mobilenet_v2(weights=None)
    load_torchvision(net, WEIGHTS, pretrained, weights_path, download)
    blocks = list(net.features.children())[:14]
    depthwise = blocks[7].conv[1][0]
    assert isinstance(depthwise, nn.Conv2d) and depthwise.stride == (2, 2)
    depthwise.stride = (1, 1)
    return Backbone(SPEC, nn.Sequential(*blocks))
