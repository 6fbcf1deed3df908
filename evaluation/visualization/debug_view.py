"""The debug view of one frame at levels 1-3, composed from the drawing primitives in ``overlay``.

Layout (all pure functions of the frame and the tracker's output dict):

- level 1: the frame (same size) with the ground truth (green), the prediction (red), a text block
  top-left (tracker, frame number, peak / PSR / JCPP / loss when present) and badges top-right on
  frames where the network was trained or R_t updated;
- level 2: also the search area (dashed cyan) on the frame, and a panel to the right: the search crop
  with the upsampled score map as a heatmap, and below it R_t beside R_c on a common colour scale;
- level 3: also a time-line strip (JCPP, loss, events so far) under both, rendered by the caller
  (:func:`evaluation.visualization.timeline.render_timeline_rgb`) and passed in.

Missing keys (OpenCV peers give only ``target_bbox``) leave their element out; panels keep their size
(placeholders say what is missing) so every frame of a sequence has the same view size.
"""
from __future__ import annotations

from typing import Mapping

import cv2
import numpy as np

from evaluation.visualization.overlay import (
    BACKGROUND_COLOR, GT_COLOR, PREDICTION_COLOR, SEARCH_AREA_COLOR, blend_heatmap, colorize_map,
    draw_badges, draw_box_xywh, draw_text_lines, event_badges, pad_to_size, state_text_lines,
)

#: Side of the displayed search crop (SiamFC's 255 x 255 search image).
CROP_SIDE = 255
#: Side of each displayed 17 x 17 score map (R_t, R_c) after upscaling.
MAP_SIDE = 125
PANEL_MARGIN = 4
LABEL_HEIGHT = 16
#: Width of the level-2 panel: one crop, or two maps and a gap.
PANEL_WIDTH = CROP_SIDE + 2 * PANEL_MARGIN
#: Height of the level-2 panel.
PANEL_HEIGHT = 3 * PANEL_MARGIN + 2 * LABEL_HEIGHT + CROP_SIDE + MAP_SIDE
#: Height of the level-3 time-line strip.
TIMELINE_HEIGHT = 170


def as_rgb_canvas(image: np.ndarray) -> np.ndarray:
    """A new H x W x 3 uint8 copy of ``image``; grayscale (H x W or H x W x 1) is expanded to RGB."""
    canvas = np.array(image, dtype=np.uint8, copy=True)
    if canvas.ndim == 3 and canvas.shape[2] == 1:
        canvas = canvas[..., 0]
    if canvas.ndim == 2:
        return cv2.cvtColor(canvas, cv2.COLOR_GRAY2RGB)
    if canvas.ndim != 3 or canvas.shape[2] != 3:
        raise ValueError(f"frame must be H x W x 3 RGB or H x W grayscale, got shape {canvas.shape}")
    return canvas


def render_frame_overlay(image_rgb: np.ndarray, output: Mapping[str, object], gt_xywh: object = None,
                         frame_number: int | None = None, level: int = 1,
                         tracker_name: str | None = None, show_text: bool = True) -> np.ndarray:
    """The frame with boxes, state text and event badges; same shape as ``image_rgb`` (a new array).

    Args:
        image_rgb: H x W x 3 uint8 RGB frame (not modified); grayscale frames are drawn as RGB.
        output: the tracker's output dict for this frame (``target_bbox``, ``peak``, ``psr``, ``jcpp``,
            ``loss``, ``trained``, ``template_updated``, ``search_area_xywh``; all optional).
        gt_xywh: ground-truth ``[x, y, w, h]`` or None (invalid rows are not drawn).
        frame_number: the number printed on the frame (None: not printed).
        level: debug level; the search area is drawn from level 2.
        tracker_name: printed above the frame number when given.
        show_text: False draws only boxes and badges.
    """
    canvas = as_rgb_canvas(image_rgb)
    if level >= 2:
        draw_box_xywh(canvas, output.get("search_area_xywh"), SEARCH_AREA_COLOR, thickness=1, dashed=True)
    draw_box_xywh(canvas, gt_xywh, GT_COLOR, thickness=1)
    draw_box_xywh(canvas, output.get("target_bbox"), PREDICTION_COLOR, thickness=2)
    if show_text:
        draw_text_lines(canvas, state_text_lines(output, frame_number, tracker_name))
    draw_badges(canvas, event_badges(output))
    return canvas


