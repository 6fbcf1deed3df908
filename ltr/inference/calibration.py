"""The calibration set of int8 post-training quantisation: crops like the tracker's.

Quantising a network after training needs inputs that drive its activations through the ranges
they take in use. For SiamOT those inputs are the tracker's crops: one exemplar crop of
``exemplar_size`` pixels around a target and ``scale_num`` search crops of ``instance_size``
pixels at the scale factors, cut as the tracker cuts them (context margin, mean-colour padding,
square crops resized). Two sources of the frames they are cut from (``source``):

* ``'photo'``: a natural photograph that ships with matplotlib (:data:`PHOTO`, read from the
  installed package's sample data, not kept in this repository), with seeded random target boxes
  of 20 to 200 pixels a side anywhere in it. Natural images drive a CNN's activations as the
  tracker's frames do: on an AVX2-only CPU, MobileNetV2's int8 features on OTB2013 search crops
  agree with float32 to a mean cosine of 0.977 when calibrated on it, against 0.968 on the
  synthetic scenes with the same quantisation (docs/speed.md).
* ``'synthetic'``: rendered scenes (a cluttered background of smooth colour noise, blobs and bars,
  with a striped, spotted target of random size and aspect). ``ltr`` sits below the toolkit's
  synthetic dataset (``evaluation.datasets.synthetic``) and may not import it, hence this small
  generator of its own.

``'auto'`` (the default) is the photograph where the installed matplotlib has it (some
distributions ship matplotlib without its sample data), else the synthetic scenes:
:func:`calibration_source` says which.

Every crop is a ``(1, 3, H, W)`` float32 RGB array in [0, 255], the backbone's input. The set is
a pure function of its arguments and the photograph (``numpy.random.default_rng(seed)``, no
global state), so :func:`calibration_identity` names it across processes: the cache key of a
quantised model.
"""
from __future__ import annotations

import hashlib
import math
from pathlib import Path
from typing import Literal

import cv2
import numpy as np

#: Default calibration set: scenes rendered, each giving one exemplar crop and three search crops.
DEFAULT_SCENES = 12
DEFAULT_SEED = 0
#: The natural photograph of the ``'photo'`` source: a file of matplotlib's sample data.
PHOTO = "grace_hopper.jpg"
#: Side of the photograph's target boxes, pixels (each side drawn alone, uniformly).
PHOTO_TARGET_SIDES = (20.0, 200.0)
Source = Literal["auto", "photo", "synthetic"]


def photo_path() -> Path | None:
    """The photograph's file in the installed matplotlib's sample data, or ``None`` when that
    package or file is missing."""
    try:
        import matplotlib
    except ImportError:
        return None
    path = Path(matplotlib.get_data_path()) / "sample_data" / PHOTO
    return path if path.is_file() else None


def calibration_source(source: Source = "auto") -> Literal["photo", "synthetic"]:
    """The frames ``calibration_crops(source=source)`` cuts from: ``'auto'`` is ``'photo'`` when
    :func:`photo_path` finds the file, else ``'synthetic'``."""
    if source not in ("auto", "photo", "synthetic"):
        raise ValueError(f"calibration source must be 'auto', 'photo' or 'synthetic', got {source!r}")
    if source == "auto":
        return "photo" if photo_path() is not None else "synthetic"
    return source


