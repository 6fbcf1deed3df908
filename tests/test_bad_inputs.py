"""Bad inputs, as a careless user gives them: every case ends in one clear error naming the file or
value (or the documented fallback), never a hang, never stale or changed results on disk.

Generated data only (tiny synthetic sequences, the fake tracker of ``runner_fakes``); cases that need
worker processes use few frames and short watchdog timeouts.
"""
from __future__ import annotations

import collections
import functools
import logging
import socket
import threading
import time
import warnings
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from evaluation import registry
from evaluation.analysis.evaluate import UnevaluableSequenceError, UnevaluableSequenceWarning, evaluate
from evaluation.boxes_io import read_boxes_txt
from evaluation.data import Sequence, SequenceList
from evaluation.datasets import folder_dataset, video_sequence
from evaluation.opencv_trackers import OpenCVTracker, opencv_parameters
from evaluation.peer_results import PublishedResults
from evaluation.run_tracker import main as run_tracker_main
from evaluation.running import check_scheduler_address, run_dataset
from evaluation.settings import Settings, SettingsError, load_settings
from evaluation.settings import main as settings_main
from evaluation.tracker import Tracker
from ltr.models.backbone.weights import load_state_dict_file
from runner_fakes import FAKE_PARAMETERS, install_fake_plugin, make_sequence


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return install_fake_plugin(tmp_path / "plugins", monkeypatch)


@pytest.fixture
def kept(fake: Path) -> Tracker:
    """A tracker with complete results for sequence ``kept`` already on disk."""
    tracker = Tracker("fake", "centroid")
    [result] = run_dataset([tracker], [make_sequence("kept", n_frames=4)], progress=False)
    assert result.status == "done"
    return tracker


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def unchanged(tracker: Tracker, before: dict[str, bytes]) -> bool:
    return snapshot(tracker.results_dir) == before


# --------------------------------------------------------------------------- 1: hangs


def test_mil_refuses_a_box_it_would_hang_on() -> None:
    tracker = OpenCVTracker(opencv_parameters("mil", Settings()))
    image = np.zeros((64, 64, 3), dtype=np.uint8)
    with pytest.raises(ValueError, match=r"MIL cannot start on a 4x4 px box.*\[10.0, 10.0, 4.0, 4.0\]"):
        tracker.initialize(image, {"init_bbox": [10, 10, 4, 4]})
    tracker.initialize(image, {"init_bbox": [10, 10, 4, 10]})  # one side of 5+ px works


@pytest.mark.parametrize("threads", [1, 2])
def test_watchdog_fails_a_hung_task_alone(kept: Tracker, threads: int) -> None:
    before = snapshot(kept.results_dir)
    dataset = SequenceList([make_sequence("hangs", n_frames=6, hang_at=3), make_sequence("fine", n_frames=4)])
    results = run_dataset([kept], dataset, threads=threads, progress=False, frame_timeout_s=2.0)
    # Without the watchdog the hung frame returns after runner_fakes.HANG_S and the pair ends "done".
    assert [r.status for r in results] == ["failed", "done"]
    assert "watchdog: no frame finished for 2 s (fake_centroid on hangs after frame 2 of 6)" in results[0].error
    assert not kept.result_file("hangs").exists() and kept.result_file("fine").exists()
    assert {k: v for k, v in snapshot(kept.results_dir).items() if k.startswith("kept")} == before


def test_a_dead_worker_fails_only_its_task(kept: Tracker) -> None:
    before = snapshot(kept.results_dir)
    dataset = SequenceList([make_sequence("a", n_frames=4), make_sequence("killed", n_frames=6, die_at=2),
                            make_sequence("b", n_frames=4), make_sequence("c", n_frames=4)])
    results = run_dataset([kept], dataset, threads=2, progress=False)
    assert [r.status for r in results] == ["done", "failed", "done", "done"]
    assert "worker process running fake_centroid on killed after frame 1 of 6 died by SIGKILL" in results[1].error
    assert {k: v for k, v in snapshot(kept.results_dir).items() if k.startswith("kept")} == before


# --------------------------------------------------------------------------- 2: stale results