def _placeholder(height: int, width: int, text: str) -> np.ndarray:
    tile = np.empty((height, width, 3), dtype=np.uint8)
    tile[:] = (70, 70, 70)
    draw_text_lines(tile, [text], (2, height // 2 - 8), scale=0.4, background=None)
    return tile


def _score_maps_row(output: Mapping[str, object]) -> np.ndarray:
    """R_t beside R_c, upscaled, on their joint min..max so the two are comparable."""
    maps = [output.get("template_score_map"), output.get("current_score_map")]
    present = [np.asarray(m, dtype=np.float64) for m in maps if m is not None]
    finite = np.concatenate([m[np.isfinite(m)].ravel() for m in present]) if present else np.empty(0)
    value_range = (float(finite.min()), float(finite.max())) if finite.size else None
    tiles = []
    for score_map, name in zip(maps, ("R_t", "R_c")):
        if score_map is None:
            tiles.append(_placeholder(MAP_SIDE, MAP_SIDE, f"no {name}"))
        else:
            tiles.append(colorize_map(np.asarray(score_map), (MAP_SIDE, MAP_SIDE), value_range))
    gap = np.empty((MAP_SIDE, CROP_SIDE - 2 * MAP_SIDE, 3), dtype=np.uint8)
    gap[:] = BACKGROUND_COLOR
    return np.hstack([tiles[0], gap, tiles[1]])


def _search_tile(output: Mapping[str, object]) -> np.ndarray:
    crop = output.get("search_crop")
    score_map = output.get("score_map")
    if crop is not None:
        crop = np.asarray(crop, dtype=np.uint8)
        if crop.ndim == 2:
            crop = cv2.cvtColor(crop, cv2.COLOR_GRAY2RGB)
        crop = cv2.resize(crop, (CROP_SIDE, CROP_SIDE), interpolation=cv2.INTER_LINEAR)
        return blend_heatmap(crop, np.asarray(score_map)) if score_map is not None else crop
    if score_map is not None:
        return colorize_map(np.asarray(score_map), (CROP_SIDE, CROP_SIDE), interpolation=cv2.INTER_LINEAR)
    return _placeholder(CROP_SIDE, CROP_SIDE, "no search crop")


def render_maps_panel(output: Mapping[str, object]) -> np.ndarray:
    """The level-2 panel (``PANEL_HEIGHT`` x ``PANEL_WIDTH``): search crop + heatmap, then R_t | R_c."""
    panel = np.empty((PANEL_HEIGHT, PANEL_WIDTH, 3), dtype=np.uint8)
    panel[:] = BACKGROUND_COLOR
    x = PANEL_MARGIN
    y = PANEL_MARGIN
    draw_text_lines(panel, ["search crop + score map"], (x, y), scale=0.4, background=None)
    y += LABEL_HEIGHT
    panel[y:y + CROP_SIDE, x:x + CROP_SIDE] = _search_tile(output)
    y += CROP_SIDE + PANEL_MARGIN
    draw_text_lines(panel, ["R_t (template)"], (x, y), scale=0.4, background=None)
    draw_text_lines(panel, ["R_c (current)"], (x + CROP_SIDE - MAP_SIDE, y), scale=0.4, background=None)
    y += LABEL_HEIGHT
    panel[y:y + MAP_SIDE, x:x + CROP_SIDE] = _score_maps_row(output)
    return panel


def debug_view_shape(frame_shape: tuple[int, ...], level: int) -> tuple[int, int]:
    """``(height, width)`` of :func:`compose_debug_view`'s result for frames of ``frame_shape``."""
    height, width = frame_shape[:2]
    if level >= 2:
        height, width = max(height, PANEL_HEIGHT), width + PANEL_WIDTH
    if level >= 3:
        height += TIMELINE_HEIGHT
    return height, width


def compose_debug_view(image_rgb: np.ndarray, output: Mapping[str, object], gt_xywh: object = None,
                       frame_number: int | None = None, level: int = 1, tracker_name: str | None = None,
                       timeline_rgb: np.ndarray | None = None) -> np.ndarray:
    """The whole debug view for ``level`` (see the module docstring); shape :func:`debug_view_shape`.

    At level 1 the result is the frame overlay itself (the frame's size). ``timeline_rgb`` (level 3) is
    resized to the view's width x ``TIMELINE_HEIGHT``; None leaves the strip empty.
    """
    if level < 1:
        raise ValueError(f"debug level must be >= 1 to draw a view, got {level}")
    view = render_frame_overlay(image_rgb, output, gt_xywh, frame_number, level, tracker_name)
    if level == 1:
        return view
    height, width = debug_view_shape(image_rgb.shape, 2)
    top = pad_to_size(view, height, width)
    top[:PANEL_HEIGHT, image_rgb.shape[1]:] = render_maps_panel(output)
    if level == 2:
        return top
    strip = np.empty((TIMELINE_HEIGHT, width, 3), dtype=np.uint8)
    strip[:] = BACKGROUND_COLOR
    if timeline_rgb is not None:
        strip[:] = cv2.resize(np.asarray(timeline_rgb, dtype=np.uint8), (width, TIMELINE_HEIGHT),
                              interpolation=cv2.INTER_AREA)
    return np.vstack([top, strip])
