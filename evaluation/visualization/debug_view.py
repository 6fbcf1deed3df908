"""The debug view of one frame at levels 1-3, composed from the drawing primitives in ``overlay``.

Layout (all pure functions of the frame and the tracker's output dict):

- level 1: the frame (same size) with the ground truth (green), the prediction (red), a text block
  top-left (tracker, frame number, peak / PSR / JCPP / loss when present) and badges top-right on
  frames where the network was trained or R_t updated;
- level 2: a page (:func:`debug_layout`) with nothing drawn over the frame but its boxes: the frame,
  also with the search area (dashed cyan), beside a panel holding the search crop with the upsampled
  score map as a heatmap and, below it, R_t beside R_c on a common colour scale. Frame and panel
  have one height: frames shorter than the panel's natural height (:data:`MIN_FRAME_HEIGHT`, e.g.
  OTB's 360 x 240) are scaled up to it, taller ones keep their size up to
  :data:`MAX_FRAME_HEIGHT` (scaled down above) and the panel is drawn that tall. Under both, a
  two-line status bar holds the text and the event badges;
- level 3: also a time-line strip (JCPP, loss, events so far) at the bottom, rendered by the caller
  (:func:`evaluation.visualization.timeline.render_timeline_rgb`) and passed in.

Missing keys (OpenCV peers give only ``target_bbox``) leave their element out; panels keep their size
(placeholders say what is missing) so every frame of a sequence has the same view size.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import cv2
import numpy as np

from evaluation.visualization.overlay import (
    BACKGROUND_COLOR, GT_COLOR, PREDICTION_COLOR, SEARCH_AREA_COLOR, blend_heatmap, colorize_map,
    draw_badges, draw_box_xywh, draw_text_lines, event_badges, fit_text_scale, state_text_lines,
    status_text_lines, text_line_height,
)

#: Side of the displayed search crop (SiamFC's 255 x 255 search image) in the panel's natural size.
CROP_SIDE = 255
#: Side of each displayed 17 x 17 score map (R_t, R_c) after upscaling, natural size.
MAP_SIDE = 125
PANEL_MARGIN = 4
LABEL_HEIGHT = 16
#: Width of the level-2 panel at its natural size: one crop, or two maps and a gap.
PANEL_WIDTH = CROP_SIDE + 2 * PANEL_MARGIN
#: Height of the level-2 panel at its natural size.
PANEL_HEIGHT = 3 * PANEL_MARGIN + 2 * LABEL_HEIGHT + CROP_SIDE + MAP_SIDE
#: Frames are shown at least this tall at levels 2-3 (scaled up; the panel's natural height) ...
MIN_FRAME_HEIGHT = PANEL_HEIGHT
#: ... and at most this tall (scaled down), so that a 1280 x 720 page stays on a 1920 x 1080 screen.
MAX_FRAME_HEIGHT = 720
#: Font scale of the status bar's text on a page of the panel's natural height (larger on taller
#: pages, up to 1.5 times; smaller where a line would not fit).
STATUS_FONT_SCALE = 0.5
#: Height of the level-3 time-line strip.
TIMELINE_HEIGHT = 170

Rect = tuple[int, int, int, int]


@dataclass(frozen=True)
class DebugLayout:
    """Where the parts of a level-2/3 view go; rectangles are ``(x, y, w, h)`` in view pixels.

    Attributes:
        frame_scale: display size / frame size (the boxes are scaled by it).
        frame_xywh: the (scaled) frame, top-left.
        panel_scale: panel size / the panel's natural size (:data:`PANEL_WIDTH` x :data:`PANEL_HEIGHT`).
        panel_xywh: the search-crop and score-map panel, right of the frame.
        status_xywh: the status bar (two lines of text, badges) under both, the view's full width.
        status_font_scale: the status bar's font scale.
        timeline_xywh: the time-line strip at the bottom (level 3), else None.
        height, width: the whole view.
    """

    frame_scale: float
    frame_xywh: Rect
    panel_scale: float
    panel_xywh: Rect
    status_xywh: Rect
    status_font_scale: float
    timeline_xywh: Rect | None
    height: int
    width: int


@dataclass(frozen=True)
class _PanelGeometry:
    margin: int
    label: int
    crop: int
    map: int
    text_scale: float

    @property
    def width(self) -> int:
        return self.crop + 2 * self.margin

    @property
    def height(self) -> int:
        return 3 * self.margin + 2 * self.label + self.crop + self.map


def _panel_geometry(scale: float) -> _PanelGeometry:
    return _PanelGeometry(margin=round(PANEL_MARGIN * scale), label=round(LABEL_HEIGHT * scale),
                          crop=round(CROP_SIDE * scale), map=round(MAP_SIDE * scale), text_scale=0.4 * scale)


def debug_layout(frame_shape: tuple[int, ...], level: int) -> DebugLayout:
    """The page of :func:`compose_debug_view` at ``level`` >= 2 for frames of ``frame_shape`` (H, W, ...)."""
    if level < 2:
        raise ValueError(f"the debug page has a layout from level 2 on, got level {level}")
    height, width = int(frame_shape[0]), int(frame_shape[1])
    if height < 1 or width < 1:
        raise ValueError(f"frame must have a positive size, got shape {tuple(frame_shape)}")
    shown_height = min(max(height, MIN_FRAME_HEIGHT), MAX_FRAME_HEIGHT)
    frame_scale = shown_height / height
    frame_w = max(1, round(width * frame_scale))
    panel_scale = shown_height / PANEL_HEIGHT
    panel = _panel_geometry(panel_scale)
    top = max(shown_height, panel.height)  # equal up to rounding
    view_w = frame_w + panel.width
    status_font_scale = STATUS_FONT_SCALE * min(max(panel_scale, 1.0), 1.5)
    status_h = 2 * text_line_height(status_font_scale) + 8
    status = (0, top, view_w, status_h)
    view_h = top + status_h
    timeline = None
    if level >= 3:
        timeline = (0, view_h, view_w, TIMELINE_HEIGHT)
        view_h += TIMELINE_HEIGHT
    return DebugLayout(frame_scale, (0, 0, frame_w, shown_height), panel_scale, (frame_w, 0, panel.width, panel.height),
                       status, status_font_scale, timeline, view_h, view_w)


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
                         tracker_name: str | None = None, show_text: bool = True,
                         show_badges: bool = True) -> np.ndarray:
    """The frame with boxes, state text and event badges; same shape as ``image_rgb`` (a new array).

    Args:
        image_rgb: H x W x 3 uint8 RGB frame (not modified); grayscale frames are drawn as RGB.
        output: the tracker's output dict for this frame (``target_bbox``, ``peak``, ``psr``, ``jcpp``,
            ``loss``, ``trained``, ``template_updated``, ``search_area_xywh``; all optional).
        gt_xywh: ground-truth ``[x, y, w, h]`` or None (invalid rows are not drawn).
        frame_number: the number printed on the frame (None: not printed).
        level: debug level; the search area is drawn from level 2.
        tracker_name: printed above the frame number when given.
        show_text: False draws no text block.
        show_badges: False draws no event badges.
    """
    canvas = as_rgb_canvas(image_rgb)
    if level >= 2:
        draw_box_xywh(canvas, output.get("search_area_xywh"), SEARCH_AREA_COLOR, thickness=1, dashed=True)
    draw_box_xywh(canvas, gt_xywh, GT_COLOR, thickness=1)
    draw_box_xywh(canvas, output.get("target_bbox"), PREDICTION_COLOR, thickness=2)
    if show_text:
        draw_text_lines(canvas, state_text_lines(output, frame_number, tracker_name))
    if show_badges:
        draw_badges(canvas, event_badges(output))
    return canvas


def _placeholder(height: int, width: int, text: str, text_scale: float = 0.4) -> np.ndarray:
    tile = np.empty((height, width, 3), dtype=np.uint8)
    tile[:] = (70, 70, 70)
    draw_text_lines(tile, [text], (2, height // 2 - 8), scale=text_scale, background=None)
    return tile


def _score_maps_row(output: Mapping[str, object], geometry: _PanelGeometry) -> np.ndarray:
    """R_t beside R_c, upscaled, on their joint min..max so the two are comparable."""
    side = geometry.map
    maps = [output.get("template_score_map"), output.get("current_score_map")]
    present = [np.asarray(m, dtype=np.float64) for m in maps if m is not None]
    finite = np.concatenate([m[np.isfinite(m)].ravel() for m in present]) if present else np.empty(0)
    value_range = (float(finite.min()), float(finite.max())) if finite.size else None
    tiles = []
    for score_map, name in zip(maps, ("R_t", "R_c")):
        if score_map is None:
            tiles.append(_placeholder(side, side, f"no {name}", geometry.text_scale))
        else:
            tiles.append(colorize_map(np.asarray(score_map), (side, side), value_range))
    gap = np.empty((side, geometry.crop - 2 * side, 3), dtype=np.uint8)
    gap[:] = BACKGROUND_COLOR
    return np.hstack([tiles[0], gap, tiles[1]])


def _search_tile(output: Mapping[str, object], geometry: _PanelGeometry) -> np.ndarray:
    side = geometry.crop
    crop = output.get("search_crop")
    score_map = output.get("score_map")
    if crop is not None:
        crop = np.asarray(crop, dtype=np.uint8)
        if crop.ndim == 2:
            crop = cv2.cvtColor(crop, cv2.COLOR_GRAY2RGB)
        crop = cv2.resize(crop, (side, side), interpolation=cv2.INTER_LINEAR)
        return blend_heatmap(crop, np.asarray(score_map)) if score_map is not None else crop
    if score_map is not None:
        return colorize_map(np.asarray(score_map), (side, side), interpolation=cv2.INTER_LINEAR)
    return _placeholder(side, side, "no search crop", geometry.text_scale)


def render_maps_panel(output: Mapping[str, object], scale: float = 1.0) -> np.ndarray:
    """The level-2 panel: search crop + heatmap, then R_t | R_c; ``PANEL_HEIGHT`` x ``PANEL_WIDTH`` times
    ``scale`` (rounded), drawn at that size (crisp labels and maps, not an enlarged picture)."""
    geometry = _panel_geometry(scale)
    panel = np.empty((geometry.height, geometry.width, 3), dtype=np.uint8)
    panel[:] = BACKGROUND_COLOR
    x = y = geometry.margin
    draw_text_lines(panel, ["search crop + score map"], (x, y), scale=geometry.text_scale, background=None)
    y += geometry.label
    panel[y:y + geometry.crop, x:x + geometry.crop] = _search_tile(output, geometry)
    y += geometry.crop + geometry.margin
    draw_text_lines(panel, ["R_t (template)"], (x, y), scale=geometry.text_scale, background=None)
    draw_text_lines(panel, ["R_c (current)"], (x + geometry.crop - geometry.map, y), scale=geometry.text_scale,
                    background=None)
    y += geometry.label
    panel[y:y + geometry.map, x:x + geometry.crop] = _score_maps_row(output, geometry)
    return panel


def render_status_bar(output: Mapping[str, object], size_wh: tuple[int, int], frame_number: int | None = None,
                      tracker_name: str | None = None, font_scale: float = STATUS_FONT_SCALE) -> np.ndarray:
    """The level-2/3 status bar (``size_wh``): two lines of text on the left (tracker and frame; the
    online state, :func:`~evaluation.visualization.overlay.status_text_lines`), the event badges
    on the right; the text is made smaller where it would run into the badges."""
    width, height = size_wh
    bar = np.empty((height, width, 3), dtype=np.uint8)
    bar[:] = BACKGROUND_COLOR
    badges = draw_badges(bar, event_badges(output), scale=font_scale)
    right = min((x for x, _, _, _ in badges), default=width) - 8
    lines = status_text_lines(output, frame_number, tracker_name)
    scale = fit_text_scale(lines, right - 8, font_scale)
    draw_text_lines(bar, lines, (4, 2), scale=scale, background=None)
    return bar


def _scale_box(bbox_xywh: object, scale: float) -> object:
    if bbox_xywh is None:
        return None
    return (np.asarray(bbox_xywh, dtype=np.float64).reshape(-1) * scale).tolist()


def debug_view_shape(frame_shape: tuple[int, ...], level: int) -> tuple[int, int]:
    """``(height, width)`` of :func:`compose_debug_view`'s result for frames of ``frame_shape``."""
    if level < 2:
        return int(frame_shape[0]), int(frame_shape[1])
    layout = debug_layout(frame_shape, level)
    return layout.height, layout.width


