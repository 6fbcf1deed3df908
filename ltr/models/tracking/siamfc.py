"""The SiamFC network: a shared backbone and a cross-correlation head (paper Eqs. 2-3).

    Zf = phi(Z),  Xf = phi(X),  R = Zf * Xf   (* = cross-correlation, Zf as the kernel)

Shapes (stride-8 backbones): exemplar ``Z`` (B, 3, 127, 127) -> ``Zf`` (B, C, h, w);
search ``X`` (B, 3, 255, 255) -> ``Xf`` (B, C, H, W); score map ``R`` (B, 1, 17, 17).
Images are float tensors of RGB values in [0, 255]; the backbone normalises them.
"""
from __future__ import annotations

import torch
from torch import nn

from ltr.models.backbone import Backbone, build_backbone
from ltr.models.tracking.correlation import Correlation, CorrelationName, make_correlation, xcorr

__all__ = ["SiamFC", "siamfc", "xcorr"]


class SiamFC(nn.Module):
    """Fully-convolutional Siamese network with a shared backbone.

    Args:
        backbone: a stride-8 feature extractor (``ltr.models.backbone``).
        out_scale: factor applied to the raw correlation. ``None`` (default) divides by the
            number of exemplar elements ``C*h*w``, so a score is the mean product of
            matching features: ImageNet features of any backbone then give scores of order 1
            instead of 10^3..10^5.
        center_exemplar: subtract each channel's spatial mean from ``Zf`` before correlating
            (default off). Without SiamFC's offline training, raw correlation of ImageNet
            features favours high-energy regions; centring turns each score into a covariance
            between the exemplar pattern and the window, which the SiamOT tracker measured to
            track far better.
        border_crop: feature cells dropped on every side of both ``Zf`` and ``Xf`` before
            correlating (default 0). Zero padding inside the backbone makes border features
            of the exemplar match the border of the search map, which puts spurious peaks in
            the corners of ``R``; dropping the same number of cells from both keeps the
            score map's size and centre.
        correlation: ``'conv'`` (grouped convolution, the reference) or ``'matmul'`` (same
            result, faster on CPU); see ``ltr.models.tracking.correlation``. The attribute
            ``correlate`` holds the callable and may be replaced by any equivalent one.
    """

    def __init__(self, backbone: Backbone, out_scale: float | None = None,
                 center_exemplar: bool = False, border_crop: int = 0,
                 correlation: CorrelationName = "conv") -> None:
        super().__init__()
        if border_crop < 0:
            raise ValueError(f"border_crop must be >= 0, got {border_crop}")
        self.backbone = backbone
        self.out_scale = out_scale
        self.center_exemplar = center_exemplar
        self.border_crop = border_crop
        self.correlate: Correlation = make_correlation(correlation)

    @property
    def total_stride(self) -> int:
        return self.backbone.stride

    def template(self, z: torch.Tensor) -> torch.Tensor:
        """Exemplar features ``Zf = phi(Z)`` of (B, 3, 127, 127) images."""
        return self.backbone(z)

    def search(self, x: torch.Tensor) -> torch.Tensor:
        """Search features ``Xf = phi(X)``; several scales go in one batch."""
        return self.backbone(x)

    def score(self, zf: torch.Tensor, xf: torch.Tensor) -> torch.Tensor:
        """Scaled score map ``R`` (B, 1, 17, 17) from features."""
        if self.border_crop:
            c = self.border_crop
            if min(zf.shape[-2:]) <= 2 * c:
                raise ValueError(f"border_crop {c} leaves no exemplar features of {tuple(zf.shape[-2:])}")
            zf = zf[..., c:-c, c:-c]
            xf = xf[..., c:-c, c:-c]
        if self.center_exemplar:
            zf = zf - zf.mean(dim=(2, 3), keepdim=True)
        scale = self.out_scale if self.out_scale is not None else 1.0 / zf[0].numel()
        return self.correlate(zf, xf) * scale

    def forward(self, z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return self.score(self.template(z), self.search(x))


def siamfc(backbone_name: str, pretrained: bool = False, weights_path: str | None = None,
           out_scale: float | None = None, download: bool = True,
           center_exemplar: bool = False, border_crop: int = 0,
           correlation: CorrelationName = "conv") -> SiamFC:
    """Build a SiamFC network on a named backbone (see ``ltr.models.backbone.BACKBONES``)."""
    backbone = build_backbone(backbone_name, pretrained=pretrained, weights_path=weights_path,
                              download=download)
    return SiamFC(backbone, out_scale=out_scale, center_exemplar=center_exemplar, border_crop=border_crop,
                  correlation=correlation)
