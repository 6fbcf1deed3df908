"""Playback of saved results and the qualitative (Fig. 4) figure."""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np
import pytest

from evaluation import playback, qualitative
from evaluation.boxes_io import write_boxes_txt
from evaluation.data import Sequence
from evaluation.datasets import get_dataset
from evaluation.tracker import Tracker
from evaluation.analysis.styles import TrackerStyle
from evaluation.visualization.sinks import VideoSink, WindowSink
from evaluation.sources import Pairing, ResultsAlignmentWarning, SourceBase, tracker_pairing

N_FRAMES = 8


def toy_sequence(name: str = "Toy-1", n_frames: int = N_FRAMES, start_frame: int = 1) -> Sequence:
    gt = np.array([[8.0 + 3 * i, 20.0, 22.0, 18.0] for i in range(n_frames)])

    def load(index: int) -> np.ndarray:
        frame = np.full((72, 96, 3), 100, dtype=np.uint8)
        x, y, w, h = (int(v) for v in gt[index])
        frame[y:y + h, x:x + w] = (200, 60, 30)
        return frame

    return Sequence(name, [str(i) for i in range(n_frames)], "toy", gt, frame_loader=load, start_frame=start_frame)


class FolderResults(SourceBase):
    """A results source (``<folder>/<seq>.txt``), standing in where ``PublishedResults`` is missing; with a
    ``parameter_name`` it pairs like the live ``siamot`` tracker of that parameter name."""

    def __init__(self, name: str, folder: Path, parameter_name: str | None = None) -> None:
        self.name = name
        self.display_name = name
        self.folder = folder
        self.parameter_name = parameter_name

    def pairing(self) -> Pairing:
        return super().pairing() if self.parameter_name is None else tracker_pairing("siamot", self.parameter_name)

    def results_for(self, sequence: Sequence) -> np.ndarray:
        from evaluation.boxes_io import read_boxes_txt
        return read_boxes_txt(self.folder / f"{sequence.name}.txt")


def published_source(name: str, folder: Path):
    """The real ``PublishedResults`` when it is importable, else the stand-in."""
    try:
        from evaluation.peer_results import PublishedResults
    except ImportError:
        return FolderResults(name, folder)
    return PublishedResults(name, folder)


def write_results(folder: Path, sequence: Sequence, shift: float) -> np.ndarray:
    boxes = sequence.ground_truth_rect + [shift, shift / 2, 0.0, 0.0]
    write_boxes_txt(folder / f"{sequence.name}.txt", boxes)
    return boxes


def count_video_frames(path: Path) -> int:
    capture = cv2.VideoCapture(str(path))
    assert capture.isOpened(), path
    count = 0
    while capture.read()[0]:
        count += 1
    capture.release()
    return count


# --------------------------------------------------------------------------- playback


def test_playback_frame_draws_boxes_legend_and_nothing_else():
    image = np.full((200, 300, 3), 90, dtype=np.uint8)
    boxes = [("A", np.array([150.0, 100.0, 60.0, 50.0]), TrackerStyle("#1f77b4")),
             ("B", np.array([np.nan] * 4), TrackerStyle("#ff7f0e", "--"))]
    view = playback.playback_frame(image, boxes, None, None)
    assert view.shape == image.shape
    ys, xs = np.nonzero(np.any(view != image, axis=-1))
    in_box = (xs >= 148) & (xs <= 211) & (ys >= 98) & (ys <= 151)
    legend_only = ~in_box
    assert in_box.any()
    # The legend (two entries, top-left) is the only other change.
    assert xs[legend_only].max() < 150 and ys[legend_only].max() < 60
    assert np.all(view[100 + 25, 150 + 30] == image[0, 0])  # the box interior is untouched


def test_play_results_only_tracker_to_video(tmp_path):
    sequence = toy_sequence()
    folder = tmp_path / "published" / "Peer"
    write_results(folder, sequence, 2.0)
    sources = [published_source("Peer", folder), FolderResults("Other", folder)]
    sink = VideoSink(tmp_path / "out.mp4", fps=10)
    assert playback.play(sequence, sources, sink, progress=False) == N_FRAMES
    assert count_video_frames(tmp_path / "out.mp4") == N_FRAMES


