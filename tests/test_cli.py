"""The command lines: run_tracker, run_experiment (help, runs, exit codes) and load_experiment."""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from evaluation import analyze, paper, playback, qualitative, run_experiment, run_tracker
from evaluation.boxes_io import read_boxes_txt
from evaluation.experiments import ExperimentError, load_experiment
from evaluation.tracker import Tracker
from ltr.inference.engine import ANNOUNCED_ENV
from runner_fakes import ANNOUNCEMENT, install_fake_plugin, make_sequence

REPO = Path(__file__).resolve().parents[1]
TESTS = Path(__file__).resolve().parent


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "plugins"
    install_fake_plugin(root, monkeypatch)
    return root


def _folder_dataset(root: Path, n_frames: int = 6, name: str = "square") -> Path:
    """A sequence folder (PNG frames + groundtruth_rect.txt, 1-based like OTB) of the moving square."""
    sequence = make_sequence(n_frames=n_frames)
    folder = root / name
    (folder / "img").mkdir(parents=True)
    for i in range(n_frames):
        cv2.imwrite(str(folder / "img" / f"{i + 1:04d}.png"), sequence.image(i)[:, :, ::-1])
    gt = sequence.ground_truth_rect + [1, 1, 0, 0]
    (folder / "groundtruth_rect.txt").write_text("".join(",".join(f"{v:g}" for v in row) + "\n" for row in gt))
    return folder


def _python(args: list[str], extra_path: list[Path] = ()) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(str(p) for p in [*extra_path, REPO]))
    return subprocess.run([sys.executable, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)


def undocumented_options(help_text: str) -> list[str]:
    """The options that argparse's ``--help`` text lists without a description."""
    lines = help_text.splitlines()
    missing = []
    for index, line in enumerate(lines):
        if not line.startswith("  -"):
            continue
        described_inline = re.search(r"\S\s{2,}\S", line.strip()) is not None
        following = lines[index + 1] if index + 1 < len(lines) else ""
        described_below = re.match(r"\s{3,}\S", following) is not None
        if not (described_inline or described_below):
            missing.append(line.split()[0].rstrip(","))
    return missing


def test_undocumented_options_finds_the_option_without_help() -> None:
    parser = argparse.ArgumentParser(prog="x")
    parser.add_argument("--described", help="does something")
    parser.add_argument("--an-option-long-enough-to-move-its-help-to-the-next-line", metavar="VALUE", help="below")
    parser.add_argument("--bare")
    parser.add_argument("--last")
    assert undocumented_options(parser.format_help()) == ["--bare", "--last"]


@pytest.mark.parametrize("module", [run_tracker, run_experiment, analyze, paper, playback, qualitative])
def test_help_describes_every_option(module) -> None:
    assert undocumented_options(module.build_parser().format_help()) == []


def test_run_tracker_subprocess_on_a_folder_dataset(tmp_path: Path, isolated_settings: Path) -> None:
    folder = _folder_dataset(tmp_path / "data")
    done = _python(["-m", "evaluation.run_tracker", "opencv", "mil", "--dataset", f"folder:{folder}",
                    "--runid", "3", "--no-progress"])
    assert done.returncode == 0, done.stderr
    results = isolated_settings / "results" / "opencv" / "mil_003"
    assert f"results: {results}" in done.stdout and "1 done" in done.stdout
    boxes = np.loadtxt(results / "square.txt", delimiter="\t")
    assert boxes.shape == (6, 4)
    np.testing.assert_allclose(boxes[0], [10, 12, 16, 16])  # the folder's 1-based GT made 0-based
    again = _python(["-m", "evaluation.run_tracker", "opencv", "mil", "--dataset", f"folder:{folder}",
                     "--runid", "3", "--no-progress"])
    assert again.returncode == 0 and "1 skipped" in again.stdout


def test_run_tracker_sequence_selection(fake: Path, tmp_path: Path, capsys) -> None:
    data = tmp_path / "data"
    for name in ("a", "b"):
        _folder_dataset(data, name=name)
    assert run_tracker.main(["fake", "centroid", "--dataset", f"folder:{data}", "--sequence", "1",
                             "--no-progress"]) == 0
    tracker = Tracker("fake", "centroid")
    assert sorted(p.name for p in tracker.results_dir.glob("*.txt")) == ["b.txt", "b_time.txt"]
    assert run_tracker.main(["fake", "centroid", "--dataset", f"folder:{data}", "--sequence", "a",
                             "--no-progress"]) == 0
    assert tracker.result_file("a").is_file()
    assert run_tracker.main(["fake", "centroid", "--dataset", f"folder:{data}", "--sequence", "zz"]) == 2
    assert "no sequence named 'zz'" in capsys.readouterr().err


def test_run_tracker_video_mode(fake: Path, tmp_path: Path) -> None:
    sequence = make_sequence(n_frames=5)
    video = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 10, (96, 96))
    assert writer.isOpened()
    for i in range(5):
        writer.write(sequence.image(i)[:, :, ::-1])
    writer.release()
    assert run_tracker.main(["fake", "centroid", "--video", str(video), "--init-box", "10,12,16,16",
                             "--no-progress"]) == 0
    boxes = read_boxes_txt(Tracker("fake", "centroid").result_file("clip"))
    np.testing.assert_allclose(boxes, sequence.ground_truth_rect, atol=1.0)  # JPEG-compressed frames


