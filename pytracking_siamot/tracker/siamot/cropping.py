"""Input normalisation and SiamFC crops (square patches resized, padded with the mean colour)."""
from __future__ import annotations

import math

import cv2
import numpy as np


def normalize_image(image: object) -> np.ndarray:
    """Return an H x W x 3 RGB image as ``uint8`` or ``float32`` (values in [0, 255]).

    Accepts the pytracking contract (H x W x 3 ``uint8`` RGB) plus grayscale (H x W or
    H x W x 1, replicated to 3 channels) and float images: floats whose maximum is at most
    1.0 are read as [0, 1] and scaled by 255, other floats as [0, 255] (clipped).

    Raises:
        ValueError: not an array, empty, wrong number of dims or channels, non-numeric,
            or float values that are NaN/inf.
    """
    if not isinstance(image, np.ndarray):
        raise ValueError(f"image must be a numpy array (H x W x 3 RGB), got {type(image).__name__}")
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"image must be H x W x 3 (or H x W / H x W x 1 grayscale), got shape {image.shape}")
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise ValueError(f"image is empty: shape {image.shape}")
    if image.dtype == np.uint8:
        return np.ascontiguousarray(image)
    if image.dtype == np.bool_ or not np.issubdtype(image.dtype, np.number):
        raise ValueError(f"image dtype must be numeric, got {image.dtype}")
    out = image.astype(np.float32)
    if not np.all(np.isfinite(out)):
        raise ValueError("image contains NaN or inf values")
    if np.issubdtype(image.dtype, np.floating) and out.max(initial=0.0) <= 1.0:
        out = out * 255.0
    return np.ascontiguousarray(np.clip(out, 0.0, 255.0))


def mean_color(image: np.ndarray) -> tuple[float, float, float]:
    """Per-channel mean of an H x W x 3 image: SiamFC's padding colour."""
    m = image.reshape(-1, 3).mean(axis=0)
    return float(m[0]), float(m[1]), float(m[2])


def context_size(size_wh: np.ndarray, context: float) -> float:
    """Side of SiamFC's exemplar region around a ``[w, h]`` target: ``sqrt((w + p)(h + p))``,
    ``p = context * (w + h)``; the search region is this times ``instance_size / exemplar_size``."""
    w, h = (float(v) for v in size_wh)
    pad = context * (w + h)
    return math.sqrt((w + pad) * (h + pad))


def crop_square(image: np.ndarray, center_xy: np.ndarray, size: float, out_size: int,
                pad_color: tuple[float, float, float]) -> np.ndarray:
    """Crop a ``size`` x ``size`` square centred on ``center_xy`` and resize it to ``out_size``.

    One bilinear affine warp: output pixel ``u`` samples the image at
    ``center + (u - (out_size - 1) / 2) * size / out_size`` (pixel-centre coordinates, OTB's
    centre convention ``x + (w - 1) / 2``), so sub-pixel centres are exact. Parts outside the
    frame are filled with ``pad_color`` (the image mean, as SiamFC does).

    Args:
        image: H x W x 3 ``uint8`` or ``float32`` RGB.
        center_xy: ``[cx, cy]`` in pixels.
        size: side of the square in image pixels (> 0).
        out_size: side of the output patch.

    Returns:
        out_size x out_size x 3 array of ``image``'s dtype.
    """
    if not size > 0:
        raise ValueError(f"crop size must be positive, got {size}")
    scale = size / out_size
    offset = (out_size - 1) / 2.0 * scale
    warp = np.array([[scale, 0.0, center_xy[0] - offset],
                     [0.0, scale, center_xy[1] - offset]], dtype=np.float64)
    return cv2.warpAffine(image, warp, (out_size, out_size),
                          flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=pad_color)


def to_tensor_batch(crops: list[np.ndarray]):
    """Stack H x W x 3 crops into a float32 ``(B, 3, H, W)`` tensor of [0, 255] RGB values."""
    import torch

    # One conversion pass (dtype and layout together) instead of a float copy plus a transpose.
    return torch.from_numpy(np.stack(crops)).permute(0, 3, 1, 2).to(torch.float32, memory_format=torch.contiguous_format)
