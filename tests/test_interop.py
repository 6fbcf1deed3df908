"""Interop with the GOT-10k toolkit and the VOT toolkit: our trackers run inside them with the boxes of our
own runner, their reports agree with our analysis, and their result files come back into it."""
from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from evaluation.datasets.folder import folder_dataset
from evaluation.datasets.synthetic import synthetic_dataset
from evaluation.registry import RegistryError

#: Two OTB2013 names (got10k's ExperimentOTB only reads the sequences of its version's list).
OTB_NAMES = ("Basketball", "Bolt")
N_FRAMES = 8
#: Fast SiamOT settings for tests: torch runs the whole backbone (no OpenVINO compile at start).
SIAMOT_OVERRIDES = {"engine": "torch"}


def write_otb_root(root: Path, names: tuple[str, ...] = OTB_NAMES, n_frames: int = N_FRAMES) -> Path:
    """Short sequences in the OTB layout (``<Name>/img/0001.jpg``, ``groundtruth_rect.txt`` 1-based), cut
    from the synthetic dataset's first sequences."""
    for name, sequence in zip(names, synthetic_dataset()):
        img = root / name / "img"
        img.mkdir(parents=True)
        for i in range(n_frames):
            rgb = sequence.frame_loader(i)
            cv2.imwrite(str(img / f"{i + 1:04d}.jpg"), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        gt = sequence.ground_truth_rect[:n_frames].copy()
        gt[:, :2] += 1.0
        np.savetxt(root / name / "groundtruth_rect.txt", gt, fmt="%.2f", delimiter=",")
    return root


# --------------------------------------------------------------------------- got10k


@pytest.fixture(scope="module")
def got10k_module():
    pytest.importorskip("got10k", reason="got10k is not installed (pip install got10k==0.1.3 --no-deps)")
    from evaluation.interop import got10k as module
    return module


def test_got10k_tracker_is_a_got10k_tracker_with_honest_determinism(got10k_module) -> None:
    from got10k.trackers import Tracker as Got10kBase

    siamot = got10k_module.Got10kTracker("siamot", "mobilenet_v2")
    mil = got10k_module.Got10kTracker("opencv", "mil", name="MIL")
    assert isinstance(siamot, Got10kBase) and isinstance(mil, Got10kBase)
    assert siamot.name == "siamot_mobilenet_v2" and siamot.is_deterministic
    assert mil.name == "MIL" and not mil.is_deterministic
    tuned = got10k_module.Got10kTracker("siamot", "mobilenet_v2", engine="torch")
    assert tuned.name.startswith("siamot_mobilenet_v2@o") and tuned.config.overrides == {"engine": "torch"}
    with pytest.raises(RegistryError, match="unknown tracker 'nope'"):
        got10k_module.Got10kTracker("nope", "x")
    with pytest.raises(ValueError, match="no_such_field"):
        got10k_module.Got10kTracker("siamot", "mobilenet_v2", no_such_field=1)
    with pytest.raises(RuntimeError, match="before init"):
        mil.update(None)


def test_got10k_offline_refuses_downloads_and_restores(got10k_module, tmp_path: Path) -> None:
    import got10k.datasets.otb as otb_dataset
    import got10k.experiments.otb as otb_experiment
    from got10k.experiments import ExperimentVOT

    original_download, original_otb = otb_dataset.download, otb_experiment.OTB
    with got10k_module.got10k_offline():
        with pytest.raises(got10k_module.DownloadRefused, match="http://x/y.zip"):
            otb_dataset.download("http://x/y.zip", str(tmp_path / "y.zip"))
        # An empty root: got10k's own "not found" error instead of fetching VOT2018.
        (tmp_path / "vot").mkdir()
        with pytest.raises(Exception, match="Dataset not found"):
            ExperimentVOT(str(tmp_path / "vot"), version=2018, result_dir=str(tmp_path / "r"))
    assert otb_dataset.download is original_download and otb_experiment.OTB is original_otb
    assert not any(tmp_path.joinpath("vot").iterdir())


@pytest.fixture(scope="module")
def got10k_otb_run(got10k_module, tmp_path_factory: pytest.TempPathFactory):
    """ExperimentOTB (OTB2013, a local root with 2 of its 50 sequences, no download) run with SiamOT and
    MIL through ``Got10kTracker``, and reported (once for the module)."""
    from got10k.experiments import ExperimentOTB

    from evaluation.settings import Settings

    tmp_path = tmp_path_factory.mktemp("got10k")
    root = write_otb_root(tmp_path / "OTB")
    settings = Settings(results_path=str(tmp_path / "unused"))  # never the user's settings file
    siamot = got10k_module.Got10kTracker("siamot", "mobilenet_v2", name="SiamOT", settings=settings,
                                         **SIAMOT_OVERRIDES)
    mil = got10k_module.Got10kTracker("opencv", "mil", name="MIL", settings=settings)
    with got10k_module.got10k_offline():
        experiment = ExperimentOTB(str(root), version=2013, result_dir=str(tmp_path / "results"),
                                   report_dir=str(tmp_path / "reports"))
    assert experiment.dataset.seq_names == list(OTB_NAMES)
    experiment.run(siamot)
    experiment.run(mil)
    performance = experiment.report([siamot.name, mil.name])
    return root, tmp_path / "results" / "OTB2013", performance


def test_got10k_otb_boxes_are_our_runners(got10k_otb_run) -> None:
    from evaluation.data import read_image_rgb
    from evaluation.running import torch_thread_count
    from evaluation.tracker import Tracker

    root, results, _ = got10k_otb_run
    ours = Tracker("siamot", "mobilenet_v2", overrides=SIAMOT_OVERRIDES)
    for sequence in folder_dataset(root, one_based=True):
        theirs = np.loadtxt(results / "SiamOT" / f"{sequence.name}.txt", delimiter=",")
        assert theirs.shape == (N_FRAMES, 4)
        theirs[:, :2] -= 1.0  # got10k keeps OTB's 1-based boxes; ours are 0-based
        # Our tracker driven as our runner drives it (frames decoded by OpenCV, not PIL; one torch
        # thread): got10k's boxes differ only by its 3 decimals.
        tracker = ours.create()
        with torch_thread_count(1):
            tracker.initialize(read_image_rgb(sequence.frames[0]), {"init_bbox": list(sequence.ground_truth_rect[0])})
            direct = [tracker.track(read_image_rgb(frame))["target_bbox"] for frame in sequence.frames[1:]]
        np.testing.assert_allclose(theirs[1:], np.array(direct), rtol=0, atol=0.0005 + 1e-9)
        np.testing.assert_allclose(theirs[0], sequence.ground_truth_rect[0], rtol=0, atol=0.0005 + 1e-9)
        assert np.loadtxt(results / "SiamOT" / "times" / f"{sequence.name}_time.txt").shape == (N_FRAMES,)
        mil = np.loadtxt(results / "MIL" / f"{sequence.name}.txt", delimiter=",")
        assert mil.shape == (N_FRAMES, 4) and np.all(mil[:, 2:] > 0)


def test_got10k_report_agrees_with_our_analysis_on_its_results(got10k_module, got10k_otb_run) -> None:
    from evaluation.analysis.evaluate import evaluate

    root, results, performance = got10k_otb_run
    sources = [got10k_module.got10k_results(results / name) for name in ("SiamOT", "MIL")]
    assert [s.layout for s in sources] == ["pytracking", "pytracking"] and all(s.one_based for s in sources)
    evaluation, _ = evaluate(sources, folder_dataset(root, one_based=True))
    scores = evaluation.scores()
    for name in ("SiamOT", "MIL"):
        overall = performance[name]["overall"]
        assert abs(scores[name].auc - overall["success_score"]) <= 1e-6
        assert abs(scores[name].precision - overall["precision_score"]) <= 1e-6
        for sequence in OTB_NAMES:
            assert abs(evaluation.metrics[name][sequence].auc
                       - performance[name]["seq_wise"][sequence]["success_score"]) <= 1e-6
        assert evaluation.metrics[name][OTB_NAMES[0]].timed_frames == N_FRAMES
    # A SiamOT run this short keeps the target: a real score, not a degenerate 0 or 1 on both sides.
    assert 0.3 < scores["SiamOT"].auc < 1.0
    report = json.loads((root.parent / "reports" / "OTB2013" / "SiamOT" / "performance.json").read_text())
    assert set(report) == {"SiamOT", "MIL"}
