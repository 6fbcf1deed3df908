"""Pure drawing primitives for debug views and playback: boxes, text, badges, heatmaps, legends.

Images are H x W x 3 ``uint8`` **RGB** arrays (the toolkit's frame format); colours are RGB
tuples. Functions named ``draw_*`` draw into the ``canvas`` they are given (modified in
place, as OpenCV does) and never read global state; the others return new arrays.
Boxes are ``[x, y, w, h]`` floats, 0-based; a box with NaN/inf values or a non-positive
size is not drawn (trackers and ground truths use such rows for "no box").
"""
from __future__ import annotations

import math
from typing import Iterable, Mapping, Sequence as Seq

import cv2
import numpy as np

from pytracking_siamot.boxes import xywh_to_xyxy

ColorRGB = tuple[int, int, int]

#: Ground-truth boxes.
GT_COLOR: ColorRGB = (0, 220, 0)
#: The tracker's prediction in debug views.
PREDICTION_COLOR: ColorRGB = (255, 60, 60)
#: The search region the tracker cropped (debug level >= 2).
SEARCH_AREA_COLOR: ColorRGB = (0, 200, 255)
#: Badge on frames where the network was trained online.
TRAINED_COLOR: ColorRGB = (255, 150, 0)
#: Badge on frames where the template score map R_t was updated (Eq. 10).
TEMPLATE_UPDATED_COLOR: ColorRGB = (220, 0, 220)
TEXT_COLOR: ColorRGB = (255, 255, 255)
BACKGROUND_COLOR: ColorRGB = (40, 40, 40)

# Trackers' colours are not chosen here: they come from their styles
# (evaluation.analysis.styles, TrackerStyle.rgb255), so a tracker has its plots' colour in overlays too.

# OpenCV draws with int32 coordinates; far-off boxes are clipped to this range first.
_COORD_LIMIT = 100_000
_FONT = cv2.FONT_HERSHEY_SIMPLEX


def is_drawable_box(bbox_xywh: object) -> bool:
    """True for a finite ``[x, y, w, h]`` with positive width and height."""
    if bbox_xywh is None:
        return False
    b = np.asarray(bbox_xywh, dtype=np.float64).reshape(-1)
    return b.shape == (4,) and bool(np.all(np.isfinite(b))) and b[2] > 0 and b[3] > 0


def box_corners_px(bbox_xywh: object) -> tuple[int, int, int, int]:
    """Inclusive pixel corners ``(x1, y1, x2, y2)`` of a box, rounded to the nearest pixel.

    The exclusive corner of ``xyxy`` (``x + w``) becomes the last covered pixel ``x + w - 1``.
    """
    x1, y1, x2, y2 = xywh_to_xyxy(np.asarray(bbox_xywh, dtype=np.float64).reshape(4))
    corners = np.clip(np.round([x1, y1, x2 - 1, y2 - 1]), -_COORD_LIMIT, _COORD_LIMIT).astype(int)
    x1i, y1i, x2i, y2i = (int(v) for v in corners)
    return x1i, y1i, max(x1i, x2i), max(y1i, y2i)


def _dashed_line(canvas: np.ndarray, p0: tuple[int, int], p1: tuple[int, int], color: ColorRGB,
                 thickness: int, dash: int, gap: int) -> None:
    length = math.hypot(p1[0] - p0[0], p1[1] - p0[1])
    if length == 0:
        return
    # Cap the number of dashes: a far-off box must not cost millions of segments.
    step = max(dash + gap, length / 2000)
    t = 0.0
    while t < length:
        a = t / length
        b = min(t + dash, length) / length
        q0 = (int(round(p0[0] + a * (p1[0] - p0[0]))), int(round(p0[1] + a * (p1[1] - p0[1]))))
        q1 = (int(round(p0[0] + b * (p1[0] - p0[0]))), int(round(p0[1] + b * (p1[1] - p0[1]))))
        cv2.line(canvas, q0, q1, color, thickness, cv2.LINE_8)
        t += step


def draw_box_xywh(canvas: np.ndarray, bbox_xywh: object, color: ColorRGB, thickness: int = 2,
                  dashed: bool = False) -> bool:
    """Draw the outline of ``bbox_xywh`` into ``canvas``; returns False (nothing drawn) for an undrawable box.

    The outline is centred on the box border: with thickness ``t`` it covers pixels within
    ``t // 2 + 1`` of the rounded edges.
    """
    if not is_drawable_box(bbox_xywh):
        return False
    x1, y1, x2, y2 = box_corners_px(bbox_xywh)
    color = tuple(int(c) for c in color)
    if not dashed:
        cv2.rectangle(canvas, (x1, y1), (x2, y2), color, thickness, cv2.LINE_8)
        return True
    dash, gap = 3 * thickness + 4, 2 * thickness + 3
    for p0, p1 in (((x1, y1), (x2, y1)), ((x2, y1), (x2, y2)), ((x2, y2), (x1, y2)), ((x1, y2), (x1, y1))):
        _dashed_line(canvas, p0, p1, color, thickness, dash, gap)
    return True