def compose_debug_view(image_rgb: np.ndarray, output: Mapping[str, object], gt_xywh: object = None,
                       frame_number: int | None = None, level: int = 1, tracker_name: str | None = None,
                       timeline_rgb: np.ndarray | None = None) -> np.ndarray:
    """The whole debug view for ``level`` (see the module docstring); shape :func:`debug_view_shape`.

    At level 1 the result is the frame overlay itself (the frame's size). From level 2 on the parts go
    where :func:`debug_layout` puts them; the frame shows only boxes (no text, no badges: those are in
    the status bar). ``timeline_rgb`` (level 3) is resized to the strip's size; None leaves it empty.
    """
    if level < 1:
        raise ValueError(f"debug level must be >= 1 to draw a view, got {level}")
    if level == 1:
        return render_frame_overlay(image_rgb, output, gt_xywh, frame_number, level, tracker_name)
    layout = debug_layout(image_rgb.shape, level)
    view = np.empty((layout.height, layout.width, 3), dtype=np.uint8)
    view[:] = BACKGROUND_COLOR

    x, y, w, h = layout.frame_xywh
    frame = as_rgb_canvas(image_rgb)
    if (w, h) != (frame.shape[1], frame.shape[0]):
        shrink = layout.frame_scale < 1
        frame = cv2.resize(frame, (w, h), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
    # Boxes are drawn on the scaled frame (crisp 1-2 px lines at any scale).
    scaled = dict(output)
    for key in ("target_bbox", "search_area_xywh"):
        if key in scaled:
            scaled[key] = _scale_box(scaled[key], layout.frame_scale)
    view[y:y + h, x:x + w] = render_frame_overlay(frame, scaled, _scale_box(gt_xywh, layout.frame_scale),
                                                  level=level, show_text=False, show_badges=False)

    x, y, w, h = layout.panel_xywh
    view[y:y + h, x:x + w] = render_maps_panel(output, layout.panel_scale)
    x, y, w, h = layout.status_xywh
    view[y:y + h, x:x + w] = render_status_bar(output, (w, h), frame_number, tracker_name,
                                                layout.status_font_scale)
    if layout.timeline_xywh is not None and timeline_rgb is not None:
        x, y, w, h = layout.timeline_xywh
        view[y:y + h, x:x + w] = cv2.resize(np.asarray(timeline_rgb, dtype=np.uint8), (w, h),
                                            interpolation=cv2.INTER_AREA)
    return view