class QuitAtThirdFrameGui:
    """A stand-in for cv2's HighGUI whose user presses q on the third frame."""

    WINDOW_AUTOSIZE = 1
    WND_PROP_VISIBLE = 4

    def __init__(self) -> None:
        self.shown = 0
        self.closed = False

    def namedWindow(self, title, flags):  # noqa: N802 (OpenCV's names)
        pass

    def imshow(self, title, image):
        self.shown += 1

    def waitKeyEx(self, delay):  # noqa: N802
        return ord("q") if self.shown == 3 else -1

    def waitKey(self, delay):  # noqa: N802
        return -1

    def getWindowProperty(self, title, prop):  # noqa: N802
        return 1

    def destroyWindow(self, title):  # noqa: N802
        self.closed = True


def test_play_stops_when_the_window_says_quit(tmp_path):
    sequence = toy_sequence()
    write_results(tmp_path, sequence, 0.0)
    gui = QuitAtThirdFrameGui()
    shown = playback.play(sequence, [FolderResults("A", tmp_path)], WindowSink("w", gui=gui), progress=False)
    assert shown == 3 and gui.shown == 3 and gui.closed


def test_viewers_pad_short_results_and_cut_long_ones(tmp_path):
    sequence = toy_sequence()
    write_boxes_txt(tmp_path / "Toy-1.txt", sequence.ground_truth_rect[:5])
    with pytest.warns(ResultsAlignmentWarning, match="Short: Toy-1: 5 result rows for 8 frames"):
        boxes = FolderResults("Short", tmp_path).aligned_results_for(sequence).boxes
    assert boxes.shape == (N_FRAMES, 4) and np.isnan(boxes[5:]).all()
    np.testing.assert_array_equal(boxes[:5], sequence.ground_truth_rect[:5])
    write_boxes_txt(tmp_path / "Toy-1.txt", np.vstack([sequence.ground_truth_rect] * 2))
    with pytest.warns(ResultsAlignmentWarning, match="extra rows ignored"):
        boxes = FolderResults("Long", tmp_path).aligned_results_for(sequence).boxes
    assert np.array_equal(boxes, sequence.ground_truth_rect)


def test_missing_results_raise_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="Toy-1"):
        FolderResults("None", tmp_path).aligned_results_for(toy_sequence())


def test_styles_pair_a_baseline_with_its_backbone_default_only(tmp_path):
    def live(parameter: str) -> Pairing:
        return Tracker("siamot", parameter).pairing()

    assert live("vgg19") == Pairing("siamot:vgg19", False, "vgg19")
    assert live("vgg19_baseline") == Pairing("siamot:vgg19", True, "vgg19")
    assert live("vgg19_paper").group == "siamot:vgg19_paper" and not live("vgg19_paper").baseline
    # Display names say nothing: a published folder named like a baseline is its own, solid group.
    published = FolderResults("KCF_baseline_001", tmp_path)
    assert published.pairing() == Pairing("KCF_baseline_001:KCF_baseline_001")
    # Ad-hoc overrides are a configuration of their own; turning online training off makes a baseline.
    off = Tracker("siamot", "vgg19", overrides={"online_training": False}, variant="off")
    assert off.pairing() == Pairing("siamot:vgg19@off", True)
    assert tracker_pairing("opencv", "mil_baseline") == Pairing("opencv:mil_baseline")


def fake_registry(monkeypatch):
    """Register a results-only tracker name 'saved' (param 'p1', 'p1_baseline') for the CLIs."""
    from evaluation import registry

    spec = registry.TrackerSpec(parameter_names=lambda: ["p1", "p1_baseline"],
                                make_parameters=lambda name, settings: SimpleNamespace(debug=0),
                                tracker_class=lambda: object)
    monkeypatch.setitem(registry.BUILTIN_TRACKERS, "saved", spec)


def test_playback_cli_writes_video(tmp_path, monkeypatch, capsys):
    fake_registry(monkeypatch)
    sequence = toy_sequence()
    monkeypatch.setattr(playback, "load_sequence", lambda dataset, name: sequence)
    write_results(Tracker("saved", "p1").results_dir, sequence, 1.0)
    published = tmp_path / "Peer"
    write_results(published, sequence, -2.0)
    output = tmp_path / "play" / "toy"
    rc = playback.main(["--trackers", "saved:p1", "--published", f"{published}:PeerName", "--dataset", "toy",
                        "--sequence", "Toy-1", "--output", str(output), "--no-progress"])
    assert rc == 0, capsys.readouterr().err
    assert count_video_frames(tmp_path / "play" / "toy.mp4") == N_FRAMES
    assert "toy.mp4" in capsys.readouterr().out