def font_scale_for(image_shape: tuple[int, ...]) -> float:
    """A text scale readable on both 128x96 (OTB Girl) and 1280x720 frames."""
    return float(np.clip(min(image_shape[:2]) / 600.0, 0.35, 0.7))


def text_line_height(scale: float) -> int:
    (_, h), baseline = cv2.getTextSize("Ag", _FONT, scale, 1)
    return h + baseline + 4


def _shade(canvas: np.ndarray, region_xywh: tuple[int, int, int, int], color: ColorRGB,
           opacity: float = 0.6) -> None:
    """Darken a region towards ``color`` so text stays readable while the frame shows through."""
    x, y, w, h = region_xywh
    x1, y1 = max(x, 0), max(y, 0)
    x2, y2 = min(x + w, canvas.shape[1]), min(y + h, canvas.shape[0])
    if x2 <= x1 or y2 <= y1:
        return
    patch = canvas[y1:y2, x1:x2].astype(np.float32)
    canvas[y1:y2, x1:x2] = np.round(patch * (1.0 - opacity) + np.asarray(color, np.float32) * opacity).astype(np.uint8)


def draw_text_lines(canvas: np.ndarray, lines: Seq[str], origin_xy: tuple[int, int] = (2, 2),
                    color: ColorRGB = TEXT_COLOR, scale: float | None = None,
                    background: ColorRGB | None = BACKGROUND_COLOR) -> tuple[int, int, int, int]:
    """Draw ``lines`` top-down from ``origin_xy`` on a filled background; returns the used ``(x, y, w, h)``.

    Nothing is drawn (and ``(x, y, 0, 0)`` returned) for no lines.
    """
    x0, y0 = origin_xy
    if not lines:
        return x0, y0, 0, 0
    scale = font_scale_for(canvas.shape) if scale is None else scale
    line_h = text_line_height(scale)
    width = max(cv2.getTextSize(text, _FONT, scale, 1)[0][0] for text in lines) + 6
    height = line_h * len(lines) + 2
    if background is not None:
        _shade(canvas, (x0, y0, width, height), background)
    (_, text_h), _ = cv2.getTextSize("Ag", _FONT, scale, 1)
    for i, text in enumerate(lines):
        baseline_y = y0 + 2 + i * line_h + text_h + 1
        cv2.putText(canvas, text, (x0 + 3, baseline_y), _FONT, scale, tuple(int(c) for c in color), 1, cv2.LINE_AA)
    return x0, y0, width, height


def draw_badges(canvas: np.ndarray, badges: Seq[tuple[str, ColorRGB]], margin: int = 2,
                scale: float | None = None) -> list[tuple[int, int, int, int]]:
    """Draw filled, labelled badges stacked in the top-right corner; returns their ``(x, y, w, h)``."""
    scale = font_scale_for(canvas.shape) if scale is None else scale
    line_h = text_line_height(scale)
    (_, text_h), _ = cv2.getTextSize("Ag", _FONT, scale, 1)
    regions = []
    y = margin
    for label, color in badges:
        width = cv2.getTextSize(label, _FONT, scale, 1)[0][0] + 8
        x = max(0, canvas.shape[1] - margin - width)
        cv2.rectangle(canvas, (x, y), (x + width - 1, y + line_h - 1), tuple(int(c) for c in color), -1)
        cv2.putText(canvas, label, (x + 4, y + text_h + 2), _FONT, scale, (0, 0, 0), 1, cv2.LINE_AA)
        regions.append((x, y, width, line_h))
        y += line_h + margin
    return regions


def _fmt(value: object, digits: int = 3) -> str:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(value)
    return "-" if not math.isfinite(number) else f"{number:.{digits}g}"


def state_text_lines(output: Mapping[str, object], frame_number: int | None = None,
                     tracker_name: str | None = None) -> list[str]:
    """The text block of a debug frame: name, frame number, and the online state keys present.

    Keys read (each optional): ``peak``, ``psr``, ``jcpp``, ``loss``; NaN shows as ``-``.
    """
    lines: list[str] = []
    if tracker_name:
        lines.append(tracker_name)
    if frame_number is not None:
        lines.append(f"frame {frame_number}")
    confidence = [f"{label} {_fmt(output[key])}" for key, label in
                  (("peak", "peak"), ("psr", "PSR"), ("jcpp", "JCPP")) if key in output]
    if confidence:
        lines.append("  ".join(confidence))
    if "loss" in output:
        lines.append(f"loss {_fmt(output['loss'])}")
    return lines


def status_text_lines(output: Mapping[str, object], frame_number: int | None = None,
                      tracker_name: str | None = None) -> list[str]:
    """:func:`state_text_lines` packed into (at most) two lines for a status bar: tracker and frame
    number, then the online state (``peak``, ``PSR``, ``JCPP``, ``loss``: the keys present)."""
    head = [text for text in (tracker_name, None if frame_number is None else f"frame {frame_number}") if text]
    state = [f"{label} {_fmt(output[key])}" for key, label in
             (("peak", "peak"), ("psr", "PSR"), ("jcpp", "JCPP"), ("loss", "loss")) if key in output]
    return [line for line in ("   ".join(head), "  ".join(state)) if line]


