"""The tracker registry, ``Tracker`` / ``trackerlist``, and the OpenCV peers."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from evaluation import registry
from evaluation.opencv_trackers import OpenCVTracker, opencv_parameters
from evaluation.registry import RegistryError
from evaluation.settings import Settings, SettingsError, load_settings
from evaluation.tracker import Tracker, trackerlist
from runner_fakes import FakeTracker, install_fake_plugin, make_sequence


def test_builtin_names_and_parameters() -> None:
    assert registry.tracker_names()[:2] == ["siamot", "opencv"]
    assert {"mil", "nano", "vit", "kcf", "csrt"} <= set(registry.parameter_names("opencv"))
    siamot = registry.parameter_names("siamot")
    assert {"mobilenet_v2", "mobilenet_v2_baseline", "alexnet", "efficientnet_lite0_baseline"} <= set(siamot)
    assert not any(name.startswith("_") for name in siamot)


def test_unknown_names_list_the_known_ones() -> None:
    with pytest.raises(RegistryError, match="unknown tracker 'nope'.*siamot, opencv"):
        Tracker("nope", "x")
    with pytest.raises(RegistryError, match="unknown parameter 'bogus'.*mil, nano, vit"):
        Tracker("opencv", "bogus")


def test_results_dir_and_display_name(isolated_settings: Path) -> None:
    results = isolated_settings / "results"
    plain = Tracker("opencv", "mil")
    assert plain.results_dir == results / "opencv" / "mil"
    assert plain.display_name == "opencv_mil"
    run = Tracker("opencv", "mil", run_id=7, display_name="MIL")
    assert run.results_dir == results / "opencv" / "mil_007"
    assert run.display_name == "MIL"
    explicit = Tracker("opencv", "mil", settings=Settings(results_path="/elsewhere"))
    assert explicit.results_dir == Path("/elsewhere/opencv/mil")
    with pytest.raises(ValueError, match="run_id"):
        Tracker("opencv", "mil", run_id=-1)


def test_trackerlist_one_per_run_id() -> None:
    runs = trackerlist("opencv", "mil", range(3), display_name="MIL")
    assert [t.run_id for t in runs] == [0, 1, 2]
    assert [t.results_dir.name for t in runs] == ["mil_000", "mil_001", "mil_002"]
    assert {t.display_name for t in runs} == {"MIL"}
    assert [t.run_id for t in trackerlist("opencv", "mil")] == [None]
    assert [t.run_id for t in trackerlist("opencv", "mil", 4)] == [4]


def test_results_source_reads_files() -> None:
    tracker = Tracker("opencv", "mil")
    sequence = make_sequence(n_frames=3)
    with pytest.raises(FileNotFoundError, match="square.txt"):
        tracker.results_for(sequence)
    assert tracker.times_for(sequence) is None
    tracker.results_dir.mkdir(parents=True)
    # Row 0 is the initial box: results without a run record count as complete only then.
    tracker.result_file(sequence).write_text("10\t12\t16\t16\n1.5,2,3,4\n1 2 3 4\n")
    tracker.time_file(sequence).write_text("0.1\n0.2\n0.3\n")
    np.testing.assert_allclose(tracker.results_for(sequence)[1], [1.5, 2, 3, 4])
    np.testing.assert_allclose(tracker.times_for(sequence), [0.1, 0.2, 0.3])
    assert tracker.has_complete_results(sequence)
    assert not tracker.has_complete_results(make_sequence(n_frames=4))


def test_entry_point_plugin_adds_a_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert "fake" not in registry.tracker_names()
    install_fake_plugin(tmp_path, monkeypatch)
    assert "fake" in registry.tracker_names()
    assert registry.parameter_names("fake") == ["centroid", "shifted"]
    tracker = Tracker("fake", "shifted")
    params = tracker.get_parameters(debug=2)
    assert params.offset == 2.5 and params.debug == 2 and params.visualization
    assert isinstance(tracker.create(), FakeTracker)
    assert tracker.get_parameters() is not tracker.get_parameters()  # fresh per sequence
    with pytest.raises(RegistryError, match="unknown parameter 'other'.*centroid, shifted"):
        Tracker("fake", "other")


def test_broken_or_clashing_plugins_are_explicit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    install_fake_plugin(tmp_path / "a", monkeypatch, tracker_name="broken", target="no_such_module_xyz:spec",
                        dist="broken_plugin")
    install_fake_plugin(tmp_path / "b", monkeypatch, tracker_name="siamot", dist="clash_plugin")
    install_fake_plugin(tmp_path / "c", monkeypatch, tracker_name="notspec", target="runner_fakes:FAKE_PARAMETERS",
                        dist="notspec_plugin")
    with pytest.raises(RegistryError, match="cannot load tracker plugin entry point 'broken = no_such_module_xyz"):
        registry.resolve("broken")
    with pytest.raises(RegistryError, match="'siamot' is built in and also claimed by.*clash_plugin"):
        registry.resolve("siamot")
    with pytest.raises(RegistryError, match="must give a evaluation.registry.TrackerSpec"):
        registry.resolve("notspec")
    assert registry.parameter_names("opencv")  # other names are unaffected


# --------------------------------------------------------------------------- OpenCV peers


def _track(tracker, sequence) -> np.ndarray:
    boxes = [sequence.ground_truth_rect[0]]
    tracker.initialize(sequence.image(0), sequence.init_info())
    for i in range(1, len(sequence)):
        out = tracker.track(sequence.image(i), {})
        assert len(out["target_bbox"]) == 4 and out["time"] >= 0
        boxes.append(out["target_bbox"])
    return np.asarray(boxes)


class _ScriptedCV2Tracker:
    """Stands in for a ``cv2.Tracker``: records what the wrapper hands it and answers from a script
    of ``(found, rect)`` pairs, so the wrapper's contract is checked without judging OpenCV."""

    def __init__(self, script: list[tuple[bool, tuple[int, int, int, int]]]) -> None:
        self.script = list(script)
        self.frames: list[np.ndarray] = []
        self.init_rect: tuple | None = None

    def init(self, image: np.ndarray, rect: tuple) -> None:
        self.frames.append(image)
        self.init_rect = rect

    def update(self, image: np.ndarray) -> tuple[bool, tuple[int, int, int, int]]:
        self.frames.append(image)
        return self.script.pop(0)