def test_playback_cli_errors_in_one_line(tmp_path, monkeypatch, capsys):
    fake_registry(monkeypatch)
    monkeypatch.setattr(playback, "load_sequence", lambda dataset, name: toy_sequence())
    rc = playback.main(["--trackers", "saved:p1", "--sequence", "Toy-1", "--output", str(tmp_path / "x.mp4")])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("error: ") and "Toy-1" in err and len(err.strip().splitlines()) == 1
    assert playback.main(["--sequence", "Toy-1"]) == 2
    assert "no trackers given" in capsys.readouterr().err
    assert playback.main(["--trackers", "saved:unknown_param", "--sequence", "Toy-1"]) == 2
    assert "unknown_param" in capsys.readouterr().err


# --------------------------------------------------------------------------- qualitative figure


def test_default_styles_pair_online_and_baseline(tmp_path):
    sources = [FolderResults(p, tmp_path, parameter_name=p) for p in ("alexnet", "alexnet_baseline", "vgg19",
                                                                     "vgg19_baseline")]
    styles = qualitative.default_styles(sources)
    assert [s.linestyle for s in styles] == ["-", "--", "-", "--"]
    assert styles[0].color == styles[1].color != styles[2].color == styles[3].color


def test_parse_style_and_errors():
    key, style = qualitative.parse_style("siamot:vgg19=tab:blue,dashed")
    assert key == "siamot:vgg19" and style == qualitative.BoxStyle("tab:blue", "--")
    assert qualitative.parse_style("X=red")[1].linestyle == "-"
    for bad in ("nocolour", "X=notacolour", "X=red,wiggly"):
        with pytest.raises(ValueError):
            qualitative.parse_style(bad)


def test_resolve_frames():
    sequence = toy_sequence()
    assert qualitative.resolve_frames(sequence, [1, 8], 4) == [0, 7]
    assert qualitative.resolve_frames(sequence, None, 3) == [1, 4, 7]
    with pytest.raises(ValueError, match="outside"):
        qualitative.resolve_frames(sequence, [9], 4)


def test_qualitative_figure_files(tmp_path):
    sequences = [toy_sequence("A"), toy_sequence("B", n_frames=6, start_frame=300)]
    folders = {}
    for i, param in enumerate(("net", "net_baseline")):
        folders[param] = tmp_path / param
        for sequence in sequences:
            write_results(folders[param], sequence, 3.0 * i)
    sources = [FolderResults(param, folder, parameter_name=param) for param, folder in folders.items()]
    frames = {"A": [1, 4, 7], "B": [2, 5]}  # 0-based indices
    fig = qualitative.qualitative_figure(sequences, frames, sources, qualitative.default_styles(sources),
                                         show_ground_truth=True)
    boxes_drawn = [line.get_linestyle() for ax in fig.axes for line in ax.lines]
    assert len(fig.axes) == 6 and len(boxes_drawn) == 5 * 3  # 5 frames x (2 trackers + ground truth)
    assert boxes_drawn.count("--") == 5
    labels = [text.get_text() for ax in fig.axes for text in ax.texts]
    assert labels == ["#2", "#5", "#8", "#302", "#305"]  # 0-based indices, numbered from start_frame
    paths = qualitative.save_figure(fig, tmp_path / "out" / "fig4.png", dpi=80)
    assert [p.name for p in paths] == ["fig4.png", "fig4.pdf"]
    png = cv2.imread(str(paths[0]))
    assert png is not None and png.shape[0] > 100 and png.std() > 10
    assert paths[1].read_bytes()[:4] == b"%PDF" and paths[1].stat().st_size > 5000


def test_qualitative_cli(tmp_path, monkeypatch, capsys):
    fake_registry(monkeypatch)
    sequences = {s.name: s for s in (toy_sequence("A"), toy_sequence("B"))}
    monkeypatch.setattr(qualitative, "load_sequence", lambda dataset, name: sequences[name])
    for i, param in enumerate(("p1", "p1_baseline")):
        for sequence in sequences.values():
            write_results(Tracker("saved", param).results_dir, sequence, 2.0 * i)
    args = ["--trackers", "saved:p1", "saved:p1_baseline", "--dataset", "toy", "--sequences", "A", "B", "--frames", "2", "5",
            "B=3", "--style", "saved:p1=red", "--dpi", "60"]
    assert qualitative.main(args) == 0, capsys.readouterr().err
    printed = capsys.readouterr().out.split()
    assert printed[0].endswith("qualitative/toy_fig4.png") and printed[1].endswith("qualitative/toy_fig4.pdf")
    assert all(Path(p).stat().st_size > 1000 for p in printed)
    assert qualitative.main(args[:-4] + ["--style", "nobody=red"]) == 2
    assert "match no tracker" in capsys.readouterr().err