def fit_text_scale(lines: Seq[str], width: int, scale: float, smallest: float = 0.3) -> float:
    """The largest font scale up to ``scale`` (down to ``smallest``) at which every line of ``lines``,
    as :func:`draw_text_lines` draws it, is at most ``width`` pixels wide."""
    if not lines:
        return scale
    widest = max(cv2.getTextSize(text, _FONT, scale, 1)[0][0] for text in lines) + 6
    if widest <= width:
        return scale
    return max(smallest, scale * width / widest)


def event_badges(output: Mapping[str, object]) -> list[tuple[str, ColorRGB]]:
    """Badges for the online events of this frame: network trained, template map updated."""
    badges: list[tuple[str, ColorRGB]] = []
    if bool(output.get("trained", False)):
        badges.append(("TRAINED", TRAINED_COLOR))
    if bool(output.get("template_updated", False)):
        badges.append(("R_t UPDATED", TEMPLATE_UPDATED_COLOR))
    return badges


def colorize_map(score_map: np.ndarray, size_wh: tuple[int, int],
                 value_range: tuple[float, float] | None = None,
                 interpolation: int = cv2.INTER_NEAREST) -> np.ndarray:
    """A 2-D map as an RGB ``uint8`` image of ``size_wh`` with the JET colour map.

    Values are scaled linearly from ``value_range`` (default: the map's min..max) to 0..255;
    a constant or all-NaN map is drawn at the low end. NaNs count as the minimum.
    """
    values = np.asarray(score_map, dtype=np.float64)
    if values.ndim != 2:
        raise ValueError(f"score map must be 2-D, got shape {values.shape}")
    finite = values[np.isfinite(values)]
    if value_range is None:
        value_range = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    low, high = value_range
    span = high - low if high > low else 1.0
    scaled = np.clip((np.nan_to_num(values, nan=low) - low) / span, 0.0, 1.0)
    gray = np.round(scaled * 255).astype(np.uint8)
    gray = cv2.resize(gray, (int(size_wh[0]), int(size_wh[1])), interpolation=interpolation)
    return cv2.cvtColor(cv2.applyColorMap(gray, cv2.COLORMAP_JET), cv2.COLOR_BGR2RGB)


def blend_heatmap(image_rgb: np.ndarray, score_map: np.ndarray, alpha: float = 0.5) -> np.ndarray:
    """``image_rgb`` with ``score_map`` (resized to the image, bilinear) blended on top as a heatmap.

    The map is taken to cover the whole image (the tracker aligns its upsampled response to its search crop).
    """
    height, width = image_rgb.shape[:2]
    heat = colorize_map(score_map, (width, height), interpolation=cv2.INTER_LINEAR)
    return cv2.addWeighted(np.ascontiguousarray(image_rgb, dtype=np.uint8), 1.0 - alpha, heat, alpha, 0.0)


def draw_legend(canvas: np.ndarray, entries: Iterable[tuple[str, ColorRGB, bool]],
                origin_xy: tuple[int, int] = (2, 2), scale: float | None = None) -> tuple[int, int, int, int]:
    """Draw a legend box of ``(label, colour, dashed)`` entries with line swatches; returns its ``(x, y, w, h)``."""
    entries = list(entries)
    x0, y0 = origin_xy
    if not entries:
        return x0, y0, 0, 0
    scale = font_scale_for(canvas.shape) if scale is None else scale
    line_h = text_line_height(scale)
    (_, text_h), _ = cv2.getTextSize("Ag", _FONT, scale, 1)
    swatch = max(14, int(line_h * 1.4))
    width = swatch + 10 + max(cv2.getTextSize(label, _FONT, scale, 1)[0][0] for label, _, _ in entries) + 4
    height = line_h * len(entries) + 2
    _shade(canvas, (x0, y0, width, height), BACKGROUND_COLOR, opacity=0.75)
    for i, (label, color, dashed) in enumerate(entries):
        y_mid = y0 + 1 + i * line_h + line_h // 2
        p0, p1 = (x0 + 4, y_mid), (x0 + 4 + swatch, y_mid)
        if dashed:
            _dashed_line(canvas, p0, p1, tuple(int(c) for c in color), 2, 4, 3)
        else:
            cv2.line(canvas, p0, p1, tuple(int(c) for c in color), 2, cv2.LINE_8)
        cv2.putText(canvas, label, (x0 + swatch + 10, y_mid + text_h // 2), _FONT, scale, TEXT_COLOR, 1, cv2.LINE_AA)
    return x0, y0, width, height


def pad_to_size(image_rgb: np.ndarray, height: int, width: int,
                fill: ColorRGB = BACKGROUND_COLOR) -> np.ndarray:
    """``image_rgb`` placed top-left on a ``height`` x ``width`` canvas filled with ``fill``."""
    h, w = image_rgb.shape[:2]
    if h > height or w > width:
        raise ValueError(f"cannot pad a {w}x{h} image into {width}x{height}")
    canvas = np.empty((height, width, 3), dtype=np.uint8)
    canvas[:] = fill
    canvas[:h, :w] = image_rgb
    return canvas