def test_resume_recomputes_when_the_initial_box_frames_or_parameters_change(
        kept: Tracker, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    sequence = make_sequence("kept", n_frames=4)
    assert run_dataset([kept], [sequence], progress=False)[0].status == "skipped"

    moved = make_sequence("kept", n_frames=4)
    moved.ground_truth_rect[0] = [11, 12, 16, 16]  # the first ground-truth box was edited
    caplog.set_level(logging.INFO, logger="evaluation.running")
    assert run_dataset([kept], [moved], progress=False)[0].status == "done"
    assert "init_bbox_xywh changed" in caplog.text
    assert read_boxes_txt(kept.result_file("kept"))[0].tolist() == [11, 12, 16, 16]

    monkeypatch.setitem(FAKE_PARAMETERS, "centroid", 1.0)
    changed = Tracker("fake", "centroid")
    assert run_dataset([changed], [moved], progress=False)[0].status == "done"
    assert "parameters.offset changed (recorded 0.0, now 1.0)" in caplog.text
    assert run_dataset([changed], [moved], progress=False)[0].status == "skipped"


def test_results_without_a_run_record_are_kept_only_with_the_same_initial_box(kept: Tracker) -> None:
    sequence = make_sequence("kept", n_frames=4)
    kept.run_record_file(sequence).unlink()  # results written before run records existed
    assert kept.stale_reason(sequence) is None
    before = snapshot(kept.results_dir)
    assert run_dataset([kept], [sequence], progress=False)[0].status == "skipped"
    assert unchanged(kept, before)
    moved = make_sequence("kept", n_frames=4)
    moved.ground_truth_rect[0, 0] += 1
    assert "is not the initial box" in kept.stale_reason(moved)


def _write_video(path: Path, n_frames: int = 5) -> None:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (64, 48))
    for i in range(n_frames):
        frame = np.full((48, 64, 3), 40, dtype=np.uint8)
        frame[10 + i:26 + i, 10 + 2 * i:26 + 2 * i] = 250
        writer.write(frame)
    writer.release()


def test_video_with_another_initial_box_is_recomputed(fake: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture) -> None:
    clip = tmp_path / "clip.avi"
    _write_video(clip)
    tracker = Tracker("fake", "centroid")
    common = ["fake", "centroid", "--video", str(clip), "--no-progress", "--frame-timeout", "0"]
    assert run_tracker_main([*common, "--init-box", "10,10,16,16"]) == 0
    assert run_tracker_main([*common, "--init-box", "-5,0,20,20"]) == 0  # negative x: a value, not a flag
    assert "1 done" in capsys.readouterr().out
    assert read_boxes_txt(tracker.result_file("clip"))[0].tolist() == [-5, 0, 20, 20]


# --------------------------------------------------------------------------- 3: scheduler addresses


def _serve(reply: bytes | None) -> tuple[socket.socket, int]:
    """A TCP service on a free port that answers ``reply`` to every connection (``None``: stays silent)."""
    server = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []

    def loop() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            held.append(conn)
            if reply is not None:
                conn.sendall(reply)

    threading.Thread(target=loop, daemon=True).start()
    return server, server.getsockname()[1]


def test_scheduler_addresses_that_are_not_dask_fail_fast(kept: Tracker) -> None:
    before = snapshot(kept.results_dir)
    # A bound socket that never listens holds its port (no other process can take it) and refuses
    # connections, so "nothing listens there" is exact, without a free-port race.
    refusing = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    refusing.bind(("127.0.0.1", 0))
    port = refusing.getsockname()[1]
    with pytest.raises(ConnectionError, match=rf"127.0.0.1:{port}: cannot connect .*is the scheduler running"):
        check_scheduler_address(f"tcp://127.0.0.1:{port}", timeout_s=1.0)
    silent, silent_port = _serve(None)
    with pytest.raises(ConnectionError, match="no Dask scheduler answer within 1 s"):
        check_scheduler_address(f"127.0.0.1:{silent_port}", timeout_s=1.0)
    chatty, chatty_port = _serve(b"HTTP/1.1 400 Bad Request\r\n\r\n")
    with pytest.raises(ConnectionError, match="not a Dask scheduler"):
        run_dataset([kept], [make_sequence("new", n_frames=3)], scheduler=f"tcp://127.0.0.1:{chatty_port}",
                    progress=False)
    refusing.close()
    silent.close()
    chatty.close()
    assert unchanged(kept, before) and not kept.result_file("new").exists()


# --------------------------------------------------------------------------- 4: no ground truth to score


