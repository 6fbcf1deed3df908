"""The SiamFC network: a shared backbone and a cross-correlation head (paper Eqs. 2-3).

    Zf = phi(Z),  Xf = phi(X),  R = Zf * Xf   (* = cross-correlation, Zf as the kernel)

Shapes (stride-8 backbones): exemplar ``Z`` (B, 3, 127, 127) -> ``Zf`` (B, C, h, w);
search ``X`` (B, 3, 255, 255) -> ``Xf`` (B, C, H, W); score map ``R`` (B, 1, 17, 17).
Images are float tensors of RGB values in [0, 255]; the backbone normalises them.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
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

    def _cropped_hw(self, exemplar_hw: tuple[int, int]) -> tuple[int, int]:
        """Exemplar feature size after the border crop (``ValueError`` when nothing is left)."""
        c = self.border_crop
        if min(exemplar_hw) <= 2 * c:
            raise ValueError(f"border_crop {c} leaves no exemplar features of {tuple(exemplar_hw)}")
        return exemplar_hw[0] - 2 * c, exemplar_hw[1] - 2 * c

    def _crop(self, features: torch.Tensor) -> torch.Tensor:
        c = self.border_crop
        return features[..., c:-c, c:-c] if c else features

    def _scale(self, channels: int, cropped_hw: tuple[int, int]) -> float:
        """``out_scale``, or 1 / (number of cropped exemplar elements) when it is ``None``."""
        return self.out_scale if self.out_scale is not None else 1.0 / (channels * cropped_hw[0] * cropped_hw[1])

    def score(self, zf: torch.Tensor, xf: torch.Tensor) -> torch.Tensor:
        """Scaled score map ``R`` (B, 1, 17, 17) from features."""
        hw = self._cropped_hw(tuple(zf.shape[-2:]))
        zf, xf = self._crop(zf), self._crop(xf)
        if self.center_exemplar:
            zf = zf - zf.mean(dim=(2, 3), keepdim=True)
        return self.correlate(zf, xf) * self._scale(zf.shape[1], hw)

    def exemplar_region_scores(self, xf: torch.Tensor, rows: tuple[int, int], cols: tuple[int, int],
                               exemplar_hw: tuple[int, int]) -> "ExemplarRegionScores":
        """The part of ``score`` that a change of a rectangle of exemplar cells makes, for fixed ``xf``.

        ``score`` is linear in ``zf`` (border crop, centering, correlation and scale all are), so
        for any ``zf`` (1, C, h, w) with ``exemplar_hw = (h, w)`` and a change ``delta`` (C, h, w)
        that is zero outside rows ``rows[0]:rows[1]`` and columns ``cols[0]:cols[1]`` (of the
        uncropped ``zf``): ``score(zf + delta, xf)[:, 0] == score(zf, xf)[:, 0]
        + region_scores(delta[:, rows[0]:rows[1], cols[0]:cols[1]])``. A training loop that changes
        those cells only computes ``score(zf, xf)`` once and ``region_scores`` (differentiable) per step.
        """
        h, w = exemplar_hw
        hw = self._cropped_hw((h, w))
        if not (0 <= rows[0] < rows[1] <= h and 0 <= cols[0] < cols[1] <= w):
            raise ValueError(f"exemplar region rows {rows}, cols {cols} outside exemplar features of {(h, w)}")
        c = self.border_crop
        return ExemplarRegionScores(self._crop(xf), (rows[0] - c, rows[1] - c), (cols[0] - c, cols[1] - c),
                                    hw, self.center_exemplar, self._scale(xf.shape[1], hw))

    def forward(self, z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return self.score(self.template(z), self.search(x))


class ExemplarRegionScores:
    """Score maps of fixed (cropped) search features against a rectangle of exemplar cells.

    Built by :meth:`SiamFC.exemplar_region_scores`. Calling it with ``values`` (C, kh, kw) gives
    (B, oh, ow): ``scale * sum_{c,u,v} values[c, u, v] * (xc[b, c, i + r0 + u, j + c0 + v] - centering)``,
    where cells of the rectangle inside the border crop count as zero. It is the matrix-product
    correlation (``correlation.MatmulCorrelation``) restricted to the rectangle: one product of the
    values with all search features, then a strided sum of the shifted cells (no gather).
    """

    def __init__(self, xc: torch.Tensor, rows: tuple[int, int], cols: tuple[int, int], hw: tuple[int, int],
                 center: bool, scale: float) -> None:
        batch, channels, height, width = xc.shape
        h, w = hw
        self.out_hw = (height - h + 1, width - w + 1)
        self.batch = batch
        # the part of the rectangle that survives the border crop, in the requested values' cells
        self.take = (slice(max(0, -rows[0]), (rows[1] - rows[0]) - max(0, rows[1] - h)),
                     slice(max(0, -cols[0]), (cols[1] - cols[0]) - max(0, cols[1] - w)))
        self.origin = (max(rows[0], 0), max(cols[0], 0))
        self.features = xc.detach().permute(1, 0, 2, 3).reshape(channels, batch * height * width).contiguous()
        self.plane = (height, width)
        self.window = None
        if center:
            # centering subtracts each channel's mean over the h*w cells: changing one cell also
            # lowers every cell by 1/(h*w), i.e. subtracts the search features' window mean.
            # Window means from an integral image (a 12x12 average pooling is slow on CPUs).
            integral = F.pad(xc.detach().double().cumsum(dim=2).cumsum(dim=3), (1, 0, 1, 0))
            window = (integral[..., h:, w:] - integral[..., :-h, w:] - integral[..., h:, :-w]
                      + integral[..., :-h, :-w]) / (h * w)  # (B, C, oh, ow)
            self.window = window.to(xc.dtype).permute(1, 0, 2, 3).reshape(channels, -1)
        self.scale = scale

    def __call__(self, values: torch.Tensor) -> torch.Tensor:
        values = values[:, self.take[0], self.take[1]]
        channels, kh, kw = values.shape
        height, width = self.plane
        oh, ow = self.out_hw
        n = self.batch * height * width
        products = values.reshape(channels, kh * kw).t() @ self.features  # (kh * kw, B * H * W)
        r0, c0 = self.origin
        shifted = torch.as_strided(products, (kh, kw, self.batch, oh, ow),
                                   (kw * n + width, n + 1, height * width, width, 1), r0 * width + c0)
        out = shifted.sum(dim=(0, 1)).reshape(-1)
        if self.window is not None:
            out = out - values.sum(dim=(1, 2)) @ self.window
        return (out * self.scale).reshape(self.batch, oh, ow)


def siamfc(backbone_name: str, pretrained: bool = False, weights_path: str | None = None,
           out_scale: float | None = None, download: bool = True,
           center_exemplar: bool = False, border_crop: int = 0,
           correlation: CorrelationName = "conv") -> SiamFC:
    """Build a SiamFC network on a named backbone (see ``ltr.models.backbone.BACKBONES``)."""
    backbone = build_backbone(backbone_name, pretrained=pretrained, weights_path=weights_path,
                              download=download)
    return SiamFC(backbone, out_scale=out_scale, center_exemplar=center_exemplar, border_crop=border_crop,
                  correlation=correlation)
