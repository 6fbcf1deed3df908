"""Debug views: overlays, panels, time-lines, window/video sinks and the runner's observer."""
from __future__ import annotations

import csv
import logging
import sys
from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np
import pytest

from evaluation import registry, running
from evaluation.data import Sequence
from evaluation.tracker import Tracker
from evaluation.visualization import make_debug_observer
from evaluation.visualization import sinks as sinks_module
from evaluation.visualization.debug_observer import DebugObserver, safe_file_name
from evaluation.visualization.debug_view import (
    CROP_SIDE, LABEL_HEIGHT, MAP_SIDE, MAX_FRAME_HEIGHT, MIN_FRAME_HEIGHT, PANEL_HEIGHT, PANEL_MARGIN, PANEL_WIDTH,
    TIMELINE_HEIGHT, compose_debug_view, debug_layout, debug_view_shape, render_frame_overlay,
)
from evaluation.visualization.overlay import (
    BACKGROUND_COLOR, blend_heatmap, box_corners_px, colorize_map, draw_box_xywh, draw_legend, event_badges,
    state_text_lines, status_text_lines,
)
from evaluation.visualization.sinks import KeyAction, VideoSink, WindowSink, display_available, key_action
from evaluation.visualization.timeline import (
    TimelineHistory, TimelinePanel, nice_upper_limit, render_timeline_rgb, save_timeline,
)
from runner_fakes import small_synthetic_sequence

GREY = 128


def grey_frame(height: int = 120, width: int = 160) -> np.ndarray:
    return np.full((height, width, 3), GREY, dtype=np.uint8)


def edge_band_mask(shape: tuple[int, int], bbox_xywh, margin: int) -> np.ndarray:
    """Pixels within ``margin`` of the rounded outline of ``bbox_xywh``."""
    x1, y1, x2, y2 = box_corners_px(bbox_xywh)
    yy, xx = np.mgrid[:shape[0], :shape[1]]
    inside_outer = (xx >= x1 - margin) & (xx <= x2 + margin) & (yy >= y1 - margin) & (yy <= y2 + margin)
    inside_inner = (xx > x1 + margin) & (xx < x2 - margin) & (yy > y1 + margin) & (yy < y2 - margin)
    return inside_outer & ~inside_inner


