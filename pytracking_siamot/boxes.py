"""The one module that owns box conversions and overlaps.

Formats (floats, 0-based pixel coordinates):
- ``xywh``: ``[x, y, w, h]``, top-left corner and size (pytracking / OTB results).
- ``cxcywh``: ``[cx, cy, w, h]``, centre and size, with ``cx = x + (w - 1) / 2`` (OTB's
  centre convention, also used by SiamFC).
- ``xyxy``: ``[x1, y1, x2, y2]`` with ``x2 = x + w`` (exclusive corner).
Arrays may be one box ``(4,)`` or many ``(N, 4)``.
"""
from __future__ import annotations

import numpy as np


def xywh_to_cxcywh(bbox_xywh: np.ndarray) -> np.ndarray:
    b = np.asarray(bbox_xywh, dtype=np.float64)
    out = b.copy()
    out[..., 0] = b[..., 0] + (b[..., 2] - 1) / 2
    out[..., 1] = b[..., 1] + (b[..., 3] - 1) / 2
    return out


def cxcywh_to_xywh(bbox_cxcywh: np.ndarray) -> np.ndarray:
    b = np.asarray(bbox_cxcywh, dtype=np.float64)
    out = b.copy()
    out[..., 0] = b[..., 0] - (b[..., 2] - 1) / 2
    out[..., 1] = b[..., 1] - (b[..., 3] - 1) / 2
    return out


def xywh_to_xyxy(bbox_xywh: np.ndarray) -> np.ndarray:
    b = np.asarray(bbox_xywh, dtype=np.float64)
    out = b.copy()
    out[..., 2] = b[..., 0] + b[..., 2]
    out[..., 3] = b[..., 1] + b[..., 3]
    return out


def xyxy_to_xywh(bbox_xyxy: np.ndarray) -> np.ndarray:
    b = np.asarray(bbox_xyxy, dtype=np.float64)
    out = b.copy()
    out[..., 2] = b[..., 2] - b[..., 0]
    out[..., 3] = b[..., 3] - b[..., 1]
    return out


def center_xy(bbox_xywh: np.ndarray) -> np.ndarray:
    """Box centres ``(..., 2)`` with OTB's convention ``x + (w - 1) / 2``."""
    return xywh_to_cxcywh(bbox_xywh)[..., :2]


def iou_xywh(a_xywh: np.ndarray, b_xywh: np.ndarray) -> np.ndarray:
    """Intersection over union of paired ``xywh`` boxes (areas as ``w * h``); 0 where the union is 0.

    Clipped to [0, 1]: rounding can push identical boxes a hair above 1, which would wrongly count
    them at the success curve's last threshold (IoU > 1 is impossible).
    """
    a = xywh_to_xyxy(a_xywh)
    b = xywh_to_xyxy(b_xywh)
    iw = np.clip(np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0]), 0, None)
    ih = np.clip(np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1]), 0, None)
    inter = iw * ih
    union = (np.asarray(a_xywh)[..., 2] * np.asarray(a_xywh)[..., 3]
             + np.asarray(b_xywh)[..., 2] * np.asarray(b_xywh)[..., 3] - inter)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.clip(np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0), 0.0, 1.0)


def validate_init_xywh(bbox_xywh: object, image_shape: tuple[int, ...] | None = None) -> np.ndarray:
    """Check an initial box and return it as a float64 ``(4,)`` array.

    Raises ``ValueError`` for wrong length, NaN/inf, non-positive size, or (with
    ``image_shape``) a box that does not overlap the image at all.
    """
    b = np.asarray(bbox_xywh, dtype=np.float64).reshape(-1)
    if b.shape != (4,):
        raise ValueError(f"init box must be [x, y, w, h], got {bbox_xywh!r}")
    if not np.all(np.isfinite(b)):
        raise ValueError(f"init box has NaN or inf values: {b.tolist()}")
    if b[2] <= 0 or b[3] <= 0:
        raise ValueError(f"init box must have positive width and height, got {b.tolist()}")
    if image_shape is not None:
        height, width = image_shape[:2]
        if b[0] >= width or b[1] >= height or b[0] + b[2] <= 0 or b[1] + b[3] <= 0:
            raise ValueError(f"init box {b.tolist()} lies outside the {width}x{height} image")
    return b


def center_error_xywh(a_xywh: np.ndarray, b_xywh: np.ndarray) -> np.ndarray:
    """Euclidean distance (pixels) between the OTB-convention centres of paired ``xywh`` boxes."""
    return np.linalg.norm(center_xy(a_xywh) - center_xy(b_xywh), axis=-1)


def normalized_center_error_xywh(pred_xywh: np.ndarray, gt_xywh: np.ndarray) -> np.ndarray:
    """Centre error with each axis divided by the ground-truth size (pytracking's normalised precision).

    ``|| (c_pred - c_gt) / size_wh_gt ||``; ground truth with a zero width or height gives inf or NaN
    (such frames are invalid and excluded by the metrics).
    """
    gt = np.asarray(gt_xywh, dtype=np.float64)
    offset_xy = center_xy(pred_xywh) - center_xy(gt)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.linalg.norm(offset_xy / gt[..., 2:4], axis=-1)


def valid_gt_mask(gt_xywh: np.ndarray) -> np.ndarray:
    """``(N,)`` bool: ``(N, 4)`` ``xywh`` rows that are finite with width and height > 0 (a valid annotation).

    Only the size decides: x/y may legitimately be <= 0 for a target partly outside the image.
    """
    gt = np.asarray(gt_xywh, dtype=np.float64)
    return np.all(np.isfinite(gt), axis=1) & np.all(gt[:, 2:] > 0, axis=1)