def test_opencv_wrapper_passes_frames_and_boxes_through(monkeypatch: pytest.MonkeyPatch) -> None:
    import cv2

    fake = _ScriptedCV2Tracker([(True, (12, 14, 20, 22)), (False, (0, 0, 0, 0)), (True, (15, 16, 0, 9)),
                                (True, (18, 19, 21, 23))])
    monkeypatch.setattr(cv2.TrackerMIL, "create", lambda: fake)
    tracker = OpenCVTracker(opencv_parameters("mil", Settings()))
    sequence = make_sequence(n_frames=5)
    boxes = _track(tracker, sequence)
    # Boxes: (N, 4) finite floats; a failed update or an empty rectangle keeps the previous box.
    assert boxes.shape == (5, 4) and np.isfinite(boxes).all() and boxes.dtype == np.float64
    np.testing.assert_array_equal(boxes[1:], [[12, 14, 20, 22], [12, 14, 20, 22], [12, 14, 20, 22],
                                              [18, 19, 21, 23]])
    # OpenCV gets BGR frames of the RGB ones and the initial box rounded to whole pixels.
    np.testing.assert_array_equal(fake.frames[0], sequence.image(0)[:, :, ::-1])
    assert fake.init_rect == tuple(int(round(v)) for v in sequence.ground_truth_rect[0])
    # ``found`` reports OpenCV's own answer per frame.
    replay = _ScriptedCV2Tracker([(True, (12, 14, 20, 22)), (False, (0, 0, 0, 0))])
    monkeypatch.setattr(cv2.TrackerMIL, "create", lambda: replay)
    tracker = OpenCVTracker(opencv_parameters("mil", Settings()))
    tracker.initialize(sequence.image(0), sequence.init_info())
    assert [tracker.track(sequence.image(i))["found"] for i in (1, 2)] == [True, False]


def test_opencv_mil_runs_on_real_frames() -> None:
    """The real cv2.TrackerMIL behind the wrapper: (N, 4) finite boxes of positive size (MIL samples at
    random and cannot be seeded, so where the boxes go is not judged)."""
    sequence = make_sequence(n_frames=6)
    boxes = _track(Tracker("opencv", "mil").create(), sequence)
    assert boxes.shape == (6, 4) and np.isfinite(boxes).all() and (boxes[:, 2:] > 0).all()


@pytest.mark.parametrize("kind", ["nano", "vit"])
def test_opencv_model_trackers(kind: str, shared_dir: Path, monkeypatch: pytest.MonkeyPatch,
                               capfd: pytest.CaptureFixture[str]) -> None:
    models = shared_dir / "models"
    files = {"nanotrack_backbone": models / "nanotrack" / "nanotrackv2_nanotrack_backbone_sim.onnx",
             "nanotrack_head": models / "nanotrack" / "nanotrackv2_nanotrack_head_sim.onnx",
             "vittrack_net": models / "vittrack" / "vitTracker.onnx"}
    if not all(p.is_file() for p in files.values()):
        pytest.skip(f"OpenCV tracker models not found under {models}")
    for key, path in files.items():
        monkeypatch.setenv(f"SIAMOT_{key.upper()}", str(path))
    level = cv2.utils.logging.getLogLevel()
    tracker = Tracker("opencv", kind).create()
    out = _track(tracker, make_sequence(n_frames=4))
    assert out.shape == (4, 4)
    assert "WARN" not in capfd.readouterr().err  # the model loaders' engine warnings are held back
    assert cv2.utils.logging.getLogLevel() == level
    if kind == "vit":
        tracker.initialize(make_sequence().image(0), make_sequence().init_info())
        assert "score" in tracker.track(make_sequence().image(1))


def test_opencv_missing_model_setting_names_key_and_env() -> None:
    with pytest.raises(SettingsError, match="nanotrack_backbone.*SIAMOT_NANOTRACK_BACKBONE"):
        opencv_parameters("nano", Settings())
    with pytest.raises(SettingsError, match="vittrack_net.*not found: /no/such.onnx"):
        opencv_parameters("vit", Settings(vittrack_net="/no/such.onnx"))


def test_opencv_contrib_trackers_need_contrib() -> None:
    import cv2

    if hasattr(cv2, "TrackerKCF"):
        pytest.skip("opencv-contrib-python is installed")
    with pytest.raises(ImportError, match="opencv-contrib-python"):
        opencv_parameters("kcf", load_settings())


def test_opencv_tracker_rejects_bad_input() -> None:
    tracker = OpenCVTracker(opencv_parameters("mil", load_settings()))
    image = make_sequence().image(0)
    with pytest.raises(RuntimeError, match="before initialize"):
        tracker.track(image)
    with pytest.raises(ValueError, match="positive width"):
        tracker.initialize(image, {"init_bbox": [1, 1, 0, 5]})
    with pytest.raises(ValueError, match="H x W x 3"):
        tracker.initialize(image[:, :, :2], {"init_bbox": [1, 1, 5, 5]})