class _Exact:
    """A results source that predicts the ground truth (NaN rows stay NaN)."""

    name = display_name = "exact"

    def results_for(self, sequence: Sequence) -> np.ndarray:
        return np.nan_to_num(sequence.ground_truth_rect, nan=1.0)


def test_sequences_annotated_only_in_frame_0_are_excluded() -> None:
    scored = make_sequence("scored", n_frames=5)
    first_only = make_sequence("first_only", n_frames=5)
    first_only.ground_truth_rect[1:] = np.nan
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        evaluation, _ = evaluate([_Exact()], [scored, first_only])
    assert evaluation.sequences.names() == ["scored"]
    assert any(issubclass(w.category, UnevaluableSequenceWarning) and "first_only" in str(w.message)
               for w in caught)
    with pytest.raises(UnevaluableSequenceError, match="first_only"):
        evaluate([_Exact()], [scored, first_only], strict=True)
    with pytest.raises(UnevaluableSequenceError, match="nothing to evaluate"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        evaluate([_Exact()], [first_only])


# --------------------------------------------------------------------------- 6: errors name the file


def test_bad_weight_files_are_named(tmp_path: Path) -> None:
    empty = tmp_path / "empty.pth"
    empty.write_bytes(b"")
    good = tmp_path / "good.pth"
    torch.save({"w": torch.ones(3)}, good)
    truncated = tmp_path / "truncated.pth"
    truncated.write_bytes(good.read_bytes()[:200])
    counter = tmp_path / "counter.pth"
    torch.save(collections.Counter(a=1), counter)
    nan = tmp_path / "nan.pth"
    torch.save({"w": torch.tensor([1.0, float("nan")])}, nan)
    for path, what in [(empty, "cannot read weights"), (truncated, "cannot read weights"),
                       (counter, "does not hold a plain state dict"), (nan, "'w' holds NaN")]:
        with pytest.raises(ValueError) as info:
            load_state_dict_file(path)
        message = str(info.value)
        assert str(path) in message and what in message and "\n" not in message


def test_bad_settings_files_are_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture) -> None:
    latin1 = tmp_path / "latin1.toml"
    latin1.write_bytes('results_path = "/r/caf\xe9"\n'.encode("latin-1"))
    folder = tmp_path / "folder.toml"
    folder.mkdir()
    for path, what in [(latin1, "not UTF-8"), (folder, "is not a file")]:
        with pytest.raises(SettingsError, match=what) as info:
            load_settings(path, environ={})
        assert str(path) in str(info.value)
        monkeypatch.setenv("SIAMOT_SETTINGS", str(path))
        assert settings_main(["show"]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and str(path) in err and "Traceback" not in err


def test_bad_result_and_published_files_are_named(kept: Tracker, tmp_path: Path) -> None:
    sequence = make_sequence("kept", n_frames=4)
    kept.time_file(sequence).write_bytes(b"0.1\n0.2\n\xff\xfe\n0.1\n")
    with pytest.raises(ValueError, match=rf"{kept.time_file(sequence)}:3: not UTF-8"):
        kept.times_for(sequence)
    published = tmp_path / "published"
    published.mkdir()
    (published / "kept.txt").write_text("11,13,16,16\n" * 4)  # 1-based OTB-toolkit rows
    (published / "_meta.json").write_text('{"kept": {"startFrame": "first"}}')
    with pytest.raises(ValueError, match=r"_meta.json: 'kept': startFrame must be a 1-based integer.*'first'"):
        PublishedResults("paper", published).results_for(sequence)
    (published / "_meta.json").write_bytes(b'{"kept": {"startFrame": 1, "note": "\xe9"}}')
    with pytest.raises(ValueError, match=r"_meta.json:1: not UTF-8"):
        PublishedResults("paper", published)


# --------------------------------------------------------------------------- 7: silently accepted before


def _frames_folder(root: Path, sizes: list[tuple[int, int]], suffix: str = ".png") -> Path:
    folder = root / "seq"
    (folder / "img").mkdir(parents=True)
    for i, (w, h) in enumerate(sizes):
        image = np.full((h, w, 3), 60, np.uint8)
        image[4:14, 4:14] = 255  # the target the fake tracker follows
        cv2.imwrite(str(folder / "img" / f"{i + 1:04d}{suffix}"), image)
    (folder / "groundtruth_rect.txt").write_text("5,5,10,10\n")
    return folder


def test_frames_of_another_size_fail_the_sequence(kept: Tracker, tmp_path: Path) -> None:
    before = snapshot(kept.results_dir)
    dataset = folder_dataset(_frames_folder(tmp_path, [(40, 30), (40, 30), (50, 30)]))
    [result] = run_dataset([kept], dataset, progress=False)
    assert result.status == "failed"
    assert "frame 2 (" in result.error and "0003.png) is 50x30 but frame 0 is 40x30" in result.error
    assert unchanged(kept, before)


def test_a_truncated_jpeg_fails_the_sequence(kept: Tracker, tmp_path: Path) -> None:
    before = snapshot(kept.results_dir)
    folder = _frames_folder(tmp_path, [(40, 30)] * 3, suffix=".jpg")
    last = folder / "img" / "0003.jpg"
    last.write_bytes(last.read_bytes()[:-40])
    [result] = run_dataset([kept], folder_dataset(folder), progress=False)
    assert result.status == "failed" and f"truncated JPEG frame (no end-of-image marker): {last}" in result.error
    assert unchanged(kept, before)


def test_a_still_image_is_not_a_video(tmp_path: Path) -> None:
    image = tmp_path / "photo.jpg"
    cv2.imwrite(str(image), np.zeros((20, 20, 3), np.uint8))
    renamed = tmp_path / "photo.mp4"
    renamed.write_bytes(image.read_bytes())
    for path in (image, renamed):
        with pytest.raises(ValueError, match=rf"{path} is an image, not a video"):
            video_sequence(path, [1, 1, 5, 5])


def test_an_empty_results_path_is_not_the_working_directory(monkeypatch: pytest.MonkeyPatch, fake: Path) -> None:
    monkeypatch.setenv("SIAMOT_RESULTS_PATH", "")
    with pytest.raises(SettingsError, match="setting 'results_path' is empty because SIAMOT_RESULTS_PATH is set to "
                                            "an empty value"):
        Tracker("fake", "centroid")


def _params_with(**overrides):
    """The ``mobilenet_v2`` parameter file's parameters with ``overrides``."""
    from pytracking_siamot.parameters import TrackerParams
    from pytracking_siamot.variants import settings

    return TrackerParams(settings("mobilenet_v2", **overrides))


def test_network_path_resolves_relative_weight_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import parameter.siamot.mobilenet_v2 as module

    monkeypatch.setattr(module, "parameters", lambda: _params_with(weights_path="mine.pth"))
    params = registry.make_parameters("siamot", "mobilenet_v2", Settings(network_path=str(tmp_path)))
    assert params.weights_path == str(tmp_path / "mine.pth")
    assert registry.make_parameters("siamot", "mobilenet_v2", Settings()).weights_path == "mine.pth"
    # An override (--set, Tracker(overrides=...)) is resolved the same way, as documented.
    overridden = registry.make_parameters("siamot", "mobilenet_v2", Settings(network_path=str(tmp_path)),
                                          overrides={"weights_path": "other.pth"})
    assert overridden.weights_path == str(tmp_path / "other.pth")


def test_a_folder_given_as_a_video_names_the_folder_option(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=rf"{tmp_path} is a folder, not a video file: .*--dataset folder:{tmp_path}"):
        video_sequence(tmp_path, [1, 1, 5, 5])


# --------------------------------------------------------------------------- 8: found before any tracking


def test_a_file_where_the_results_folder_should_be_stops_the_run_first(fake: Path, monkeypatch) -> None:
    import runner_fakes

    tracker = Tracker("fake", "centroid")
    tracker.results_dir.parent.mkdir(parents=True)
    tracker.results_dir.write_text("not a folder")
    monkeypatch.setattr(runner_fakes.FakeTracker, "track", lambda *a, **k: pytest.fail("tracked"))
    with pytest.raises(NotADirectoryError, match=rf"{tracker.results_dir} cannot be created: .* is a file"):
        run_dataset([tracker], [make_sequence("new", n_frames=3)], progress=False)
    assert tracker.results_dir.read_text() == "not a folder"


def test_an_unwritable_results_folder_stops_the_run_first(kept: Tracker, monkeypatch: pytest.MonkeyPatch) -> None:
    import tempfile

    before = snapshot(kept.results_dir)

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)  # root ignores chmod: refuse the probe file instead
    with pytest.raises(PermissionError, match=rf"results folder {kept.results_dir} is not writable"):
        run_dataset([kept], [make_sequence("new", n_frames=3)], progress=False)
    assert unchanged(kept, before)


