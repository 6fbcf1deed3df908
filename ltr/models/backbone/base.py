"""The common interface of every SiamFC feature extractor."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

# ImageNet statistics used by every torchvision classification model, on [0, 1] RGB.
IMAGENET_MEAN: tuple[float, float, float] = (0.485, 0.456, 0.406)
IMAGENET_STD: tuple[float, float, float] = (0.229, 0.224, 0.225)
# Networks ported from TensorFlow (Inception-v3, EfficientNet-Lite) expect [-1, 1] inputs.
HALF_MEAN: tuple[float, float, float] = (0.5, 0.5, 0.5)
HALF_STD: tuple[float, float, float] = (0.5, 0.5, 0.5)


@dataclass(frozen=True)
class BackboneSpec:
    """Static facts about a backbone.

    Attributes:
        name: registry name (``alexnet``, ``vgg19``, ...).
        out_channels: channels of the feature map.
        stride: total stride of the feature map w.r.t. the input (8 for every SiamFC backbone).
        mean, std: per-channel RGB normalisation applied to images scaled to [0, 1].
        modification: one sentence on how the ImageNet network was cut for tracking.
    """

    name: str
    out_channels: int
    stride: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    modification: str


class Backbone(nn.Module):
    """A fully-convolutional feature extractor with its normalisation.

    ``forward`` takes a float tensor ``(B, 3, H, W)`` of RGB values in [0, 255] and returns
    features ``(B, out_channels, H', W')``; normalisation happens inside so that callers
    (the tracker, the tests) cannot forget it.
    """

    def __init__(self, spec: BackboneSpec, features: nn.Module) -> None:
        super().__init__()
        self.spec = spec
        self.features = features
        mean = torch.tensor(spec.mean, dtype=torch.float32).view(1, 3, 1, 1) * 255.0
        std = torch.tensor(spec.std, dtype=torch.float32).view(1, 3, 1, 1) * 255.0
        self.register_buffer("pixel_mean", mean, persistent=False)
        self.register_buffer("pixel_std", std, persistent=False)

    @property
    def out_channels(self) -> int:
        return self.spec.out_channels

    @property
    def stride(self) -> int:
        return self.spec.stride

    def normalize(self, images: torch.Tensor) -> torch.Tensor:
        """``(images - mean) / std`` of (B, 3, H, W) RGB values in [0, 255]: the input of ``features``."""
        if images.dim() != 4 or images.shape[1] != 3:
            raise ValueError(f"backbone '{self.spec.name}' expects (B, 3, H, W) images, got {tuple(images.shape)}")
        return (images - self.pixel_mean) / self.pixel_std

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.features(self.normalize(images))
