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
        # the centred, cropped exemplars of the last two Zf scored without a graph (the tracker's Zf'
        # and the first frame's, both scored every frame): (Zf, its version counter, centred)
        self._centred: list[tuple[torch.Tensor, int, torch.Tensor]] = []

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
        zf, xf = self._centred_exemplar(zf), self._crop(xf)
        return self.correlate(zf, xf) * self._scale(zf.shape[1], hw)

    def _centred_exemplar(self, zf: torch.Tensor) -> torch.Tensor:
        """``zf`` border-cropped and, with ``center_exemplar``, less each channel's spatial mean; kept for
        the last two ``zf`` without autograd (the same tensor, unchanged in place, gives the same result)."""
        track = not (torch.is_grad_enabled() and zf.requires_grad)
        if track:
            for known, version, centred in self._centred:
                if known is zf and version == zf._version:
                    return centred
        centred = self._crop(zf)
        if self.center_exemplar:
            centred = centred - centred.mean(dim=(2, 3), keepdim=True)
        if track:
            self._centred = [(zf, zf._version, centred)] + self._centred[:1]
        return centred

    def exemplar_region_scores(self, xf: torch.Tensor, rows: tuple[int, int], cols: tuple[int, int],
                               exemplar_hw: tuple[int, int], capacity: int | None = None) -> "ExemplarRegionScores":
        """The part of ``score`` that a change of a rectangle of exemplar cells makes, for fixed ``xf``.

        ``score`` is linear in ``zf`` (border crop, centering, correlation and scale all are), so
        for any ``zf`` (1, C, h, w) with ``exemplar_hw = (h, w)`` and a change ``delta`` (C, h, w)
        that is zero outside rows ``rows[0]:rows[1]`` and columns ``cols[0]:cols[1]`` (of the
        uncropped ``zf``): ``score(zf + delta, xf)[:, 0] == score(zf, xf)[:, 0]
        + region_scores(delta[:, rows[0]:rows[1], cols[0]:cols[1]])``. A training loop that changes
        those cells only computes ``score(zf, xf)`` once and ``region_scores`` (differentiable) per step.

        ``capacity``: room for that many search feature maps (default: ``xf``'s batch), the first
        ones ``xf``'s; :meth:`ExemplarRegionScores.write` replaces one.
        """
        h, w = exemplar_hw
        hw = self._cropped_hw((h, w))
        if not (0 <= rows[0] < rows[1] <= h and 0 <= cols[0] < cols[1] <= w):
            raise ValueError(f"exemplar region rows {rows}, cols {cols} outside exemplar features of {(h, w)}")
        c = self.border_crop
        return ExemplarRegionScores(xf, (rows[0] - c, rows[1] - c), (cols[0] - c, cols[1] - c), hw, c,
                                    self.center_exemplar, self._scale(xf.shape[1], hw), capacity)

    def forward(self, z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return self.score(self.template(z), self.search(x))


class ExemplarRegionScores:
    """Score maps of stored search features against a rectangle of exemplar cells, and its transpose.

    Built by :meth:`SiamFC.exemplar_region_scores`. Calling it with ``values`` (C, kh, kw) gives
    (B, oh, ow) for the first ``B`` stored maps: ``scale * sum_{c,u,v} values[c, u, v] * (xc[b, c,
    i + r0 + u, j + c0 + v] - centering)``, where ``xc`` are the border-cropped features and cells of
    the rectangle inside the border crop count as zero. It is the matrix-product correlation
    (``correlation.MatmulCorrelation``) restricted to the rectangle: one product of the values with
    the search cells that the rectangle's shifts reach, then a strided sum of the shifted cells (no
    gather). :meth:`adjoint` is its transpose (the gradient w.r.t. ``values`` of ``(grad * maps).sum()``),
    for a training loop that writes its own backward pass.

    Storage is preallocated for ``capacity`` search maps (``xf``'s batch by default); :meth:`write`
    replaces one, so a sample memory keeps its features here instead of re-stacking them per event.

    :meth:`low_precision_products` makes the two large products (values x search cells, and its
    transpose) run in a narrower dtype, e.g. bfloat16 on CPUs with bfloat16 units: the stored features
    get a copy in that dtype, values and gradients are rounded to it for the products only, and the
    products' sums, the centering term and the results stay in the features' dtype.
    """

    def __init__(self, xf: torch.Tensor, rows: tuple[int, int], cols: tuple[int, int], hw: tuple[int, int],
                 border_crop: int, center: bool, scale: float, capacity: int | None = None) -> None:
        batch, channels, height, width = xf.shape
        height, width = height - 2 * border_crop, width - 2 * border_crop
        h, w = hw
        if height < h or width < w:
            raise ValueError(f"search features of {tuple(xf.shape)} smaller than the exemplar's {hw} after the crop")
        self.capacity = batch if capacity is None else capacity
        if self.capacity < batch:
            raise ValueError(f"capacity {self.capacity} below the {batch} search feature maps given")
        self.out_hw = (height - h + 1, width - w + 1)
        self.hw = hw
        self.channels = channels
        self.feature_hw = (height, width)
        self.border_crop = border_crop
        # the part of the rectangle that survives the border crop, in the requested values' cells
        self.values_hw = (rows[1] - rows[0], cols[1] - cols[0])
        self.take = (slice(max(0, -rows[0]), self.values_hw[0] - max(0, rows[1] - h)),
                     slice(max(0, -cols[0]), self.values_hw[1] - max(0, cols[1] - w)))
        self.kernel_hw = tuple(max(part.stop - part.start, 0) for part in self.take)
        self.origin = (max(rows[0], 0), max(cols[0], 0))
        # only the search cells the rectangle's shifts reach: (kh + oh - 1, kw + ow - 1) per map
        self.plane = (self.kernel_hw[0] + self.out_hw[0] - 1, self.kernel_hw[1] + self.out_hw[1] - 1)
        plane_cells = self.plane[0] * self.plane[1]
        self.features = xf.new_empty(channels, self.capacity * plane_cells)
        self.center = center
        self.window = xf.new_empty(channels, self.capacity * self.out_hw[0] * self.out_hw[1]) if center else None
        # the 0/1 band matrices of the window sums along rows (oh, H) and columns (W, ow), made once
        self._bands = ((_band(self.out_hw[0], h, height, xf), _band(self.out_hw[1], w, width, xf).t())
                       if center else None)
        self.scale = scale
        # reused (kh*kw, capacity*ph*pw) buffers of the products and of the transposed spread; fresh
        # megabyte allocations per step cost page faults that were a third of a training step
        self._products: torch.Tensor | None = None
        self._spread: torch.Tensor | None = None
        self._spread_count = 0  # the map count the spread buffer's layout is for (its other cells are zero)
        self.product_features = self.features  # what the products read: the features, or a narrower copy
        for slot in range(batch):
            self.write(slot, xf[slot:slot + 1])

    def low_precision_products(self, dtype: torch.dtype) -> "ExemplarRegionScores":
        """Run the two products in ``dtype`` from now on (see the class); returns ``self``."""
        if dtype != self.features.dtype:
            self.product_features = self.features.to(dtype)
            self._spread = None
        return self

    def write(self, slot: int, xf: torch.Tensor) -> None:
        """Store the (uncropped) search features ``xf`` (1, C, H, W) as map ``slot`` (0-based)."""
        if not 0 <= slot < self.capacity:
            raise ValueError(f"slot {slot} outside 0..{self.capacity - 1}")
        c = self.border_crop
        xc = xf.detach()[0, :, c:xf.shape[-2] - c, c:xf.shape[-1] - c]
        if tuple(xc.shape) != (self.channels, *self.feature_hw):
            raise ValueError(f"search features {tuple(xf.shape)} unlike the stored ones "
                             f"(C={self.channels}, cropped {self.feature_hw})")
        (r0, c0), (ph, pw) = self.origin, self.plane
        cells = ph * pw
        self.features[:, slot * cells:(slot + 1) * cells].view(self.channels, ph, pw).copy_(
            xc[:, r0:r0 + ph, c0:c0 + pw])
        if self.product_features is not self.features:
            self.product_features[:, slot * cells:(slot + 1) * cells].copy_(
                self.features[:, slot * cells:(slot + 1) * cells])
        if self.window is not None:
            # centering subtracts each channel's mean over the h*w cells: changing one cell also
            # lowers every cell by 1/(h*w), i.e. subtracts the search features' window mean. Window
            # sums as two products with 0/1 band matrices in the features' dtype (a 12x12 average
            # pooling or a cumulative sum is slower on CPUs; float64 sums were twice as slow): rows
            # first (one batched product over the channels), then columns, into (C, oh, ow).
            (h, w), (oh, ow) = self.hw, self.out_hw
            rows, cols = self._bands
            window = torch.matmul(torch.matmul(rows, xc), cols)
            slot_window = self.window[:, slot * oh * ow:(slot + 1) * oh * ow].view(self.channels, oh, ow)
            torch.div(window, h * w, out=slot_window)

    def _maps_shape(self, count: int | None) -> int:
        count = self.capacity if count is None else count
        if not 0 < count <= self.capacity:
            raise ValueError(f"{count} maps asked of {self.capacity} stored")
        return count

    def _shifted(self, products: torch.Tensor, count: int) -> torch.Tensor:
        """``(kh, kw, B, oh, ow)`` view of ``products`` (kh*kw, B*ph*pw): cell (u, v) of the rectangle
        at output (i, j) of map b reads its product at (i + u, j + v)."""
        (kh, kw), (ph, pw), (oh, ow) = self.kernel_hw, self.plane, self.out_hw
        n = products.shape[1]
        return torch.as_strided(products, (kh, kw, count, oh, ow), (kw * n + pw, n + 1, ph * pw, pw, 1),
                                products.storage_offset())

    def __call__(self, values: torch.Tensor, count: int | None = None) -> torch.Tensor:
        """``values`` (C, kh, kw) -> (count, oh, ow): maps of the first ``count`` stored maps (default:
        all); differentiable."""
        count = self._maps_shape(count)
        (kh, kw), (oh, ow) = self.kernel_hw, self.out_hw
        if kh == 0 or kw == 0:
            return values.new_zeros(count, oh, ow)
        cells = self.plane[0] * self.plane[1]
        features = self.product_features[:, :count * cells]
        if features.dtype != self.features.dtype:
            # rounded once, so that the product and the centering term are one linear map of the same values
            values = values[:, self.take[0], self.take[1]].to(features.dtype)
            products = values.reshape(self.channels, kh * kw).t() @ features
            out = self._shifted(products, count).sum(dim=(0, 1), dtype=self.features.dtype).reshape(-1)
        else:
            values = values[:, self.take[0], self.take[1]]
            kernel = values.reshape(self.channels, kh * kw).t()
            if torch.is_grad_enabled() and values.requires_grad:
                products = kernel @ features
            else:
                if self._products is None:
                    self._products = self.features.new_empty(kh * kw * self.capacity * cells)
                products = torch.mm(kernel, features,
                                    out=self._products[:kh * kw * count * cells].view(kh * kw, count * cells))
            out = self._shifted(products, count).sum(dim=1).sum(dim=0).reshape(-1)
        if self.window is not None:
            out = out - values.sum(dim=(1, 2), dtype=self.window.dtype) @ self.window[:, :count * oh * ow]
        return (out * self.scale).reshape(count, oh, ow)

    def adjoint(self, grad: torch.Tensor) -> torch.Tensor:
        """The transpose of :meth:`__call__`: ``grad`` (B, oh, ow) for the first ``B`` stored maps ->
        (C, kh, kw) ``d (grad * self(values, B)).sum() / d values`` (zero in cells inside the border crop)."""
        count = self._maps_shape(grad.shape[0])
        (kh, kw), (oh, ow) = self.kernel_hw, self.out_hw
        out = grad.new_zeros(self.channels, *self.values_hw)
        if kh == 0 or kw == 0:
            return out
        grad = grad.reshape(count, oh, ow) * self.scale
        cells = self.plane[0] * self.plane[1]
        dtype = self.product_features.dtype
        if self._spread is None or self._spread.dtype != dtype or self._spread_count != count:
            # zero once per layout: each call then writes the same cells
            if self._spread is None or self._spread.dtype != dtype:
                self._spread = grad.new_empty(kh * kw * self.capacity * cells, dtype=dtype)
            self._spread.zero_()
            self._spread_count = count
        spread = self._spread[:kh * kw * count * cells].view(kh * kw, count * cells)
        # rounded before the strided spread: a converting strided copy is twice as slow
        self._shifted(spread, count).copy_(grad.to(dtype).expand(kh, kw, count, oh, ow))
        taken = (spread @ self.product_features[:, :count * cells].t()).t().to(grad.dtype)  # (C, kh * kw)
        if self.window is not None:
            taken = taken - (self.window[:, :count * oh * ow] @ grad.reshape(-1))[:, None]
        out[:, self.take[0], self.take[1]] = taken.reshape(self.channels, kh, kw)
        return out


def _band(out_size: int, window: int, size: int, like: torch.Tensor) -> torch.Tensor:
    """``(out_size, size)`` 0/1 matrix (``like``'s dtype and device) with ones at ``[i, i:i + window]``:
    window sums as a product."""
    index = torch.arange(size, device=like.device)[None, :] - torch.arange(out_size, device=like.device)[:, None]
    return ((index >= 0) & (index < window)).to(like.dtype)


def siamfc(backbone_name: str, pretrained: bool = False, weights_path: str | None = None,
           out_scale: float | None = None, download: bool = True,
           center_exemplar: bool = False, border_crop: int = 0,
           correlation: CorrelationName = "conv") -> SiamFC:
    """Build a SiamFC network on a named backbone (see ``ltr.models.backbone.BACKBONES``)."""
    backbone = build_backbone(backbone_name, pretrained=pretrained, weights_path=weights_path,
                              download=download)
    return SiamFC(backbone, out_scale=out_scale, center_exemplar=center_exemplar, border_crop=border_crop,
                  correlation=correlation)