def test_broken_weights_stop_the_run_in_the_preflight(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import parameter.siamot.mobilenet_v2 as module

    weights = tmp_path / "half.pth"
    weights.write_bytes(b"PK\x03\x04 truncated")
    monkeypatch.setattr(module, "parameters", lambda: _params_with(weights_path=str(weights), device="cpu"))
    tracker = Tracker("siamot", "mobilenet_v2")
    with pytest.raises(ValueError, match=rf"{weights}: cannot read weights"):
        run_dataset([tracker], [make_sequence("a", n_frames=3), make_sequence("b", n_frames=3)], progress=False)
    assert not tracker.results_dir.exists() or not any(tracker.results_dir.iterdir())


def test_settings_file_named_by_the_environment_must_exist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture) -> None:
    missing = tmp_path / "nowhere" / "settings.toml"
    loop = tmp_path / "loop.toml"
    loop.symlink_to(loop)
    for path, what in [(missing, "not found"), (loop, "broken or looping symlink")]:
        monkeypatch.setenv("SIAMOT_SETTINGS", str(path))
        with pytest.raises(SettingsError, match=what) as info:
            load_settings()
        assert str(path) in str(info.value) and "evaluation.settings init" in str(info.value)
        assert settings_main(["show"]) == 2
        assert "SIAMOT_SETTINGS names" in capsys.readouterr().err
    monkeypatch.setenv("SIAMOT_SETTINGS", str(missing))
    assert settings_main(["init", "--no-detect"]) == 0 and missing.is_file()  # init still creates it
    assert load_settings().results_path