def test_playback_cli_on_the_builtin_synthetic_dataset(tmp_path, monkeypatch, capsys):
    fake_registry(monkeypatch)
    sequence = get_dataset("synthetic")[0]
    write_results(Tracker("saved", "p1").results_dir, sequence, 1.5)
    rc = playback.main(["--trackers", "saved:p1", "--dataset", "synthetic", "--sequence", "0",
                        "--output", str(tmp_path / "s.mp4"), "--no-progress"])
    assert rc == 0, capsys.readouterr().err
    assert count_video_frames(tmp_path / "s.mp4") == len(sequence)


# --------------------------------------------------------------------------- one style per tracker


class FramesSink:
    """A sink that keeps the frames it is shown."""

    def __init__(self) -> None:
        self.frames: list[np.ndarray] = []

    def show(self, image: np.ndarray) -> bool:
        self.frames.append(np.array(image, copy=True))
        return True

    def close(self) -> None:
        pass


def _wide_sequence() -> Sequence:
    """Three frames of 200 x 320 px, gray, with the target (40 x 30 px) away from the legend's corner."""
    gt = np.array([[200.0, 120.0, 40.0, 30.0]] * 3)
    return Sequence("Wide", ["0", "1", "2"], "toy", gt, frame_loader=lambda i: np.full((200, 320, 3), 90, np.uint8))


def test_a_tracker_has_its_plot_colour_in_playback_and_in_the_qualitative_figure(tmp_path):
    from evaluation.analysis.evaluate import evaluate, pairings
    from evaluation.analysis.plots import draw_plot
    from evaluation.analysis.styles import assign_styles, rgb255

    sequence = _wide_sequence()
    params = ("netA", "netA_baseline", "netB")
    shifts = {"netA": -40.0, "netA_baseline": 0.0, "netB": 40.0}  # left edges 40 px apart, boxes apart
    for param in params:
        write_results(tmp_path / param, sequence, shifts[param])
    sources = [FolderResults(p, tmp_path / p, parameter_name=p) for p in params]
    evaluation, _ = evaluate(sources, [sequence])
    figure = draw_plot(evaluation.curves(), evaluation.scores(), "success", "t",
                       assign_styles(pairings(evaluation.entries)))
    plotted = {line.get_label().split(" [")[0]: rgb255(line.get_color()) for line in figure.axes[0].get_lines()}
    assert set(plotted) == set(params) and plotted["netA"] == plotted["netA_baseline"] != plotted["netB"]

    sink = FramesSink()
    playback.play(sequence, sources, sink, show_ground_truth=False, progress=False)
    frame = sink.frames[0]
    for param in params:
        x, top = int(200 + shifts[param]), int(120 + shifts[param] / 2)  # write_results shifts y by half
        edge = {tuple(int(v) for v in frame[y, x]) for y in range(top + 3, top + 30 - 3)}
        assert plotted[param] in edge, (param, edge)

    qualitative_fig = qualitative.qualitative_figure([sequence], {"Wide": [0]}, sources,
                                                     qualitative.default_styles(sources))
    drawn = {(rgb255(line.get_color()), line.get_linestyle()) for line in qualitative_fig.axes[0].lines}
    assert drawn == {(plotted["netA"], "-"), (plotted["netA_baseline"], "--"), (plotted["netB"], "-")}


def test_a_dashed_box_stays_visible_on_a_solid_one_of_its_colour():
    image = np.full((200, 300, 3), 90, dtype=np.uint8)
    bbox = np.array([150.0, 100.0, 60.0, 50.0])
    solid, dashed = TrackerStyle("#e377c2"), TrackerStyle("#e377c2", "--")
    white = np.array([255, 255, 255])

    def whites_on_left_edge(boxes):
        view = playback.playback_frame(image, boxes)
        return int(np.all(view[100:150, 149:152] == white, axis=-1).sum())

    assert whites_on_left_edge([("A", bbox, solid)]) == 0
    # Drawn last, over a white line that shows in its gaps, whatever the order given.
    assert whites_on_left_edge([("B", bbox, dashed), ("A", bbox, solid)]) > 5
    assert whites_on_left_edge([("A", bbox, solid), ("B", bbox, dashed)]) > 5
    fig = qualitative.qualitative_figure([_wide_sequence()], {"Wide": [0]}, [], [])
    assert fig.axes  # no trackers: frames only