def test_run_tracker_argument_errors(capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        run_tracker.main(["opencv", "mil", "--video", "x.mp4"])
    assert exit_info.value.code == 2 and "--video and --init-box go together" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        run_tracker.main(["opencv", "mil", "--video", "x.mp4", "--init-box", "1,2,0,4"])
    with pytest.raises(SystemExit):
        run_tracker.main(["opencv", "mil", "--threads", "0"])
    capsys.readouterr()
    assert run_tracker.main(["nope", "x"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: unknown tracker 'nope'")


def test_run_experiment_main_and_threads(fake: Path, capsys) -> None:
    assert run_experiment.main(["runner_fakes", "fake_experiment", "--threads", "2", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "3 done" in out
    tracker = Tracker("fake", "centroid")
    assert sorted(p.name for p in tracker.results_dir.glob("seq*.txt") if "_time" not in p.name) == \
        ["seq0.txt", "seq1.txt", "seq2.txt"]


def test_run_experiment_failure_exit_code_lists_failures(fake: Path, capsys) -> None:
    code = run_experiment.main(["runner_fakes", "failing_experiment", "--no-progress"])
    captured = capsys.readouterr()
    assert code == 1
    assert "error: 1 of 2 sequences failed (tracebacks above): fake_centroid/unreadable" in captured.err
    assert Tracker("fake", "centroid").result_file("fine").is_file()


def test_run_experiment_subprocess(fake: Path, isolated_settings: Path) -> None:
    done = _python(["-m", "evaluation.run_experiment", "runner_fakes", "failing_experiment", "--no-progress"],
                   extra_path=[fake, TESTS])
    assert done.returncode == 1
    assert "Traceback" in done.stderr and "OSError: synthetic frame 2 cannot be read" in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("error: 1 of 2 sequences failed")


def test_save_debug_gives_identical_results(fake: Path, tmp_path: Path, isolated_settings: Path) -> None:
    folder = _folder_dataset(tmp_path / "data")
    args = ["fake", "centroid", "--dataset", f"folder:{folder}", "--no-progress"]
    assert run_tracker.main(args) == 0
    assert run_tracker.main(args + ["--runid", "1", "--save-debug", "--debug", "2"]) == 0
    plain, debug = Tracker("fake", "centroid"), Tracker("fake", "centroid", run_id=1)
    assert plain.result_file("square").read_bytes() == debug.result_file("square").read_bytes()
    assert list((isolated_settings / "plots" / "debug").rglob("*square*"))


def test_debug_run_on_complete_results_says_how_to_draw_them(fake: Path, tmp_path: Path,
                                                             isolated_settings: Path, capsys) -> None:
    folder = _folder_dataset(tmp_path / "data")
    args = ["fake", "centroid", "--dataset", f"folder:{folder}", "--no-progress"]
    debug_folder = isolated_settings / "plots" / "debug"
    assert run_tracker.main(args) == 0
    assert "debug views" not in capsys.readouterr().out  # no debug view asked for: nothing to say

    assert run_tracker.main(args + ["--debug", "1", "--save-debug"]) == 0
    out = capsys.readouterr().out
    assert "0 done, 1 skipped" in out
    notice = [line for line in out.splitlines() if line.startswith("debug views:")]
    assert notice == ["debug views: 1 of 1 (tracker, sequence) pairs already have complete results, so they "
                      "were not tracked and no views were drawn; add --overwrite to track them again with the views"]
    assert not debug_folder.exists()

    assert run_tracker.main(args + ["--debug", "1", "--save-debug", "--overwrite"]) == 0
    out = capsys.readouterr().out
    assert "1 done" in out and "debug views:" not in out
    (video,) = [p for p in debug_folder.rglob("square*") if p.suffix == ".mp4" or p.is_dir()]
    frames = cv2.VideoCapture(str(video)).get(cv2.CAP_PROP_FRAME_COUNT) if video.suffix == ".mp4" else \
        len(list(video.glob("*.png")))
    assert frames == 6


def test_fallback_warning_is_said_once_per_run_not_per_worker(tmp_path: Path, monkeypatch) -> None:
    """The tracker says its notice (``announce_once``) when built: in the main process's preflight
    and in each of the two workers; only the main process prints it."""
    root = tmp_path / "plugins"
    install_fake_plugin(root, monkeypatch, tracker_name="announcing", target="runner_fakes:announcing_tracker_spec",
                        dist="siamot_announcing_plugin")
    monkeypatch.delenv(ANNOUNCED_ENV, raising=False)  # as in a fresh shell
    done = _python(["-m", "evaluation.run_experiment", "runner_fakes", "announcing_experiment", "--threads", "2",
                    "--no-progress"], extra_path=[root, TESTS])
    assert done.returncode == 0, done.stderr
    assert "3 done" in done.stdout
    assert done.stderr.count(ANNOUNCEMENT) == 1, done.stderr


# Every command-line tool of the project (python -m <module>, or its main(argv)), with subcommands.
CLI_HELP_ARGS = [("evaluation.run_tracker", []), ("evaluation.run_experiment", []), ("evaluation.analyze", []),
                 ("evaluation.playback", []), ("evaluation.qualitative", []), ("evaluation.paper", []),
                 ("evaluation.registry", []), ("evaluation.settings", []), ("evaluation.settings", ["init"]),
                 ("evaluation.settings", ["show"]), ("evaluation.pack", []), ("evaluation.datasets.__main__", []),
                 ("pytracking_siamot.integrate", []), ("ltr.models.backbone.__main__", []),
                 ("benchmarks.runner_parity", [])]


@pytest.mark.parametrize(("module", "command"), CLI_HELP_ARGS)
def test_help_is_plain_text(module: str, command: list[str], capsys) -> None:
    import importlib

    main = importlib.import_module(module).main
    with pytest.raises(SystemExit) as exit_info:
        main([*command, "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    assert text.startswith("usage:")
    assert "``" not in text and not re.search(r":(mod|func|class|data|meth|attr):`", text), text
    assert not re.search(r"::$", text, re.M), text  # reST literal-block markers


def test_plain_text_reduces_rest_markup() -> None:
    from evaluation.cli_help import plain_text

    assert plain_text("run ``demo demo`` (see :mod:`evaluation.experiments`, :func:`~a.b.run`)") == \
        "run demo demo (see evaluation.experiments, run)"
    assert plain_text(":class:`the tracker <evaluation.tracker.Tracker>`") == "the tracker"
    assert plain_text("Examples::\n\n    python -m x\nText ::\n") == "Examples:\n\n    python -m x\nText\n"
    assert plain_text("a::b and ``x::``") == "a::b and x::"


def test_load_experiment_builtin_and_errors() -> None:
    trackers, dataset = load_experiment("demo", "demo")
    assert [t.parameter_name for t in trackers] == ["mobilenet_v2", "mobilenet_v2_baseline", "mil"]
    assert len(dataset) > 0 and all(s.dataset == "synthetic" for s in dataset)
    from evaluation.experiments.otb2013_paper import paper_trackers
    assert len(paper_trackers()) == 8
    with pytest.raises(ExperimentError, match="experiment module 'no_such_exp' not found"):
        load_experiment("no_such_exp", "f")
    with pytest.raises(ExperimentError, match="has no function 'nothing'.*demo"):
        load_experiment("evaluation.experiments.demo", "nothing")
    with pytest.raises(ExperimentError, match="must return \\(trackers, dataset\\)"):
        load_experiment("runner_fakes", "make_sequence")


def test_otb2013_offline_experiment(otb2013_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIAMOT_OTB2013_PATH", str(otb2013_dir))
    monkeypatch.setenv("SIAMOT_OTB2013_ANNO_PATH", str(otb2013_dir / "annotations" / "cvpr13_anno"))
    monkeypatch.setenv("SIAMOT_PEER_RESULTS_PATH", str(otb2013_dir / "peer_results"))
    trackers, dataset = load_experiment("otb2013_offline", "otb2013_offline_available")
    names = [t.display_name for t in trackers]
    assert {"SiamOT-MobileNetV2", "SiamFC-EfficientNet-Lite0", "MIL", "NanoTrack", "VitTrack",
            "SiamFC-3s", "KCF"} <= set(names)
    assert {"Jogging-1", "Jogging-2", "Tiger1"} <= set(dataset.names())


def test_run_experiment_on_a_dask_scheduler(fake: Path, capsys) -> None:
    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(n_workers=1, processes=False, threads_per_worker=1,
                                  dashboard_address=None) as cluster:
        code = run_experiment.main(["runner_fakes", "fake_experiment", "--scheduler", cluster.scheduler_address,
                                    "--no-progress"])
    assert code == 0 and "3 done" in capsys.readouterr().out
    assert Tracker("fake", "centroid").result_file("seq2").is_file()


def test_scheduler_and_threads_exclude_each_other(capsys) -> None:
    with pytest.raises(SystemExit):
        run_experiment.main(["demo", "demo", "--threads", "2", "--scheduler", "tcp://localhost:1"])
    assert "exclude each other" in capsys.readouterr().err


def test_every_command_line_exits_2_with_one_error_line_on_bad_input(fake: Path, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    from evaluation import settings

    bad_calls = [
        (run_tracker.main, ["nope", "x"], "unknown tracker 'nope'"),
        (run_experiment.main, ["no_such_module_xyz", "f"], "no_such_module_xyz"),
        (analyze.main, [], "nothing to analyse"),
        (paper.main, ["no_such_module_xyz", "f"], "no_such_module_xyz"),
        (playback.main, ["--trackers", "fake:no_such_param", "--sequence", "0"], "no_such_param"),
        (qualitative.main, ["--trackers", "fake:no_such_param", "--sequences", "0"], "no_such_param"),
    ]
    for main, argv, named in bad_calls:
        assert main(argv) == 2, (main.__module__, argv)
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("error: ") and named in err[0], (main.__module__, err)
    monkeypatch.setenv("SIAMOT_SETTINGS", str(tmp_path / "missing.toml"))
    assert settings.main(["show"]) == 2
    assert capsys.readouterr().err.startswith("error: SIAMOT_SETTINGS names ")


def test_ctrl_c_exits_130_with_the_resume_hint(capsys) -> None:
    from evaluation.cli_errors import EXIT_INTERRUPTED, run_cli

    def interrupted() -> int:
        raise KeyboardInterrupt

    assert run_cli(interrupted, interrupted=run_tracker.INTERRUPTED) == EXIT_INTERRUPTED == 130
    assert capsys.readouterr().err.strip() == run_tracker.INTERRUPTED
    with pytest.raises(ZeroDivisionError):  # a bug is not an input error: its traceback is kept
        run_cli(lambda: 1 // 0)


def test_run_experiment_analyze_loads_the_experiment_once(fake: Path, monkeypatch: pytest.MonkeyPatch,
                                                          capsys) -> None:
    import evaluation.experiments

    loads = []
    original = evaluation.experiments.load_experiment

    def counting(module: str, function: str):
        loads.append((module, function))
        return original(module, function)

    monkeypatch.setattr(evaluation.experiments, "load_experiment", counting)
    monkeypatch.setattr(run_experiment, "load_experiment", counting)
    code = run_experiment.main(["runner_fakes", "fake_experiment", "--sequences", "seq0", "seq1", "--analyze",
                                "--no-progress"])
    out = capsys.readouterr().out
    assert code == 0 and loads == [("runner_fakes", "fake_experiment")]
    assert "2 done" in out and "Fake" in out and "AUC" in out  # ran, then analysed the same two sequences