def test_settings_values_with_a_bom_or_stray_spaces(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bom = tmp_path / "bom.toml"
    bom.write_bytes('\ufeffotb_path = " /data/otb "\n'.encode("utf-8"))
    assert load_settings(bom, environ={}).otb_path == "/data/otb"
    settings = load_settings(bom, environ={"SIAMOT_RESULTS_PATH": "  /tmp/results \n"})
    assert settings.path("results_path") == Path("/tmp/results")
    monkeypatch.setenv("SIAMOT_PLOTS_PATH", "   ")
    with pytest.raises(SettingsError, match="SIAMOT_PLOTS_PATH is set to an empty value in the environment"):
        load_settings(bom).path("plots_path")


def test_scheduler_addresses_dask_cannot_use_are_one_line(kept: Tracker) -> None:
    pytest.importorskip("dask.distributed")
    with pytest.raises(ValueError, match=r"port 70000 is out of range \(1-65535\)"):
        check_scheduler_address("tcp://127.0.0.1:70000")
    with pytest.raises(ConnectionError, match=r"^--scheduler tls://127.0.0.1:1: Dask could not connect \(TypeError: "):
        run_dataset([kept], [make_sequence("tls", n_frames=3)], scheduler="tls://127.0.0.1:1", progress=False)


# --------------------------------------------------------------------------- 9: runner and command-line gaps


@pytest.mark.parametrize("value", ["nan", "inf", "-1"])
def test_a_frame_timeout_that_is_no_finite_number_is_refused(value: str, capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as info:
        run_tracker_main(["fake", "centroid", "--frame-timeout", value])
    err = capsys.readouterr().err
    assert info.value.code == 2 and "--frame-timeout must be a finite number of seconds >= 0" in err
    assert err.strip().splitlines()[-1].endswith(f"got {float(value):g}")


def test_run_dataset_refuses_a_watchdog_that_never_fires(kept: Tracker) -> None:
    for value in (float("inf"), float("nan"), 0.0):
        with pytest.raises(ValueError, match="frame_timeout_s must be a finite number > 0"):
            run_dataset([kept], [make_sequence("kept", n_frames=4)], frame_timeout_s=value, progress=False)


@pytest.mark.parametrize("extra", [["--dataset", "otb2013"], ["--sequence", "0"]])
def test_video_with_a_dataset_or_sequence_is_refused(extra: list[str], tmp_path: Path,
                                                     capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as info:
        run_tracker_main(["fake", "centroid", "--video", str(tmp_path / "clip.avi"), "--init-box", "1,2,3,4", *extra])
    err = capsys.readouterr().err.strip().splitlines()
    assert info.value.code == 2 and "--video tracks the video file alone: drop --dataset/--sequence" in err[-1]


@pytest.mark.parametrize("box, named", [("nan,0,10,10", "x is 'nan'"), ("0,0,inf,10", "w is 'inf'"),
                                        ("0,0,10,-nan", "h is '-nan'")])
def test_a_non_finite_initial_box_names_the_value(box: str, named: str, capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as info:
        run_tracker_main(["fake", "centroid", "--video", "clip.avi", f"--init-box={box}"])
    err = capsys.readouterr().err
    assert info.value.code == 2 and f"--init-box '{box}': {named}, not a finite number" in err
    assert "array(" not in err and "w, h > 0" not in err


def test_a_truncated_time_file_gives_no_fps_and_is_recomputed(kept: Tracker) -> None:
    sequence = make_sequence("kept", n_frames=4)
    time_file = kept.time_file(sequence)
    time_file.write_text("0.010000\n0.010000\n0.010000\n")
    with pytest.warns(UserWarning, match=rf"{time_file}: 3 time rows for 4 frames: no FPS"):
        assert kept.times_for(sequence) is None
    assert kept.stale_reason(sequence) == "kept_time.txt has 3 rows for 4 frames"
    assert run_dataset([kept], [sequence], progress=False)[0].status == "done"
    assert len(kept.times_for(sequence)) == 4 and kept.stale_reason(sequence) is None


def test_a_non_numeric_state_cell_names_file_and_line(kept: Tracker) -> None:
    sequence = make_sequence("kept", n_frames=4)
    state = kept.state_file(sequence)
    lines = state.read_text().splitlines()
    header = lines[0].split(",")
    cells = lines[2].split(",")
    cells[header.index("peak")] = "high"
    state.write_text("\n".join([*lines[:2], ",".join(cells), *lines[3:]]) + "\n")
    with pytest.raises(ValueError, match=rf"^{state}:3: column 'peak': 'high' is not a number$"):
        kept.state_for(sequence)
    state.write_text("\n".join([*lines[:3], "3,1.0"]) + "\n")
    with pytest.raises(ValueError, match=rf"^{state}:4: 2 cells for the {len(header)} columns frame,"):
        kept.state_for(sequence)


def test_the_no_worker_clock_expires_only_after_a_whole_wait_without_workers() -> None:
    from evaluation.running.cluster import NoWorkerClock

    clock = NoWorkerClock(5.0)
    assert not clock.expired(1, 0.0)
    assert not clock.expired(0, 100.0) and not clock.expired(0, 104.0)  # the wait starts at 100
    assert not clock.expired(2, 104.5)  # a worker came back: the wait restarts
    assert not clock.expired(0, 105.0) and not clock.expired(0, 109.9)
    assert clock.expired(0, 110.0)


class _ClosesItsDaskWorker:
    """A frame loader that closes the (in-process) Dask worker running it at frame ``at``, as if the
    only worker of a cluster were killed mid-run."""

    def __init__(self, n_frames: int, at: int) -> None:
        self.frames, self.at = make_sequence("a", n_frames=n_frames).frame_loader, at

    def __call__(self, index: int) -> np.ndarray:
        if index == self.at:
            from dask.distributed import get_worker

            worker = get_worker()
            worker.loop.add_callback(functools.partial(worker.close, executor_wait=False))
            for _ in range(6000):  # the task goes on only once its worker is gone (at most 60 s)
                if worker.status.name == "closed":
                    break
                time.sleep(0.01)
        return self.frames(index)


def test_dask_fails_the_pairs_left_when_its_only_worker_dies_instead_of_waiting_forever(kept: Tracker) -> None:
    distributed = pytest.importorskip("dask.distributed")
    before = snapshot(kept.results_dir)
    killer = make_sequence("a", n_frames=6)
    killer.frame_loader = _ClosesItsDaskWorker(6, at=2)
    dataset = SequenceList([killer, make_sequence("b", n_frames=3)])
    with distributed.LocalCluster(n_workers=1, processes=False, threads_per_worker=1,
                                  dashboard_address=None) as cluster:
        results = run_dataset([kept], dataset, scheduler=cluster.scheduler_address, progress=False,
                              no_worker_timeout_s=1.0)
    assert [r.status for r in results] == ["failed", "failed"]
    assert all(f"dask: no worker connected to the scheduler {cluster.scheduler_address} for 1 s, so this pair "
               f"did not finish" in r.error for r in results)
    # An in-process worker's thread may still finish "a" after its worker is gone; "b" never ran.
    assert {k: v for k, v in snapshot(kept.results_dir).items() if k.startswith("kept")} == before
    assert not kept.result_file("b").exists()


def test_replaced_frames_and_hand_edited_boxes_are_recomputed(kept: Tracker, tmp_path: Path) -> None:
    import json

    folder = _frames_folder(tmp_path, [(40, 30)] * 3)
    [sequence] = folder_dataset(folder)
    assert run_dataset([kept], [sequence], progress=False)[0].status == "done"
    assert run_dataset([kept], [sequence], progress=False)[0].status == "skipped"
    record = json.loads(kept.run_record_file(sequence).read_text())
    assert record["frames_fingerprint"].startswith("sha256:")
    assert record["results_sha256"].startswith("sha256:")

    last = folder / "img" / "0003.png"
    image = cv2.imread(str(last))
    image[20:28, 30:38] = 255  # another picture under the same name, as many frames as before
    cv2.imwrite(str(last), image)
    assert kept.stale_reason(sequence).startswith("frames_fingerprint changed")
    assert run_dataset([kept], [sequence], progress=False)[0].status == "done"

    boxes = kept.result_file(sequence)
    written = boxes.read_bytes()
    rows = boxes.read_text().splitlines()
    boxes.write_text("\n".join([*rows[:-1], "1.00\t1.00\t1.00\t1.00"]) + "\n")  # a box edited by hand
    assert "seq.txt was changed after it was written" in kept.stale_reason(sequence)
    assert run_dataset([kept], [sequence], progress=False)[0].status == "done"
    assert boxes.read_bytes() == written

    del record["frames_fingerprint"]  # a record written before fingerprints existed stays valid
    record["results_sha256"] = json.loads(kept.run_record_file(sequence).read_text())["results_sha256"]
    kept.run_record_file(sequence).write_text(json.dumps(record))
    assert kept.stale_reason(sequence) is None


def test_a_jpeg_corrupt_inside_is_named_not_decoded_to_garbage(tmp_path: Path) -> None:
    from evaluation.data import read_image_rgb

    rng = np.random.default_rng(0)
    image = (rng.random((120, 160, 3)) * 255).astype(np.uint8)
    good = tmp_path / "0001.jpg"
    cv2.imwrite(str(good), image)
    assert read_image_rgb(good).shape == (120, 160, 3)
    data = bytearray(good.read_bytes())
    middle = len(data) // 2
    data[middle:middle + 50] = b"\xff\x00" * 25  # damaged entropy-coded data; the end marker is intact
    bad = tmp_path / "0002.jpg"
    bad.write_bytes(bytes(data))
    assert cv2.imread(str(bad)) is not None  # what OpenCV alone does: garbage and a bare warning
    with pytest.raises(ValueError, match=rf"corrupt JPEG frame \(Corrupt JPEG data: .*\): {bad}"):
        read_image_rgb(bad)
    assert read_image_rgb(good).shape == (120, 160, 3)  # stderr is back in place


def test_jpeg_frames_decoded_by_several_threads_leave_stderr_in_place(tmp_path: Path) -> None:
    import os

    from evaluation.data import read_image_rgb

    frames = []
    for i in range(8):
        path = tmp_path / f"{i:04d}.jpg"
        cv2.imwrite(str(path), np.full((60, 80, 3), 30 * i, np.uint8))
        frames.append(path)
    before = os.fstat(2)
    shapes: list[tuple[int, ...]] = []

    def decode() -> None:
        shapes.extend(read_image_rgb(p).shape for p in frames * 25)

    # Daemon threads with a bounded join: swaps of fd 2 that race would leave a pipe open and hang a
    # decode; that must fail this test, not hang the suite (4 x 200 tiny decodes take well under 1 s).
    threads = [threading.Thread(target=decode, daemon=True) for _ in range(4)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 60
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
    assert not any(t.is_alive() for t in threads), "a JPEG decode hung while another thread swapped stderr"
    after = os.fstat(2)
    assert shapes == [(60, 80, 3)] * 800
    assert (after.st_dev, after.st_ino) == (before.st_dev, before.st_ino)  # fd 2 is what it was
