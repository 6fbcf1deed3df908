"""ResNet-34 cut for SiamFC: stride of the 4th conv block (``layer3``) set to 1, ``layer4`` removed.

Feature sizes: 127 -> 16x16, 255 -> 32x32, 256 channels, total stride 8.
"""
from __future__ import annotations

from torch import nn
from torchvision import models

from ltr.models.backbone.base import IMAGENET_MEAN, IMAGENET_STD, Backbone, BackboneSpec
from ltr.models.backbone.loading import load_torchvision

SPEC = BackboneSpec("resnet34", 256, 8, IMAGENET_MEAN, IMAGENET_STD,
                    "layer3 stride 2 -> 1, layer4 removed")
#: The ImageNet weights ``pretrained=True`` loads (torchvision's weights API).
WEIGHTS = models.ResNet34_Weights.IMAGENET1K_V1


def resnet34(pretrained: bool = False, weights_path: str | None = None, download: bool = True) -> Backbone:
    net = models.resnet34(weights=None)
    load_torchvision(net, WEIGHTS, pretrained, weights_path, download)
    first = net.layer3[0]
    first.conv1.stride = (1, 1)
    assert first.downsample is not None
    first.downsample[0].stride = (1, 1)
    features = nn.Sequential(net.conv1, net.bn1, net.relu, net.maxpool, net.layer1, net.layer2, net.layer3)
    return Backbone(SPEC, features)
