"""Inception-v3 cut for SiamFC: everything from "inception 6" (``Mixed_6a``) on removed.

What stays: the stem (Conv2d_1a .. Conv2d_4a with both max-pools) and Mixed_5b/5c/5d.
The ImageNet weights were trained on [-1, 1] inputs (torchvision's ``transform_input``
maps to that range), so this backbone normalises with mean = std = 0.5.
Feature sizes: 127 -> 13x13, 255 -> 29x29, 288 channels, total stride 8.
"""
from __future__ import annotations

from torch import nn
from torchvision import models

from ltr.models.backbone.base import HALF_MEAN, HALF_STD, Backbone, BackboneSpec
from ltr.models.backbone.loading import load_torchvision

SPEC = BackboneSpec("inception_v3", 288, 8, HALF_MEAN, HALF_STD,
                    "Mixed_6a (inception 6) and everything after removed")
#: The ImageNet weights ``pretrained=True`` loads (torchvision's weights API).
WEIGHTS = models.Inception_V3_Weights.IMAGENET1K_V1


def inception_v3(pretrained: bool = False, weights_path: str | None = None, download: bool = True) -> Backbone:
    net = models.inception_v3(weights=None, aux_logits=True, init_weights=False, transform_input=False)
    load_torchvision(net, WEIGHTS, pretrained, weights_path, download)
    features = nn.Sequential(
        net.Conv2d_1a_3x3, net.Conv2d_2a_3x3, net.Conv2d_2b_3x3, net.maxpool1,
        net.Conv2d_3b_1x1, net.Conv2d_4a_3x3, net.maxpool2,
        net.Mixed_5b, net.Mixed_5c, net.Mixed_5d,
    )
    return Backbone(SPEC, features)