def changed(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.any(a != b, axis=-1)


def toy_sequence(n_frames: int = 10, height: int = 96, width: int = 128, name: str = "toy") -> Sequence:
    """A short sequence of the shared synthetic generator (``runner_fakes``), frames rendered on demand."""
    return small_synthetic_sequence(n_frames, image_wh=(width, height), name=name)


def siamot_like_output(bbox, rng: np.random.Generator, trained: bool = True) -> dict:
    return {
        "target_bbox": list(bbox), "time": 0.01, "peak": 0.8, "psr": 7.5, "jcpp": 0.9, "loss": 0.2,
        "trained": trained, "template_updated": trained,
        "search_crop": rng.integers(0, 255, size=(255, 255, 3), dtype=np.uint8),
        "score_map": rng.random((272, 272)).astype(np.float32),
        "current_score_map": rng.random((17, 17)).astype(np.float32),
        "template_score_map": rng.random((17, 17)).astype(np.float32),
        "search_area_xywh": [bbox[0] - 20, bbox[1] - 20, bbox[2] + 40, bbox[3] + 40],
    }


# --------------------------------------------------------------------------- overlays


@pytest.mark.parametrize("bbox", [[30.0, 20.0, 50.0, 40.0], [30.4, 19.6, 50.7, 39.2], [-10.0, 100.0, 40.0, 40.0]])
def test_box_changes_only_pixels_near_its_edges(bbox):
    frame = grey_frame()
    overlay = render_frame_overlay(frame, {"target_bbox": bbox}, show_text=False)
    assert overlay.shape == frame.shape and overlay.dtype == np.uint8
    diff = changed(overlay, frame)
    assert diff.any()
    assert not (diff & ~edge_band_mask(frame.shape[:2], bbox, margin=2)).any()
    assert np.array_equal(frame, grey_frame())  # the input is not modified


def test_ground_truth_and_prediction_both_drawn_near_their_edges():
    frame = grey_frame()
    pred, gt = [20.0, 15.0, 40.0, 30.0], [90.0, 60.0, 50.0, 45.0]
    diff = changed(render_frame_overlay(frame, {"target_bbox": pred}, gt, show_text=False), frame)
    near_pred = edge_band_mask(frame.shape[:2], pred, 2)
    near_gt = edge_band_mask(frame.shape[:2], gt, 2)
    assert (diff & near_pred).any() and (diff & near_gt).any()
    assert not (diff & ~(near_pred | near_gt)).any()


@pytest.mark.parametrize("bad", [None, [np.nan, 1, 2, 3], [5, 5, 0, 10], [5, 5, -3, 10], [1, 2, 3]])
def test_undrawable_boxes_leave_the_frame_unchanged(bad):
    frame = grey_frame()
    output = {} if bad is None else {"target_bbox": bad}
    assert np.array_equal(render_frame_overlay(frame, output, bad, show_text=False), frame)


def test_grayscale_frames_are_drawn_in_colour_and_bad_shapes_rejected():
    gray = np.full((40, 50), 90, dtype=np.uint8)
    for frame in (gray, gray[..., None]):
        overlay = render_frame_overlay(frame, {"target_bbox": [5, 5, 20, 20]}, show_text=False)
        assert overlay.shape == (40, 50, 3) and overlay[5, 10, 0] != overlay[5, 10, 1]
    with pytest.raises(ValueError, match="H x W x 3"):
        render_frame_overlay(np.zeros((4, 4, 4), np.uint8), {})


def test_far_away_box_does_not_fail():
    frame = grey_frame()
    overlay = render_frame_overlay(frame, {"target_bbox": [1e12, -1e12, 5e12, 5e12]}, show_text=False)
    assert np.array_equal(overlay, frame)  # entirely outside: nothing drawn


def test_dashed_box_stays_on_the_edges_and_has_gaps():
    bbox = [20.0, 20.0, 100.0, 70.0]
    solid, dashed = grey_frame(), grey_frame()
    assert draw_box_xywh(solid, bbox, (255, 0, 0), thickness=1)
    assert draw_box_xywh(dashed, bbox, (255, 0, 0), thickness=1, dashed=True)
    diff_dashed = changed(dashed, grey_frame())
    assert not (diff_dashed & ~edge_band_mask(solid.shape[:2], bbox, 1)).any()
    assert 0.3 * changed(solid, grey_frame()).sum() < diff_dashed.sum() < 0.9 * changed(solid, grey_frame()).sum()


def test_state_text_and_event_badges_only_in_their_corners():
    frame = grey_frame(200, 320)
    bbox = [120.0, 90.0, 60.0, 50.0]
    output = {"target_bbox": bbox, "peak": 0.81, "psr": 6.2, "jcpp": 0.93, "loss": 0.12,
              "trained": True, "template_updated": True}
    overlay = render_frame_overlay(frame, output, frame_number=17)
    diff = changed(overlay, frame) & ~edge_band_mask(frame.shape[:2], bbox, 2)
    ys, xs = np.nonzero(diff)
    left = xs < frame.shape[1] // 2
    assert left.any() and (~left).any()  # text top-left, badges top-right
    assert ys.max() < frame.shape[0] // 2
    lines = state_text_lines(output, 17)
    assert lines[0] == "frame 17" and "JCPP 0.93" in lines[1] and lines[2] == "loss 0.12"
    assert [label for label, _ in event_badges(output)] == ["TRAINED", "R_t UPDATED"]


def test_no_badges_without_events_and_nan_state_shown_as_dash():
    output = {"peak": float("nan"), "jcpp": 0.5, "trained": False, "template_updated": False}
    assert event_badges(output) == []
    assert state_text_lines(output) == ["peak -  JCPP 0.5"]
    assert state_text_lines({"target_bbox": [1, 2, 3, 4]}) == []  # an OpenCV peer: no state


def test_colorize_map_scales_min_to_blue_and_max_to_red():
    score_map = np.zeros((17, 17), dtype=np.float32)
    score_map[8, 8] = 1.0
    image = colorize_map(score_map, (170, 170))
    assert image.shape == (170, 170, 3) and image.dtype == np.uint8
    peak, low = image[85, 85].astype(int), image[0, 0].astype(int)
    assert peak[0] > peak[2] and low[2] > low[0]  # RGB: red at the peak, blue elsewhere
    assert colorize_map(np.full((5, 5), 3.0), (10, 10)).shape == (10, 10, 3)  # constant map
    with pytest.raises(ValueError, match="2-D"):
        colorize_map(np.zeros((2, 2, 2)), (4, 4))


def test_blend_heatmap_keeps_size_and_changes_the_image():
    crop = grey_frame(255, 255)
    blended = blend_heatmap(crop, np.random.default_rng(1).random((272, 272)))
    assert blended.shape == crop.shape and changed(blended, crop).mean() > 0.9


def test_legend_is_drawn_in_its_box():
    canvas = grey_frame(200, 300)
    x, y, w, h = draw_legend(canvas, [("A", (255, 0, 0), False), ("B baseline", (0, 0, 255), True)])
    ys, xs = np.nonzero(changed(canvas, grey_frame(200, 300)))
    assert w > 0 and h > 0 and xs.min() >= x and xs.max() < x + w and ys.min() >= y and ys.max() < y + h


# --------------------------------------------------------------------------- levels 2 and 3


def test_level2_adds_panel_and_search_area_only():
    rng = np.random.default_rng(3)
    frame = grey_frame(PANEL_HEIGHT, 320)  # the panel's natural height: frame and panel unscaled
    output = siamot_like_output([120.0, 100.0, 50.0, 40.0], rng)
    level1 = compose_debug_view(frame, output, None, 5, level=1)
    level2 = compose_debug_view(frame, output, None, 5, level=2)
    layout = debug_layout(frame.shape, 2)
    assert level1.shape == frame.shape
    assert layout.frame_scale == layout.panel_scale == 1.0 and layout.timeline_xywh is None
    assert layout.frame_xywh == (0, 0, 320, PANEL_HEIGHT) and layout.panel_xywh == (320, 0, PANEL_WIDTH, PANEL_HEIGHT)
    assert level2.shape[:2] == debug_view_shape(frame.shape, 2) == (layout.height, 320 + PANEL_WIDTH)
    # On the frame, level 2 draws the boxes and the (dashed) search area, no text and no badges.
    frame_part = level2[:PANEL_HEIGHT, :320]
    boxes_only = render_frame_overlay(frame, output, None, level=2, show_text=False, show_badges=False)
    assert np.array_equal(frame_part, boxes_only)
    diff = changed(frame_part, grey_frame(PANEL_HEIGHT, 320))
    bands = edge_band_mask(frame.shape[:2], output["search_area_xywh"], 1) | \
        edge_band_mask(frame.shape[:2], output["target_bbox"], 2)
    assert diff.any() and not (diff & ~bands).any()
    # The panel shows the crop blended with the score map, exactly.
    top = PANEL_MARGIN + LABEL_HEIGHT
    crop_tile = level2[top:top + CROP_SIDE, 320 + PANEL_MARGIN:320 + PANEL_MARGIN + CROP_SIDE]
    assert np.array_equal(crop_tile, blend_heatmap(output["search_crop"], output["score_map"]))
    maps_top = top + CROP_SIDE + PANEL_MARGIN + LABEL_HEIGHT
    r_t = level2[maps_top:maps_top + MAP_SIDE, 320 + PANEL_MARGIN:320 + PANEL_MARGIN + MAP_SIDE]
    assert len(np.unique(r_t.reshape(-1, 3), axis=0)) > 10  # a colour-mapped 17x17 map, not a placeholder
    # The state text and the badges are in the status bar under frame and panel.
    x, y, w, h = layout.status_xywh
    assert (x, y, w) == (0, PANEL_HEIGHT, layout.width) and y + h == layout.height
    bar = level2[y:y + h]
    assert changed(bar, np.full_like(bar, BACKGROUND_COLOR)).mean() > 0.02
    assert status_text_lines(output, 5) == ["frame 5", "peak 0.8  PSR 7.5  JCPP 0.9  loss 0.2"]


def test_level2_without_debug_keys_keeps_its_size():
    frame = grey_frame(480, 400)
    view = compose_debug_view(frame, {"target_bbox": [10, 10, 30, 30]}, None, 1, level=2)
    layout = debug_layout(frame.shape, 2)
    assert view.shape[:2] == debug_view_shape(frame.shape, 2) == (layout.height, layout.width)
    assert layout.frame_xywh == (0, 0, 400, 480)  # between the panel's height and MAX_FRAME_HEIGHT: unscaled
    assert layout.panel_xywh[3] == pytest.approx(480, abs=2)


@pytest.mark.parametrize("level", [2, 3])
@pytest.mark.parametrize("frame_hw", [(240, 360), (720, 1280), (96, 128), (1080, 1920), (400, 100)])
def test_debug_page_shows_the_whole_frame_and_wastes_no_space(frame_hw, level):
    """The page of an OTB frame (360 x 240), a 1280 x 720 frame and others: the frame (scaled to the
    panel's height, or to at most MAX_FRAME_HEIGHT) is covered by nothing but the boxes (no text,
    no badges), and no large part of the page is empty background."""
    rng = np.random.default_rng(sum(frame_hw))
    height, width = frame_hw
    frame = cv2.resize(rng.integers(0, 256, (max(2, height // 8), max(2, width // 8), 3), dtype=np.uint8),
                       (width, height), interpolation=cv2.INTER_LINEAR)
    output = siamot_like_output([width * 0.4, height * 0.4, width * 0.1, height * 0.1], rng)
    layout = debug_layout(frame.shape, level)
    timeline = rng.integers(0, 256, (TIMELINE_HEIGHT, layout.width, 3), dtype=np.uint8) if level == 3 else None
    view = compose_debug_view(frame, output, [width * 0.41, height * 0.41, width * 0.1, height * 0.1], 101, level,
                              "SiamOT-MobileNetV2", timeline)
    assert view.shape[:2] == (layout.height, layout.width) == debug_view_shape(frame.shape, level)

    x, y, w, h = layout.frame_xywh
    assert h == min(max(height, MIN_FRAME_HEIGHT), MAX_FRAME_HEIGHT) and w == pytest.approx(width * h / height, abs=1)
    shown = view[y:y + h, x:x + w]
    expected = cv2.resize(frame, (w, h), interpolation=cv2.INTER_AREA if h < height else cv2.INTER_LINEAR)
    if h == height:
        expected = frame
    s = layout.frame_scale
    boxes = np.zeros((h, w), dtype=bool)
    for bbox, margin in ((output["target_bbox"], 2), (output["search_area_xywh"], 1),
                         ([width * 0.41, height * 0.41, width * 0.1, height * 0.1], 1)):
        boxes |= edge_band_mask((h, w), [v * s for v in bbox], margin)
    assert not (changed(shown, expected) & ~boxes).any(), "something besides the boxes is drawn on the frame"
    # Frame and panel side by side fill the top; the status bar and the time-line span the page.
    px, py, pw, ph = layout.panel_xywh
    assert px == x + w and px + pw == layout.width and abs(ph - h) <= 2
    assert layout.status_xywh[:3] == (0, max(h, ph), layout.width)
    if level == 3:
        assert layout.timeline_xywh == (0, layout.height - TIMELINE_HEIGHT, layout.width, TIMELINE_HEIGHT)
        assert np.array_equal(view[-TIMELINE_HEIGHT:], timeline)
    assert largest_empty_square(view) < 80  # the status bar is lower; the old pages left 160-256 px
    assert np.all(view == BACKGROUND_COLOR, axis=-1).mean() < 0.2  # margins, labels, the bar around its text


def largest_empty_square(view: np.ndarray, tile: int = 8) -> int:
    """Side in pixels (a multiple of ``tile``) of the largest square of whole ``tile`` x ``tile`` cells
    that hold only the background colour."""
    rows, cols = view.shape[0] // tile, view.shape[1] // tile
    empty = np.all(view[:rows * tile, :cols * tile] == BACKGROUND_COLOR, axis=-1)
    cells = empty.reshape(rows, tile, cols, tile).all(axis=(1, 3))
    side = np.zeros((rows + 1, cols + 1), dtype=int)
    for r in range(rows):
        for c in range(cols):
            if cells[r, c]:
                side[r + 1, c + 1] = 1 + min(side[r, c + 1], side[r + 1, c], side[r, c])
    return int(side.max()) * tile


def test_largest_empty_square_finds_the_old_pages_empty_area():
    page = np.full((400, 600, 3), BACKGROUND_COLOR, dtype=np.uint8)
    page[:240, :360] = 128  # a 360 x 240 frame on a page padded to 400 rows: 160 empty rows under it
    page[:, 360:] = 200
    assert largest_empty_square(page) == 160
    assert largest_empty_square(np.full((50, 50, 3), 7, dtype=np.uint8)) == 0


def test_level3_adds_the_timeline_strip():
    rng = np.random.default_rng(4)
    frame = grey_frame(240, 320)
    history = TimelineHistory()
    for i in range(30):
        history.append(i + 1, {"jcpp": rng.random(), "loss": rng.random(), "trained": i % 4 == 0})
    width = debug_view_shape(frame.shape, 3)[1]
    timeline = render_timeline_rgb(history, (width, TIMELINE_HEIGHT), jcpp_threshold=0.7, num_frames=60)
    assert timeline.shape == (TIMELINE_HEIGHT, width, 3)
    view = compose_debug_view(frame, siamot_like_output([50, 50, 30, 30], rng), None, 30, level=3,
                              timeline_rgb=timeline)
    assert view.shape[:2] == debug_view_shape(frame.shape, 3)
    strip = view[-TIMELINE_HEIGHT:]
    assert np.array_equal(strip, timeline)
    with pytest.raises(ValueError):
        compose_debug_view(frame, {}, None, 1, level=0)
    with pytest.raises(ValueError, match="from level 2"):
        debug_layout(frame.shape, 1)


def test_timeline_panel_incremental_equals_fresh_render():
    rng = np.random.default_rng(6)
    history = TimelineHistory()
    panel = TimelinePanel((400, 120), num_frames=40, first_frame=1, jcpp_threshold=0.7)
    images = []
    for i in range(40):
        history.append(i + 1, {"jcpp": rng.random(), "loss": 0.05 * i * rng.random(), "trained": i % 6 == 0,
                               "template_updated": i % 4 == 0})
        images.append(panel.render(history))
    fresh = TimelinePanel((400, 120), num_frames=40, first_frame=1, jcpp_threshold=0.7).render(history)
    assert images[-1].shape == (120, 400, 3)
    assert np.array_equal(images[-1], fresh)  # the cached background is the full drawing's
    assert not np.array_equal(images[5], images[-1])  # and the data do change
    growing = TimelinePanel((300, 100))  # without num_frames the x range follows the frames
    assert growing.render(history).shape == (100, 300, 3)


def test_nice_upper_limit():
    assert [nice_upper_limit(v) for v in (0.013, 0.2, 0.21, 3.0, 7.0, 10.0)] == [0.02, 0.2, 0.5, 5.0, 10.0, 10.0]
    assert nice_upper_limit(0.0) == nice_upper_limit(float("nan")) == 1.0


def test_timeline_history_and_files(tmp_path):
    history = TimelineHistory()
    history.append(1, {"target_bbox": [0, 0, 1, 1]})
    assert not history.has_state() and np.isnan(history.jcpp[0])
    history.append(2, {"jcpp": 0.8, "loss": "n/a", "trained": True})
    assert history.has_state() and history.trained == [False, True] and np.isnan(history.loss[1])
    paths = save_timeline(history, tmp_path / "tl", title="x", jcpp_threshold=0.7)
    assert [p.name for p in paths] == ["tl.png", "tl.pdf"]
    assert all(p.stat().st_size > 1000 for p in paths)
    pdf = paths[1].read_bytes()
    assert b"/Type3" not in pdf and b"/FontFile2" in pdf  # TrueType fonts, as publishers' checks want


# --------------------------------------------------------------------------- sinks


def test_key_actions():
    assert key_action(-1) is KeyAction.NONE
    assert key_action(ord(" ")) is KeyAction.TOGGLE_PAUSE
    assert key_action(ord("q")) is KeyAction.QUIT and key_action(27) is KeyAction.QUIT
    for right in (65363, 0x01000014, 2555904, ord("n")):
        assert key_action(right) is KeyAction.STEP
    assert key_action(ord("x")) is KeyAction.NONE


class FakeGui:
    """Stands in for cv2's HighGUI: replays key codes, records shown images."""

    WINDOW_AUTOSIZE = 1
    WND_PROP_VISIBLE = 4

    def __init__(self, keys: list[int]) -> None:
        self.keys = list(keys)
        self.shown: list[np.ndarray] = []
        self.destroyed = False

    def namedWindow(self, title, flags):  # noqa: N802 (OpenCV's names)
        pass

    def imshow(self, title, image):
        self.shown.append(image)

    def waitKeyEx(self, delay):  # noqa: N802
        return self.keys.pop(0) if self.keys else -1

    def waitKey(self, delay):  # noqa: N802
        return -1

    def getWindowProperty(self, title, prop):  # noqa: N802
        return 0 if self.destroyed else 1

    def destroyWindow(self, title):  # noqa: N802
        self.destroyed = True


def test_window_sink_pause_step_and_quit():
    image = grey_frame(10, 10)
    # frame 1 runs; frame 2: space pauses, 'x' is ignored, right arrow steps (stays paused);
    # frame 3: waits while paused until space resumes; frame 4: q stops.
    gui = FakeGui([-1, ord(" "), ord("x"), 65363, -1, -1, ord(" "), ord("q")])
    sink = WindowSink("t", gui=gui)
    assert sink.show(image) is True
    assert sink.show(image) is True and sink.paused
    assert sink.show(image) is True and not sink.paused
    assert sink.show(image) is False
    assert len(gui.shown) == 4 and gui.shown[0].shape == (10, 10, 3)
    sink.close()
    assert gui.destroyed


def test_window_closed_by_user_stops():
    gui = FakeGui([-1])
    gui.destroyed = True
    assert WindowSink("t", gui=gui).show(grey_frame(4, 4)) is False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="DISPLAY is an X11/Linux notion")
def test_display_detection_without_display():
    available, reason = display_available({"PATH": "/usr/bin"})
    assert not available and reason


@pytest.mark.skipif(not sys.platform.startswith("linux") or not sinks_module.gui_framework(),
                    reason="needs a Linux OpenCV build with a GUI backend")
def test_display_detection_with_unreachable_display_does_not_crash():
    # Qt would abort this very process; the probe runs in a child process instead.
    environ = {"PATH": "/usr/bin", "DISPLAY": ":97", "QT_QPA_PLATFORM": "xcb"}
    available, reason = display_available(environ, probe_timeout_s=30)
    assert not available and "cannot open a window" in reason


def count_video_frames(path: Path) -> tuple[int, tuple[int, int]]:
    capture = cv2.VideoCapture(str(path))
    assert capture.isOpened(), path
    count, size = 0, (0, 0)
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        count, size = count + 1, frame.shape[:2]
    capture.release()
    return count, size


def test_video_sink_one_frame_per_image_and_odd_sizes(tmp_path):
    sink = VideoSink(tmp_path / "v.mp4", fps=10)
    for i in range(7):
        assert sink.show(np.full((47, 63, 3), 30 * i, dtype=np.uint8))
    sink.show(np.zeros((20, 20, 3), dtype=np.uint8))  # another size: resized, still one frame
    sink.close()
    assert sink.count == 8 and sink.path == tmp_path / "v.mp4"
    assert count_video_frames(tmp_path / "v.mp4") == (8, (48, 64))


class _ClosedWriter:
    def __init__(self, *args, **kwargs):
        pass

    def isOpened(self):  # noqa: N802
        return False

    def release(self):
        pass


def test_video_sink_falls_back_to_png_frames(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(sinks_module.cv2, "VideoWriter", _ClosedWriter)
    sink = VideoSink(tmp_path / "seq.mp4")
    with caplog.at_level(logging.WARNING):
        for _ in range(3):
            sink.show(grey_frame(20, 30))
    sink.close()
    assert sink.path == tmp_path / "seq_frames"
    assert sorted(p.name for p in sink.path.iterdir()) == ["00000.png", "00001.png", "00002.png"]
    assert "PNG frames" in caplog.text
    assert cv2.imread(str(sink.path / "00000.png")).shape == (20, 30, 3)


# --------------------------------------------------------------------------- the observer


def run_observer(observer, sequence: Sequence, outputs=None) -> list[bool]:
    rng = np.random.default_rng(5)
    observer.start(sequence, "SiamOT test/1")
    answers = []
    for i in range(len(sequence)):
        output = outputs[i] if outputs else siamot_like_output(sequence.ground_truth_rect[i], rng, trained=i % 3 == 0)
        answers.append(observer.frame(i, sequence.image(i), output, sequence.ground_truth_rect[i]))
    observer.finish()
    return answers


def test_make_debug_observer_without_display_writes_video(tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        observer = make_debug_observer(1, "SiamOT", tmp_path, save=False, environ={"PATH": "/usr/bin"})
    assert observer.headless and observer.level == 1
    if sys.platform.startswith("linux"):
        assert "no display" in caplog.text
    sequence = toy_sequence(9)
    assert run_observer(observer, sequence) == [True] * 9
    video = tmp_path / "debug" / safe_file_name("SiamOT test/1") / "toy.mp4"
    assert observer.written == [video]
    assert count_video_frames(video) == (9, (96, 128))


@pytest.mark.parametrize("level", [2, 3])
def test_saved_debug_levels_2_and_3(tmp_path, level):
    observer = make_debug_observer(level, "SiamOT", tmp_path, save=True)
    sequence = toy_sequence(6)
    run_observer(observer, sequence)
    folder = tmp_path / "debug" / "SiamOT test_1"
    frames, size = count_video_frames(folder / "toy.mp4")
    expected = debug_view_shape((96, 128, 3), level)
    assert frames == 6 and size == (expected[0] + expected[0] % 2, expected[1] + expected[1] % 2)
    timeline = [folder / "toy_timeline.png", folder / "toy_timeline.pdf"]
    if level == 3:
        assert observer.written[1:] == timeline and all(p.stat().st_size > 1000 for p in timeline)
    else:
        assert not any(p.exists() for p in timeline)


def test_observer_with_opencv_peer_outputs_and_reuse(tmp_path):
    observer = make_debug_observer(3, "MIL", tmp_path, save=True)
    for name in ("a", "b"):
        sequence = toy_sequence(4, name=name)
        outputs = [{"target_bbox": list(sequence.ground_truth_rect[i]), "time": 0.01} for i in range(4)]
        run_observer(observer, sequence, outputs)
    folder = tmp_path / "debug" / "SiamOT test_1"
    assert count_video_frames(folder / "a.mp4")[0] == 4 and count_video_frames(folder / "b.mp4")[0] == 4
    assert observer.written == [folder / "a.mp4", folder / "b.mp4"]  # no empty time-line files


def test_observer_errors_and_level_clamping(tmp_path):
    with pytest.raises(RuntimeError, match="before start"):
        DebugObserver(1, "x", tmp_path).frame(0, grey_frame(), {}, None)
    with pytest.raises(ValueError):
        DebugObserver(0, "x", tmp_path)
    with pytest.raises(ValueError):
        make_debug_observer(-1, "x", tmp_path, save=True)
    assert make_debug_observer(0, "x", tmp_path, save=True).level == 1  # --save-debug alone
    assert make_debug_observer(7, "x", tmp_path, save=True).level == 3
    assert safe_file_name("a/b:c d") == "a_b_c d" and safe_file_name("..") == "unnamed"


# --------------------------------------------------------------------------- with the runner


DEBUG_KEYS = ("search_crop", "score_map", "current_score_map", "template_score_map", "search_area_xywh")


class DriftTracker:
    """A deterministic fake tracker reporting the SiamOT output keys (debug keys at debug >= 1)."""

    def __init__(self, params) -> None:
        self.params = params
        self.rng = np.random.default_rng(11)

    def initialize(self, image, info):
        self.bbox = np.asarray(info["init_bbox"], dtype=np.float64)
        self.count = 0
        return {}

    def track(self, image, info=None):
        self.count += 1
        self.bbox = self.bbox + [1.25, 0.5, 0.0, 0.0]
        jcpp = float(0.5 + 0.5 * np.sin(self.count))
        out = {"target_bbox": self.bbox.tolist(), "peak": 0.7, "psr": 5.0, "jcpp": jcpp,
               "loss": float(self.count) / 10, "trained": jcpp > 0.7, "template_updated": jcpp > 0.8}
        if getattr(self.params, "debug", 0) >= 1:
            extra = siamot_like_output(out["target_bbox"], self.rng)
            out.update({key: extra[key] for key in DEBUG_KEYS})
        return out


def fake_spec():
    from evaluation.registry import TrackerSpec

    return TrackerSpec(parameter_names=lambda: ["default"],
                       make_parameters=lambda name, settings: SimpleNamespace(debug=0, visualization=False),
                       tracker_class=lambda: DriftTracker, description="test drift tracker")


def read_state_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def _debug_vs_plain(tracker, sequence, tmp_path, level: int) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """Run plain then with a debug observer; the box files must be byte-identical. Returns both state tables."""
    boxes_file, state_file = tracker.result_file(sequence), tracker.state_file(sequence)
    assert running.run_sequence(tracker, sequence, debug=0, overwrite=True).status == "done"
    plain_boxes = boxes_file.read_bytes()
    plain_state = read_state_csv(state_file) if state_file.exists() else []
    observer = make_debug_observer(level, tracker.display_name, tmp_path / "plots", save=True)
    assert running.run_sequence(tracker, sequence, debug=level, observers=[observer], overwrite=True).status == "done"
    assert boxes_file.read_bytes() == plain_boxes
    assert count_video_frames(observer.written[0])[0] == len(sequence)
    return plain_state, read_state_csv(state_file) if state_file.exists() else []


@pytest.mark.parametrize("level", [1, 3])
def test_debug_run_and_plain_run_give_identical_result_files(tmp_path, monkeypatch, level):
    monkeypatch.setitem(registry.BUILTIN_TRACKERS, "drift", fake_spec())
    plain_state, debug_state = _debug_vs_plain(Tracker("drift", "default"), toy_sequence(8), tmp_path, level)
    assert plain_state and debug_state == plain_state


@pytest.mark.slow
def test_siamot_debug_run_matches_plain_run(tmp_path):
    tracker = Tracker("siamot", "mobilenet_v2_baseline")
    plain_state, debug_state = _debug_vs_plain(tracker, toy_sequence(3, 120, 160), tmp_path, 2)
    # Debugging may fill in state a plain baseline run leaves out (NaN), but never changes a reported value.
    assert len(plain_state) == len(debug_state) == 3
    for plain_row, debug_row in zip(plain_state, debug_state):
        for key, value in plain_row.items():
            if value not in ("", "nan"):
                assert debug_row[key] == value, (key, plain_row, debug_row)


def test_runner_debug_factory_writes_one_video_per_sequence(tmp_path, monkeypatch):
    monkeypatch.setitem(registry.BUILTIN_TRACKERS, "drift", fake_spec())
    factory = running.debug_observer_factory(2, True, str(tmp_path / "plots"))
    sequences = [toy_sequence(5, name="s1"), toy_sequence(7, name="s2")]
    results = running.run_dataset([Tracker("drift", "default")], sequences, debug=2, observer_factory=factory,
                                  progress=False)
    assert [r.status for r in results] == ["done", "done"]
    folder = tmp_path / "plots" / "debug" / "drift_default"
    assert count_video_frames(folder / "s1.mp4")[0] == 5 and count_video_frames(folder / "s2.mp4")[0] == 7