def _photo() -> np.ndarray:
    """The photograph, (H, W, 3) uint8 RGB; ``FileNotFoundError`` naming it when it cannot be read."""
    path = photo_path()
    image = None if path is None else cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise FileNotFoundError(f"the calibration photograph {PHOTO} is not in matplotlib's sample data "
                                f"({path or 'matplotlib is not installed'}); use source='synthetic'")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def _smooth_noise(rng: np.random.Generator, height: int, width: int, cells: int) -> np.ndarray:
    """(H, W, 3) float32 colour noise with about ``cells`` blobs across: coarse noise upsampled."""
    coarse = rng.uniform(0, 255, (max(2, cells * height // width), cells, 3)).astype(np.float32)
    return cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)


def _scene(rng: np.random.Generator, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """One frame, (H, W, 3) uint8 RGB, and its target box ``[cx, cy, w, h]`` (cxcywh, pixels)."""
    frame = 0.6 * _smooth_noise(rng, height, width, 6) + 0.4 * _smooth_noise(rng, height, width, 40)
    for _ in range(int(rng.integers(6, 14))):  # clutter: filled ellipses and bars in random colours
        colour = rng.uniform(0, 255, 3).tolist()
        center = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        if rng.random() < 0.5:
            axes = (int(rng.integers(5, 60)), int(rng.integers(5, 60)))
            cv2.ellipse(frame, center, axes, float(rng.uniform(0, 180)), 0, 360, colour, -1)
        else:
            corner = (center[0] + int(rng.integers(5, 90)), center[1] + int(rng.integers(3, 20)))
            cv2.rectangle(frame, center, corner, colour, -1)
    size_wh = np.array([rng.uniform(24, 110), rng.uniform(24, 110)])
    center_xy = np.array([rng.uniform(0.3, 0.7) * width, rng.uniform(0.3, 0.7) * height])
    x0, y0 = (center_xy - size_wh / 2).astype(int)
    w, h = size_wh.astype(int)
    # The target: a colour field with stripes and spots, a dark rim.
    texture = _smooth_noise(rng, h, w, 3)
    period = rng.uniform(4, 14)
    stripes = (np.sin(2 * math.pi * np.arange(w) / period + rng.uniform(0, 6)) > 0)[None, :, None]
    texture = np.where(stripes, texture, 255 - texture)
    for _ in range(4):
        cv2.circle(texture, (int(rng.integers(0, w)), int(rng.integers(0, h))), int(rng.integers(2, 6)),
                   rng.uniform(0, 255, 3).tolist(), -1)
    cv2.rectangle(texture, (0, 0), (w - 1, h - 1), (20.0, 20.0, 20.0), 2)
    frame[y0:y0 + h, x0:x0 + w] = texture
    return np.clip(frame, 0, 255).astype(np.uint8), np.array([*center_xy, w, h], dtype=np.float64)


def _crop(image: np.ndarray, center_xy: np.ndarray, side: float, out_size: int) -> np.ndarray:
    """A square of ``side`` pixels around ``center_xy`` resized to ``out_size``, padded with the
    image's mean colour: ``(1, 3, out_size, out_size)`` float32."""
    scale = out_size / side
    matrix = np.array([[scale, 0, out_size / 2 - scale * center_xy[0]],
                       [0, scale, out_size / 2 - scale * center_xy[1]]])
    pad = image.reshape(-1, 3).mean(axis=0).tolist()
    crop = cv2.warpAffine(image, matrix, (out_size, out_size), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=pad)
    return np.ascontiguousarray(crop.transpose(2, 0, 1)[None].astype(np.float32))


def calibration_crops(scenes: int = DEFAULT_SCENES, seed: int = DEFAULT_SEED, exemplar_size: int = 127,
                      instance_size: int = 255, context: float = 0.5, scale_num: int = 3,
                      scale_step: float = 1.0375, source: Source = "auto") -> list[np.ndarray]:
    """``scenes`` x (1 exemplar + ``scale_num`` search) crops, each ``(1, 3, H, W)`` float32 in [0, 255].

    ``source``: the frames the crops are cut from (module docstring); every scene is one target
    box, in the photograph or in a new rendered frame. The exemplar crop covers the target box plus
    ``context`` times its perimeter's half on each side (SiamFC's ``sqrt((w + p)(h + p))``,
    ``p = context (w + h)``); the search crops are ``instance_size / exemplar_size`` times larger, at
    the scale factors ``scale_step ** k``.
    """
    if scenes < 1:
        raise ValueError(f"scenes must be >= 1, got {scenes}")
    kind = calibration_source(source)
    rng = np.random.default_rng(seed)
    photo = _photo() if kind == "photo" else None
    crops = []
    for _ in range(scenes):
        if photo is None:
            image, box_cxcywh = _scene(rng, 360, 480)
        else:
            image = photo
            height, width = photo.shape[:2]
            box_cxcywh = np.array([rng.uniform(0, width), rng.uniform(0, height),
                                   rng.uniform(*PHOTO_TARGET_SIDES), rng.uniform(*PHOTO_TARGET_SIDES)])
        pad = context * (box_cxcywh[2] + box_cxcywh[3])
        side = math.sqrt((box_cxcywh[2] + pad) * (box_cxcywh[3] + pad))
        crops.append(_crop(image, box_cxcywh[:2], side, exemplar_size))
        for k in range(scale_num):
            factor = scale_step ** (k - (scale_num - 1) / 2)
            crops.append(_crop(image, box_cxcywh[:2], side * instance_size / exemplar_size * factor, instance_size))
    return crops


def calibration_identity(crops: list[np.ndarray]) -> str:
    """SHA-1 of a calibration set (shapes, dtypes and values, in order)."""
    digest = hashlib.sha1()
    for crop in crops:
        array = np.ascontiguousarray(crop)
        digest.update(f"{array.shape}:{array.dtype}".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()
