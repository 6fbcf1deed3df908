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

    from evaluation.interop import Got10kTracker

    assert Got10kTracker is got10k_module.Got10kTracker  # the package's name, imported on first use
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


def test_got10k_reads_the_real_otb2013_copy_as_our_loader_does(got10k_module, otb2013_dir: Path, tmp_path: Path) -> None:
    """On the partial real OTB2013 copy, got10k (offline) finds the targets we find, with the same frames and,
    after its 1-based shift, the same ground truth (two targets in Jogging, Football1 cut to 74 frames)."""
    import warnings

    from got10k.experiments import ExperimentOTB

    from evaluation.datasets import get_dataset
    from evaluation.peer_results import name_key
    from evaluation.settings import Settings

    with got10k_module.got10k_offline():
        experiment = ExperimentOTB(str(otb2013_dir), version=2013, result_dir=str(tmp_path / "r"),
                                   report_dir=str(tmp_path / "p"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # our loader says once that the copy is partial
        settings = Settings(otb2013_path=str(otb2013_dir),
                            otb2013_anno_path=str(otb2013_dir / "annotations" / "cvpr13_anno"))
        ours = {name_key(s.name): s for s in get_dataset("otb2013", settings=settings)}
    assert {"Jogging.1", "Jogging.2", "Football1"} <= set(experiment.dataset.seq_names)
    for index, name in enumerate(experiment.dataset.seq_names):
        img_files, anno = experiment.dataset[index]
        sequence = ours[name_key(name)]
        assert [Path(f).resolve() for f in img_files] == [Path(f).resolve() for f in sequence.frames], name
        np.testing.assert_array_equal(anno - got10k_module.ONE_BASED_SHIFT, sequence.ground_truth_rect, err_msg=name)


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


def test_analyze_published_one_based_reads_got10k_otb_results_as_its_report(got10k_otb_run, tmp_path: Path,
                                                                             capsys, monkeypatch) -> None:
    """got10k's OTB results keep OTB's 1-based boxes in a layout ``--published`` takes as 0-based: with
    ``--published-one-based`` our analysis agrees with got10k's report; with ``--published-zero-based`` it
    does not; the printed line says which convention each folder got."""
    import csv

    from evaluation import analyze

    root, results, performance = got10k_otb_run
    (tmp_path / "settings.toml").write_text("")
    monkeypatch.setenv("SIAMOT_SETTINGS", str(tmp_path / "settings.toml"))
    common = ["--dataset", f"folder:{root}", "--plots-path", str(tmp_path / "plots"), "--no-tikz",
              "--no-attributes", "--no-cache"]
    assert analyze.main([*common, "--name", "one", "--published-one-based", f"{results / 'SiamOT'}:SiamOT",
                         "--published", f"{results / 'MIL'}:MIL"]) == 0
    out = capsys.readouterr().out
    assert f"published SiamOT: {results / 'SiamOT'} (pytracking layout, 1-based boxes, shifted to 0-based)" in out
    assert f"published MIL: {results / 'MIL'} (pytracking layout, 0-based boxes)" in out  # floats: taken as ours
    assert analyze.main([*common, "--name", "zero", "--published-zero-based", f"{results / 'SiamOT'}:SiamOT"]) == 0
    assert "(pytracking layout, 0-based boxes)" in capsys.readouterr().out
    auc = {}
    for report in ("one", "zero"):
        with (tmp_path / "plots" / report / "summary.csv").open() as table:
            auc[report] = {row["Tracker"]: float(row["AUC"]) for row in csv.DictReader(table)}["SiamOT"]
    got10k_auc = performance["SiamOT"]["overall"]["success_score"]
    assert abs(auc["one"] - got10k_auc) <= 0.0005 + 1e-9  # summary.csv has 3 decimals
    assert abs(auc["zero"] - got10k_auc) > 0.001  # one pixel off on every frame


# --------------------------------------------------------------------------- VOT

VOT_FRAMES = 12
#: The supervised experiment's reset: in the second sequence the ground truth of this frame is moved to the
#: top-left corner (the target stays where it was), so the tracker's box there has overlap 0 with it, a
#: failure; the toolkit re-initialises VOT_SKIP frames later.
VOT_JUMP_FRAME = 3
VOT_SKIP = 5


def vot_toolkit_or_skip() -> str:
    """The ``vot`` program; skips the test where the VOT toolkit or vot-trax is not installed."""
    from evaluation.interop.vot import VOT_INSTALL, vot_program

    program = vot_program()
    if program is None:
        pytest.skip(f"the VOT toolkit is not installed ({VOT_INSTALL})")
    pytest.importorskip("trax", reason=f"vot-trax is not installed ({VOT_INSTALL})")
    return program


def write_vot_sequences(root: Path, n_frames: int = VOT_FRAMES, count: int = 2) -> Path:
    """Sequences in the VOT toolkit's layout (``list.txt``, ``<seq>/sequence``, ``<seq>/color/%08d.jpg``,
    ``<seq>/groundtruth.txt`` with 0-based ``x,y,w,h`` rows), cut from the synthetic dataset."""
    names = []
    for sequence in list(synthetic_dataset())[:count]:
        name = sequence.name.lower()
        folder = root / name
        (folder / "color").mkdir(parents=True)
        for i in range(n_frames):
            rgb = sequence.frame_loader(i)
            cv2.imwrite(str(folder / "color" / f"{i + 1:08d}.jpg"), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        np.savetxt(folder / "groundtruth.txt", sequence.ground_truth_rect[:n_frames], fmt="%.4f", delimiter=",")
        (folder / "sequence").write_text(f"channels.color=color/%08d.jpg\nformat=default\nfps=30\nname={name}\n")
        names.append(name)
    (root / "list.txt").write_text("\n".join(names) + "\n")
    return root


def run_module(args: list[str], env: dict[str, str], cwd: Path | None = None):
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", *args], env=env, cwd=cwd, capture_output=True, text=True,
                          timeout=600)


@pytest.fixture(scope="module")
def vot_workspace(tmp_path_factory: pytest.TempPathFactory):
    """A workspace on 2 generated sequences (the second with a ground-truth jump: a failure in the supervised
    experiment) with SiamOT (torch engine) and MIL entries, SiamOT evaluated (the unsupervised and the
    supervised experiment of init's stack, text results) and analysed by the toolkit (once for the module)."""
    import os
    import subprocess

    from evaluation.interop.vot import main, our_entries

    program = vot_toolkit_or_skip()
    base = tmp_path_factory.mktemp("vot")
    (base / "settings.toml").write_text("")
    isolated = {"SIAMOT_SETTINGS": str(base / "settings.toml"), "SIAMOT_RESULTS_PATH": str(base / "r"),
                "VOT_RESULTS_BINARY": "0", "MPLBACKEND": "Agg"}
    sequences = write_vot_sequences(base / "sequences")
    jumping = (sequences / "list.txt").read_text().split()[1]
    gt = np.loadtxt(sequences / jumping / "groundtruth.txt", delimiter=",")
    gt[VOT_JUMP_FRAME, :2] = 0.0
    np.savetxt(sequences / jumping / "groundtruth.txt", gt, fmt="%.4f", delimiter=",")
    workspace = base / "workspace"
    with pytest.MonkeyPatch.context() as patch:
        for key, value in isolated.items():
            patch.setenv(key, value)
        assert main(["init", str(workspace), "--tracker", "siamot:mobilenet_v2", "--override", "engine=torch",
                     "--sequences", str(sequences)]) == 0
        assert main(["init", str(workspace), "--tracker", "opencv:mil"]) == 0
    env = {**os.environ, **isolated}
    siamot_id = next(i for i in our_entries(workspace) if i.startswith("siamot_"))
    evaluate = subprocess.run([program, "evaluate", siamot_id], cwd=workspace, env=env, capture_output=True,
                              text=True, timeout=600)
    analysis = subprocess.run([program, "analysis", siamot_id, "--name", "check"], cwd=workspace, env=env,
                              capture_output=True, text=True, timeout=600)
    return workspace, sequences, env, siamot_id, evaluate, analysis


@pytest.mark.slow
def test_vot_init_writes_entries_and_every_entry_passes_vot_test(vot_workspace) -> None:
    import configparser
    import sys

    from evaluation.interop.vot import REPO_ROOT

    workspace, sequences, env, siamot_id, _, _ = vot_workspace
    ini = configparser.ConfigParser(interpolation=None)
    ini.read(workspace / "trackers.ini")
    assert ini.sections() == [siamot_id, "opencv_mil"]  # the second init kept the first entry
    assert siamot_id.startswith("siamot_mobilenet_v2_o")
    assert dict(ini[siamot_id]) == {
        "label": f"siamot_mobilenet_v2@{siamot_id.rsplit('_', 1)[1]}", "protocol": "traxpython",
        "command": "evaluation.interop.trax_entry", "python": sys.executable, "paths": str(REPO_ROOT),
        "timeout": "300", "env_siamot_trax_tracker": "siamot:mobilenet_v2",
        "env_siamot_trax_overrides": '{"engine": "torch"}'}
    assert ini["opencv_mil"]["env_siamot_trax_tracker"] == "opencv:mil"
    config = (workspace / "config.yaml").read_text()
    assert f'sequences: "{sequences}"' in config and 'stack: "./stack.yaml"' in config
    # On a short sequence of ours instead of the toolkit's 50 frames of 640x480 (seconds, not a minute).
    done = run_module(["evaluation.interop.vot", "test", str(workspace), "--sequence", str(sequences / "cruise")], env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [f"ok: {siamot_id}", "ok: opencv_mil"]


@pytest.mark.slow
def test_vot_unsupervised_boxes_are_our_trackers(vot_workspace, tmp_path: Path) -> None:
    """The one-pass experiment's boxes through TraX are, frame for frame, those of our tracker driven
    directly and of our runner's result files (issue's agreement: within the files' decimals)."""
    from evaluation.data import read_image_rgb
    from evaluation.datasets.vot import vot_dataset
    from evaluation.running import run_sequence, torch_thread_count
    from evaluation.settings import Settings
    from evaluation.tracker import Tracker

    workspace, sequences, _, siamot_id, evaluate, _ = vot_workspace
    assert "Evaluation concluded successfuly" in evaluate.stdout + evaluate.stderr
    ours = Tracker("siamot", "mobilenet_v2", overrides=SIAMOT_OVERRIDES)
    runner = Tracker("siamot", "mobilenet_v2", overrides=SIAMOT_OVERRIDES,
                     settings=Settings(results_path=str(tmp_path / "ours")))
    dataset = vot_dataset(Settings(vot_path=str(sequences)))
    names = (sequences / "list.txt").read_text().split()
    for name in names:
        folder = workspace / "results" / siamot_id / "baseline" / name
        rows = (folder / f"{name}_001.txt").read_text().splitlines()
        assert len(rows) == VOT_FRAMES and rows[0] == "1"  # VOT's code for the initialisation frame
        theirs = np.array([[float(v) for v in row.split(",")] for row in rows[1:]])
        confidence = (folder / f"{name}_001_confidence.value").read_text().splitlines()
        assert len(confidence) == VOT_FRAMES and confidence[0] == ""  # none on the initialisation frame
        assert all(0 < float(value) <= 1 for value in confidence[1:])  # SiamOT's JCPP
        frames = sorted((sequences / name / "color").glob("*.jpg"))
        init_box = np.loadtxt(sequences / name / "groundtruth.txt", delimiter=",")[0]
        tracker = ours.create()
        with torch_thread_count(1):
            tracker.initialize(read_image_rgb(frames[0]), {"init_bbox": init_box.tolist()})
            direct = np.array([tracker.track(read_image_rgb(f))["target_bbox"] for f in frames[1:]])
        # TraX carries 4 decimals; the toolkit keeps regions as float32 (half a unit in the last place is
        # 3.1e-5 below 1024 px).
        np.testing.assert_allclose(theirs, direct, rtol=0, atol=0.00005 + 0.000031)
        # Our runner on the same sequence (its result file has 2 decimals).
        sequence = next(s for s in dataset if s.name == name)
        assert run_sequence(runner, sequence, torch_threads=1).status == "done"
        np.testing.assert_allclose(theirs, runner.results_for(sequence)[1:], rtol=0, atol=0.005 + 0.00005 + 0.000031)


@pytest.mark.slow
def test_vot_accuracy_analysis_runs_and_is_close_to_our_overlaps(vot_workspace) -> None:
    from evaluation.analysis.metrics import frame_ious

    workspace, sequences, _, siamot_id, _, analysis = vot_workspace
    assert analysis.returncode == 0, analysis.stdout + analysis.stderr
    report = json.loads((workspace / "analysis" / "check.json").read_text())
    assert list(report["trackers"]) == [siamot_id]
    vot_accuracy = report["results"]["baseline"]["results"][0][0][0]
    per_sequence = []
    for name in (sequences / "list.txt").read_text().split():
        rows = (workspace / "results" / siamot_id / "baseline" / name / f"{name}_001.txt").read_text().splitlines()
        gt = np.loadtxt(sequences / name / "groundtruth.txt", delimiter=",")
        boxes = np.vstack([gt[:1], [[float(v) for v in row.split(",")] for row in rows[1:]]])
        ious, _ = frame_ious(boxes, gt)
        per_sequence.append(np.mean(ious[1:]))  # the analysis's burn-in skips the initialisation frame
    assert 0.5 < vot_accuracy <= 1.0
    # The toolkit rasterises both boxes to pixel masks (its overlap counts whole pixels) where we intersect
    # continuous boxes: the same boxes, a close but not equal mean overlap (0.0045 apart here).
    assert abs(vot_accuracy - float(np.mean(per_sequence))) < 0.01


def our_boxes_with_resets(frames: list[Path], gt: np.ndarray, starts: list[int], ends: list[int]) -> dict[int, list]:
    """Our tracker (as the TraX entry drives it) initialised at each start frame on the ground truth and run
    up to the matching end frame (inclusive): ``{frame: box}`` of the tracked frames."""
    from evaluation.data import read_image_rgb
    from evaluation.running import torch_thread_count
    from evaluation.tracker import Tracker

    ours = Tracker("siamot", "mobilenet_v2", overrides=SIAMOT_OVERRIDES)
    boxes = {}
    for start, end in zip(starts, ends):
        tracker = ours.create()
        with torch_thread_count(1):
            tracker.initialize(read_image_rgb(frames[start]), {"init_bbox": gt[start].tolist()})
            for index in range(start + 1, end + 1):
                boxes[index] = tracker.track(read_image_rgb(frames[index]))["target_bbox"]
    return boxes


@pytest.mark.slow
def test_vot_supervised_experiment_resets_runs_our_boxes_and_is_analysed(vot_workspace) -> None:
    """The supervised (reset) experiment through TraX: a failure where the ground truth jumps, VOT's codes
    around it (2 failure, 0 skipped, 1 re-initialisation), our tracker's boxes on every tracked frame, and
    the toolkit's accuracy/robustness and EAO analyses and its report on the results."""
    import subprocess

    workspace, sequences, env, siamot_id, evaluate, analysis = vot_workspace
    assert "Evaluation concluded successfuly" in evaluate.stdout + evaluate.stderr
    steady, jumping = (sequences / "list.txt").read_text().split()
    reinit = VOT_JUMP_FRAME + VOT_SKIP
    for name in (steady, jumping):
        folder = workspace / "results" / siamot_id / "supervised" / name
        rows = (folder / f"{name}_001.txt").read_text().splitlines()
        assert len(rows) == VOT_FRAMES
        if name == steady:
            codes, starts, ends = {0: "1"}, [0], [VOT_FRAMES - 1]
        else:
            codes = {0: "1", VOT_JUMP_FRAME: "2", **{f: "0" for f in range(VOT_JUMP_FRAME + 1, reinit)}, reinit: "1"}
            starts, ends = [0, reinit], [VOT_JUMP_FRAME - 1, VOT_FRAMES - 1]
        assert {i: row for i, row in enumerate(rows) if "," not in row} == codes, name
        frames = sorted((sequences / name / "color").glob("*.jpg"))
        gt = np.loadtxt(sequences / name / "groundtruth.txt", delimiter=",")
        direct = our_boxes_with_resets(frames, gt, starts, ends)
        theirs = {i: [float(v) for v in row.split(",")] for i, row in enumerate(rows) if "," in row}
        assert sorted(theirs) == sorted(direct), name
        np.testing.assert_allclose([theirs[i] for i in sorted(theirs)], [direct[i] for i in sorted(direct)],
                                   rtol=0, atol=0.00005 + 0.000031, err_msg=name)
    assert analysis.returncode == 0, analysis.stdout + analysis.stderr
    report = json.loads((workspace / "analysis" / "check.json").read_text())
    assert report["results"]["supervised"]["type"] == "evaluation.interop.vot_supervised.SupervisedExperiment"
    accuracy, robustness, _, length = report["results"]["supervised"]["results"][0][0]
    (eao,) = report["results"]["supervised"]["results"][1][0]
    # One failure in two sequences of equal length: VOT's robustness is the length-weighted mean failure count.
    assert robustness == 0.5 and length == VOT_FRAMES
    # Accuracy skips 10 frames after each initialisation (VOT's burn-in): only the steady sequence's last 2
    # frames count here, and the toolkit counts the other sequence as 0 at equal weight.
    assert 0.45 < accuracy <= 0.5
    assert 0.5 < eao <= 1.0
    # vot report puts them in its HTML table.
    report_run = subprocess.run([vot_toolkit_or_skip(), "report", siamot_id, "--name", "r"], cwd=workspace, env=env,
                                capture_output=True, text=True, timeout=300)
    assert report_run.returncode == 0, report_run.stdout + report_run.stderr
    html = (workspace / "reports" / "r" / "report.html").read_text()
    assert f'data-value="{eao!r}"' in html and f'data-value="{robustness!r}"' in html


def test_supervised_runtime_adapter_speaks_both_interfaces() -> None:
    """The adapter gives the toolkit's runtimes lists and the supervised experiment one status (the three
    toolkit mismatches of vot_supervised's doc), without a tracker process."""
    vot_toolkit_or_skip()
    from vot.region import Rectangle
    from vot.tracker import ObjectStatus

    from evaluation.interop.vot import SUPERVISED_TYPE
    from evaluation.interop.vot_supervised import OneObjectRuntime, SupervisedExperiment, one_object

    assert SUPERVISED_TYPE == f"{SupervisedExperiment.__module__}.{SupervisedExperiment.__name__}"
    calls = []

    class ListRuntime:  # answers as TraxTrackerRuntime does: lists in, lists out
        tracker = "t"

        def initialize(self, frame, new):
            calls.append(("initialize", new))
            return [ObjectStatus(Rectangle(1, 2, 3, 4), {})], 0.5

        def update(self, frame, new):
            calls.append(("update", new))
            return [ObjectStatus(Rectangle(2, 3, 4, 5), {"confidence": "0.9"})], 0.25

    runtime = OneObjectRuntime(ListRuntime())
    start = ObjectStatus(Rectangle(1, 2, 3, 4), {})
    status, elapsed = runtime.initialize("frame", start)
    assert calls[-1] == ("initialize", [start]) and status.region.x == 1 and elapsed == 0.5
    status, elapsed = runtime.update("frame")
    assert calls[-1] == ("update", []) and status.properties == {"confidence": "0.9"} and elapsed == 0.25
    assert not runtime.multiobject
    with pytest.raises(ValueError, match="no new object"):
        runtime.update("frame", [start])
    with pytest.raises(ValueError, match="got 2"):
        one_object([start, start])


def test_supervised_experiment_wraps_the_runtime_also_under_realtime() -> None:
    """Under ``realtime`` (VOT2017/2018's real-time experiment) the toolkit's real-time wrapper stays between
    two adapters: it calls ``update(frame, None)`` on the runtime it wraps, which TraX refuses."""
    vot_toolkit_or_skip()
    from vot.region import Rectangle
    from vot.tracker import ObjectStatus, OnlineTrackerRuntime, RealtimeTrackerRuntime

    from evaluation.interop.vot_supervised import OneObjectRuntime, SupervisedExperiment

    class StrictRuntime(OnlineTrackerRuntime):  # refuses new=None as TraxTrackerRuntime.update does
        def __init__(self) -> None:
            super().__init__("t")

        def initialize(self, frame, new=None):
            assert isinstance(new, list)
            return [ObjectStatus(Rectangle(1, 2, 3, 4), {})], 0.0

        def update(self, frame, new=None):
            if new is None:
                raise RuntimeError("Tracker does not support multiple objects")
            return [ObjectStatus(Rectangle(2, 2, 3, 4), {})], 0.0

        def stop(self) -> None:
            pass

        def restart(self) -> None:
            pass

    class Definition:
        def runtime(self):
            return StrictRuntime()

    class Sequence:
        def metadata(self, key, default):
            return 30

    plain = SupervisedExperiment(_identifier="plain", _storage=None)._get_runtime(Definition(), Sequence())
    realtime = SupervisedExperiment(_identifier="rt", _storage=None, realtime={"grace": 3})._get_runtime(
        Definition(), Sequence())
    assert isinstance(plain, OneObjectRuntime) and isinstance(plain._runtime, StrictRuntime)
    assert isinstance(realtime._runtime, RealtimeTrackerRuntime)
    assert isinstance(realtime._runtime._runtime, OneObjectRuntime)
    for runtime in (plain, realtime):
        status, _ = runtime.initialize("frame", ObjectStatus(Rectangle(1, 2, 3, 4), {}))
        assert isinstance(status, ObjectStatus)
        status, _ = runtime.update("frame")
        assert isinstance(status, ObjectStatus) and status.region.x == 2


@pytest.mark.slow
def test_vot_test_reports_a_dying_peer_in_one_line(vot_workspace) -> None:
    import sys

    workspace, _, env, _, _, _ = vot_workspace
    with (workspace / "trackers.ini").open("a") as ini:
        ini.write(f"\n[dying]\nprotocol = traxpython\ncommand = import os; os._exit(3)\npython = {sys.executable}\n"
                  f"\n[unknown]\nprotocol = traxpython\ncommand = evaluation.interop.trax_entry\n"
                  f"python = {sys.executable}\npaths = {Path.cwd()}\nenv_siamot_trax_tracker = nope:x\n")
    done = run_module(["evaluation.interop.vot", "test", str(workspace), "dying", "unknown"], env)
    assert done.returncode == 1 and done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 2
    assert lines[0] == "error: dying: Unable to connect to tracker"
    assert lines[1].startswith("error: unknown: ") and "unknown tracker 'nope'" in lines[1]


def test_vot_init_bad_input_is_one_line_and_writes_nothing(tmp_path: Path, capsys) -> None:
    from evaluation.interop.vot import main

    a_file = tmp_path / "file"
    a_file.write_text("x")
    assert main(["init", str(a_file), "--tracker", "opencv:mil"]) == 2
    assert main(["init", str(a_file / "ws"), "--tracker", "opencv:mil"]) == 2
    assert a_file.read_text() == "x"
    fresh = tmp_path / "fresh"
    assert main(["init", str(fresh), "--tracker", "nope:x"]) == 2
    assert main(["init", str(fresh), "--tracker", "opencv:mil", "--sequences", str(tmp_path / "missing")]) == 2
    assert main(["init", str(fresh), "--tracker", "opencv:mil", "--override", "engine=torch"]) == 2
    assert not fresh.exists()
    errors = capsys.readouterr().err.splitlines()
    assert len(errors) == 5 and all(line.startswith("error: ") for line in errors)
    assert "is a file" in errors[0] and "is a file" in errors[1]
    assert "unknown tracker 'nope'" in errors[2] and "sequences folder not found" in errors[3]
    assert "engine" in errors[4]
    # An existing workspace configuration is never replaced, and trackers.ini stays as it was.
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "config.yaml").write_text("stack: vot2018\n")
    sequences = write_vot_sequences(tmp_path / "seqs", n_frames=2, count=1)
    assert main(["init", str(workspace), "--tracker", "opencv:mil", "--sequences", str(sequences)]) == 2
    assert sorted(p.name for p in workspace.iterdir()) == ["config.yaml"]
    assert "config.yaml exists" in capsys.readouterr().err
    # A stack.yaml of the user's is never replaced either; an unreadable stack file is named.
    other = tmp_path / "other"
    other.mkdir()
    (other / "stack.yaml").write_text("title: mine\n")
    assert main(["init", str(other), "--tracker", "opencv:mil", "--sequences", str(sequences)]) == 2
    assert "stack.yaml exists" in capsys.readouterr().err
    bad_stack = tmp_path / "bad.yaml"
    bad_stack.write_text("experiments: [unclosed\n")
    assert main(["init", str(other), "--tracker", "opencv:mil", "--stack", str(bad_stack)]) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"error: stack {bad_stack} is not YAML") and len(error.splitlines()) == 1
    assert sorted(p.name for p in other.iterdir()) == ["stack.yaml"] and (other / "stack.yaml").read_text() == "title: mine\n"


def test_vot_init_rewrites_supervised_stacks_and_keeps_others(tmp_path: Path, capsys) -> None:
    """A stack with the toolkit's supervised experiments is written into the workspace with ours (settings and
    analyses kept); a stack without them is named as given."""
    import yaml

    from evaluation.interop.vot import SUPERVISED_TYPE, main

    stack = tmp_path / "mine.yaml"
    stack.write_text("title: mine\ndataset: http://example/description.json\nexperiments:\n"
                     "  reset:\n    type: supervised\n    skip_initialize: 3\n    analyses:\n"
                     "      - type: supervised_eao_score\n        low: 5\n        high: 9\n"
                     "  ope:\n    type: unsupervised\n")
    assert main(["init", str(tmp_path / "ws"), "--tracker", "opencv:mil", "--stack", str(stack)]) == 0
    captured = capsys.readouterr()
    written = yaml.safe_load((tmp_path / "ws" / "stack.yaml").read_text())
    original = yaml.safe_load(stack.read_text())
    assert written["experiments"]["reset"] == dict(original["experiments"]["reset"], type=SUPERVISED_TYPE)
    assert written["experiments"]["ope"] == original["experiments"]["ope"]
    assert {k: v for k, v in written.items() if k != "experiments"} == {
        k: v for k, v in original.items() if k != "experiments"}
    assert 'stack: "./stack.yaml"' in (tmp_path / "ws" / "config.yaml").read_text()
    assert f"wrote {tmp_path / 'ws' / 'stack.yaml'}" in captured.out
    assert "supervised experiments (reset)" in captured.err
    unsupervised = tmp_path / "ope.yaml"
    unsupervised.write_text("title: ope\nexperiments:\n  ope:\n    type: unsupervised\n")
    assert main(["init", str(tmp_path / "ws2"), "--tracker", "opencv:mil", "--stack", str(unsupervised)]) == 0
    assert sorted(p.name for p in (tmp_path / "ws2").iterdir()) == ["config.yaml", "trackers.ini"]
    assert f'stack: "{unsupervised}"' in (tmp_path / "ws2" / "config.yaml").read_text()


def test_interop_command_lines_help_is_plain_and_ctrl_c_is_130(got10k_module, monkeypatch, capsys) -> None:
    from evaluation.interop import vot

    import re

    for module, argv in ((vot, []), (vot, ["init"]), (vot, ["test"]), (vot, ["export"]), (got10k_module, []),
                         (got10k_module, ["agree"])):
        with pytest.raises(SystemExit) as done:
            module.main([*argv, "--help"])
        assert done.value.code == 0
        text = capsys.readouterr().out
        assert text.startswith("usage:")
        assert "``" not in text and not re.search(r":(mod|func|class|data|meth|attr):`", text), text
        assert not re.search(r"::$", text, re.M), text  # reST literal-block markers

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(vot, "init", interrupted)
    assert vot.main(["init", "ws", "--tracker", "opencv:mil"]) == 130
    assert capsys.readouterr().err.strip() == "interrupted"


def test_trax_entry_reads_its_environment() -> None:
    from evaluation.interop.trax_entry import frame_confidence, tracker_from_environment

    assert tracker_from_environment({"SIAMOT_TRAX_TRACKER": "siamot:mobilenet_v2"}) == (
        "siamot", "mobilenet_v2", {}, 1)
    assert tracker_from_environment({"SIAMOT_TRAX_TRACKER": "opencv:mil", "SIAMOT_TRAX_OVERRIDES": '{"a": 1}',
                                     "SIAMOT_TRAX_TORCH_THREADS": "none"}) == ("opencv", "mil", {"a": 1}, None)
    with pytest.raises(ValueError, match="SIAMOT_TRAX_TRACKER must be NAME:PARAM"):
        tracker_from_environment({})
    with pytest.raises(ValueError, match="SIAMOT_TRAX_OVERRIDES must be a JSON object"):
        tracker_from_environment({"SIAMOT_TRAX_TRACKER": "a:b", "SIAMOT_TRAX_OVERRIDES": "[1]"})
    assert frame_confidence({"jcpp": 0.7, "score": 0.2}) == 0.7
    assert frame_confidence({"score": 0.2}) == 0.2
    assert frame_confidence({"found": True}) is None


@pytest.mark.slow
def test_vot_results_come_back_into_our_analysis(vot_workspace, tmp_path: Path, capsys) -> None:
    from evaluation.analysis.evaluate import evaluate
    from evaluation.datasets.vot import vot_dataset
    from evaluation.interop.vot import main
    from evaluation.peer_results import PublishedResults
    from evaluation.settings import Settings

    workspace, sequences, _, siamot_id, _, _ = vot_workspace
    out = tmp_path / "export"
    assert main(["export", str(workspace), siamot_id, "--out", str(out)]) == 0
    assert f"wrote {out}" in capsys.readouterr().out
    source = PublishedResults("SiamOT-VOT", out)
    assert source.layout == "got10k" and not source.one_based  # VOT's boxes are 0-based, as ours
    dataset = vot_dataset(Settings(vot_path=str(sequences)))
    for sequence in dataset:
        rows = (workspace / "results" / siamot_id / "baseline" / sequence.name /
                f"{sequence.name}_001.txt").read_text().splitlines()
        boxes = source.results_for(sequence)
        assert np.isnan(boxes[0]).all()  # VOT's initialisation code; our analysis takes the ground truth there
        np.testing.assert_allclose(boxes[1:], [[float(v) for v in row.split(",")] for row in rows[1:]],
                                   rtol=0, atol=0.00005 + 1e-9)
        assert source.times_for(sequence).shape == (VOT_FRAMES,)
    evaluation, _ = evaluate([source], dataset)
    assert 0.5 < evaluation.scores()["SiamOT-VOT"].auc <= 1.0
    # Bad input: one line, nothing written.
    assert main(["export", str(workspace), "nope", "--out", str(tmp_path / "none")]) == 2
    assert capsys.readouterr().err.startswith("error: no results of 'nope'")
    assert not (tmp_path / "none").exists()


def test_vot_trajectory_reader_text_and_binary(tmp_path: Path) -> None:
    import struct

    from evaluation.interop.vot import read_trajectory

    text = tmp_path / "a_001.txt"
    text.write_text("1\n10.5,20,30,40\n0,0,4,0,4,2,0,2\n2\n")
    binary = tmp_path / "a_001.bin"
    binary.write_bytes(struct.pack("<hI", 1, 4) + struct.pack("<BI", 0, 1) + struct.pack("<Bffff", 1, 10.5, 20, 30, 40)
                       + struct.pack("<BH8f", 2, 4, 0, 0, 4, 0, 4, 2, 0, 2) + struct.pack("<BI", 0, 2))
    for path in (text, binary):
        rows = read_trajectory(path)
        assert rows.shape == (4, 4) and np.isnan(rows[0]).all() and np.isnan(rows[3]).all()
        np.testing.assert_array_equal(rows[1:3], [[10.5, 20, 30, 40], [0, 0, 4, 2]])
    (tmp_path / "m_001.txt").write_text("m1,2,3\n")
    with pytest.raises(ValueError, match="mask"):
        read_trajectory(tmp_path / "m_001.txt")


@pytest.mark.slow
def test_got10k_experiment_repeats_only_nondeterministic_trackers(got10k_module, tmp_path: Path) -> None:
    """ExperimentGOT10k (0-based boxes): SiamOT runs once with our tracker's boxes, MIL three times; the
    result folders come back as results sources (MIL's runs averaged)."""
    from got10k.experiments import ExperimentGOT10k

    from evaluation.analysis.evaluate import evaluate
    from evaluation.data import read_image_rgb
    from evaluation.running import torch_thread_count
    from evaluation.settings import Settings
    from evaluation.tracker import Tracker

    val = tmp_path / "GOT-10k" / "val"
    names = []
    for sequence in list(synthetic_dataset())[:2]:
        name = f"GOT-10k_Val_{len(names) + 1:06d}"
        (val / name).mkdir(parents=True)
        for i in range(N_FRAMES):
            cv2.imwrite(str(val / name / f"{i + 1:08d}.jpg"), cv2.cvtColor(sequence.frame_loader(i), cv2.COLOR_RGB2BGR))
        np.savetxt(val / name / "groundtruth.txt", sequence.ground_truth_rect[:N_FRAMES], fmt="%.4f", delimiter=",")
        names.append(name)
    (val / "list.txt").write_text("\n".join(names) + "\n")
    settings = Settings(results_path=str(tmp_path / "unused"))
    zero_based = got10k_module.ONE_BASED["GOT-10k"]
    siamot = got10k_module.Got10kTracker("siamot", "mobilenet_v2", name="SiamOT", one_based=zero_based,
                                         settings=settings, **SIAMOT_OVERRIDES)
    mil = got10k_module.Got10kTracker("opencv", "mil", name="MIL", one_based=zero_based, settings=settings)
    experiment = ExperimentGOT10k(str(tmp_path / "GOT-10k"), subset="val", result_dir=str(tmp_path / "results"))
    experiment.run(siamot)
    experiment.run(mil)
    results = tmp_path / "results" / "GOT-10k"
    for name in names:
        runs = f"{name}_[0-9][0-9][0-9].txt"
        assert sorted(p.name for p in (results / "SiamOT" / name).glob(runs)) == [f"{name}_001.txt"]
        assert sorted(p.name for p in (results / "MIL" / name).glob(runs)) == [
            f"{name}_{run:03d}.txt" for run in (1, 2, 3)]
        frames = sorted((val / name).glob("*.jpg"))
        gt = np.loadtxt(val / name / "groundtruth.txt", delimiter=",")
        tracker = Tracker("siamot", "mobilenet_v2", overrides=SIAMOT_OVERRIDES).create()
        with torch_thread_count(1):
            tracker.initialize(read_image_rgb(frames[0]), {"init_bbox": gt[0].tolist()})
            direct = [tracker.track(read_image_rgb(f))["target_bbox"] for f in frames[1:]]
        theirs = np.loadtxt(results / "SiamOT" / name / f"{name}_001.txt", delimiter=",")
        np.testing.assert_allclose(theirs[1:], direct, rtol=0, atol=0.0005 + 1e-9)  # got10k writes 3 decimals
    sources = [got10k_module.got10k_results(results / n, one_based=zero_based) for n in ("SiamOT", "MIL")]
    assert [len(s.runs) for s in sources] == [0, 3]
    evaluation, _ = evaluate(sources, folder_dataset(val, one_based=False))
    assert set(evaluation.scores()) == {"SiamOT", "MIL"} and len(evaluation.entries[1].runs) == 3


def test_got10k_agree_command_prints_the_agreement(got10k_module, got10k_otb_run, capsys) -> None:
    root, results, _ = got10k_otb_run
    report = results.parent.parent / "reports" / "OTB2013" / "SiamOT" / "performance.json"
    assert got10k_module.main(["agree", str(results), str(report), "--dataset", f"folder:{root}"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 6 and lines[0].split() == ["tracker", "measure", "got10k", "ours", "difference"]
    assert {tuple(line.split()[:2]) for line in lines[1:5]} == {
        ("SiamOT", "success"), ("SiamOT", "precision"), ("MIL", "success"), ("MIL", "precision")}
    assert lines[5].startswith("largest difference") and "(tolerance 1e-06)" in lines[5]
    # A dataset that is not there, a report that is not JSON: one error line each.
    assert got10k_module.main(["agree", str(results), str(report), "--dataset", "folder:/nonexistent"]) == 2
    assert capsys.readouterr().err.startswith("error: ")
    not_json = results / "not.json"
    not_json.write_text("{")
    assert got10k_module.main(["agree", str(results), str(not_json), "--dataset", f"folder:{root}"]) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"error: {not_json} is not got10k's performance.json") and len(error.splitlines()) == 1
    not_json.unlink()
