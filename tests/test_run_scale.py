"""Long runs: progress with an ETA in frames over the whole run, resume counted, tracker objects built
once per worker, Dask workers lost mid-run, and the dataset doctor's checks before a run."""
from __future__ import annotations

import io
import logging
import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from evaluation.data import SequenceList
from evaluation.datasets import folder_dataset
from evaluation.running import run_dataset, run_sequence
from evaluation.running.cluster import WorkerWatch
from evaluation.running.progress import RunProgress, format_duration
from evaluation.running.sequence import TrackerCache, reusable
from evaluation.tracker import Tracker
from runner_fakes import FakeTracker, TrackerSpec, _make_parameters, install_fake_plugin, make_sequence

BUILD_LOG = "SIAMOT_TEST_BUILD_LOG"


class ReusableFake(FakeTracker):
    """A :class:`FakeTracker` that declares one object may run many sequences and notes each build in
    the file named by ``$SIAMOT_TEST_BUILD_LOG`` (visible from worker processes too)."""

    reusable_across_sequences = True

    def __init__(self, params) -> None:
        super().__init__(params)
        path = os.environ.get(BUILD_LOG)
        if path:
            with open(path, "a") as log:
                log.write(f"{os.getpid()}\n")


def reusable_spec() -> TrackerSpec:
    return TrackerSpec(parameter_names=lambda: ["centroid", "shifted"], make_parameters=_make_parameters,
                       tracker_class=lambda: ReusableFake, description="test fake, reusable")


@pytest.fixture
def fakes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    install_fake_plugin(tmp_path / "plugins", monkeypatch)
    install_fake_plugin(tmp_path / "plugins2", monkeypatch, tracker_name="reusable",
                        target="test_run_scale:reusable_spec", dist="siamot_reusable_fake")
    log = tmp_path / "builds.txt"
    monkeypatch.setenv(BUILD_LOG, str(log))
    return log


def _builds(log: Path) -> list[str]:
    return log.read_text().split() if log.exists() else []


def _dataset(n: int, n_frames: int = 6) -> SequenceList:
    return SequenceList(make_sequence(f"seq{i}", n_frames=n_frames + i, seed=i) for i in range(n))


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())
            if p.is_file() and not p.name.endswith(("_time.txt", ".json"))}


# --------------------------------------------------------------------------- progress and ETA

class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_eta_counts_frames_left_at_the_rate_so_far_and_names_what_was_already_done() -> None:
    clock, out = FakeClock(), io.StringIO()
    meter = RunProgress({0: 100, 1: 300, 2: 600}, skipped=2, skipped_frames=50, stream=out, tty=False, clock=clock)
    assert out.getvalue().splitlines() == [
        "2 of 5 (tracker, sequence) pairs (50 frames) already have complete results and are skipped; "
        "3 pairs to run, 1000 frames"]
    assert np.isnan(meter.eta_s())
    clock.now += 10
    meter.frame(1, 49)  # 50 frames of pair 1 in flight: 50 of 1000 in 10 s
    assert meter.eta_s() == pytest.approx(950 * 10 / 50)
    clock.now += 10
    meter.pair_done(0, "A on s0", "done")  # 100 + 50 frames in 20 s: 850 left at 7.5 frames/s
    assert meter.eta_s() == pytest.approx(850 * 20 / 150)
    assert out.getvalue().splitlines()[-1] == "[1/3 pairs, 150/1000 frames, 15%, elapsed 0:20, ETA 1:53] A on s0: done"
    meter.pair_done(1, "A on s1", "failed (OSError)")  # a failed pair's frames are not left to do either
    meter.pair_done(1, "A on s1", "done")  # said once
    assert meter.frames_done == 400 and len(out.getvalue().splitlines()) == 3
    meter.pair_done(2, "A on s2", "done")
    assert meter.eta_s() == 0.0 and out.getvalue().splitlines()[-1].startswith("[3/3 pairs, 1000/1000 frames, 100%")
    meter.close()
    assert format_duration(3725) == "1:02:05" and format_duration(65) == "1:05" and format_duration(np.nan) == "?"


def test_a_disabled_meter_prints_nothing() -> None:
    out = io.StringIO()
    meter = RunProgress({0: 5}, stream=out, enabled=False)
    meter.frame(0, 2)
    meter.pair_done(0, "A on s0", "done")
    assert out.getvalue() == "" and meter.frames_done == 5


def test_a_run_off_a_terminal_prints_a_line_per_pair_and_resume_counts_only_the_rest(fakes: Path, capsys) -> None:
    tracker = Tracker("fake", "centroid")
    dataset = _dataset(3)  # 6, 7 and 8 frames
    run_dataset([tracker], dataset)
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "3 pairs to run, 21 frames"
    assert [line.split("] ")[1].split(",")[0] for line in lines[1:]] == [
        "fake_centroid on seq0: done", "fake_centroid on seq1: done", "fake_centroid on seq2: done"]
    assert lines[-1].startswith("[3/3 pairs, 21/21 frames, 100%") and "\r" not in "".join(lines)
    tracker.result_file(dataset[1]).unlink()  # as if the run had stopped before seq1 was saved
    run_dataset([tracker], dataset)
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == ("2 of 3 (tracker, sequence) pairs (14 frames) already have complete results and are "
                        "skipped; 1 pairs to run, 7 frames")
    assert len(lines) == 2 and lines[1].startswith("[1/1 pairs, 7/7 frames, 100%") and "on seq1: done" in lines[1]


def test_worker_processes_report_frames_to_the_meter(fakes: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[int, int]] = []
    original = RunProgress.frame
    monkeypatch.setattr(RunProgress, "frame", lambda self, task, index: (seen.append((task, index)),
                                                                         original(self, task, index)))
    run_dataset([Tracker("fake", "centroid")], _dataset(2), threads=2, progress=False)
    assert sorted(seen) == [(0, i) for i in range(6)] + [(1, i) for i in range(7)]


# --------------------------------------------------------------------------- one tracker object per worker

def test_a_reusable_tracker_is_built_once_per_run_serially_and_gives_the_same_files(fakes: Path) -> None:
    assert reusable(Tracker("siamot", "mobilenet_v2")) and reusable(Tracker("reusable", "centroid"))
    assert not reusable(Tracker("fake", "centroid"))
    dataset = _dataset(3)
    fresh, kept = Tracker("fake", "shifted"), Tracker("reusable", "shifted")
    run_dataset([fresh, kept], dataset, progress=False)
    assert len(_builds(fakes)) == 1  # built once by the preflight, then kept for the three sequences
    assert _files(fresh.results_dir) == _files(kept.results_dir) and len(_files(kept.results_dir)) == 6


def test_the_cache_keys_on_parameters_and_debug_and_drops_the_least_recent(fakes: Path) -> None:
    cache = TrackerCache(max_size=2)
    a, b = Tracker("reusable", "centroid"), Tracker("reusable", "shifted")
    with cache.borrow(a) as first:
        with cache.borrow(a) as second:  # busy objects are never shared
            assert second is not first
    with cache.borrow(a) as again:
        assert again in (first, second)
    with cache.borrow(a, debug=1) as debug_one:
        assert debug_one not in (first, second)
    with cache.borrow(b):
        pass
    assert cache.builds == 4 and sum(len(v) for v in cache._idle.values()) == 2
    with pytest.raises(RuntimeError), cache.borrow(b) as broken:
        raise RuntimeError("a sequence failed with this object")
    with cache.borrow(b) as other:  # an object whose sequence failed is not handed out again
        assert other is not broken
    with cache.borrow(Tracker("fake", "centroid")) as plain_one, cache.borrow(Tracker("fake", "centroid")) as plain_two:
        assert plain_one is not plain_two


def test_a_replaced_weights_file_makes_a_new_cache_key(fakes: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from evaluation import results

    weights = tmp_path / "weights.pth"
    weights.write_bytes(b"1")
    monkeypatch.setattr(results, "parameters_record", lambda params: {"weights_path": str(weights), "lr": 0.1})
    tracker = Tracker("reusable", "centroid")
    before = TrackerCache.key(tracker, 0)
    assert TrackerCache.key(tracker, 0) == before
    weights.write_bytes(b"22")  # replaced between two runs on a long-lived Dask worker
    assert TrackerCache.key(tracker, 0) != before


def test_pool_workers_build_a_reusable_tracker_once_each(fakes: Path) -> None:
    tracker = Tracker("reusable", "centroid")
    results = run_dataset([tracker], _dataset(5), threads=2, progress=False)
    assert [r.status for r in results] == ["done"] * 5
    builds = _builds(fakes)
    assert len(builds) == 1 + len(set(builds) - {str(os.getpid())}) <= 3  # preflight + one per worker process


def test_dask_workers_build_a_reusable_tracker_once_and_match_serial_files(fakes: Path, capsys) -> None:
    distributed = pytest.importorskip("dask.distributed")
    from evaluation.running.sequence import WORKER_CACHE

    dataset = _dataset(4)
    serial, on_dask = Tracker("reusable", "shifted", run_id=0), Tracker("reusable", "shifted", run_id=1)
    run_dataset([serial], dataset, progress=False)
    WORKER_CACHE.clear()
    before = len(_builds(fakes))
    with distributed.LocalCluster(n_workers=1, processes=False, threads_per_worker=1,
                                  dashboard_address=None) as cluster:
        results = run_dataset([on_dask], dataset, scheduler=cluster.scheduler_address)
    WORKER_CACHE.clear()
    assert [r.status for r in results] == ["done"] * 4
    progress = capsys.readouterr().err.splitlines()  # the whole run's progress, from Dask too
    assert progress[0] == "4 pairs to run, 30 frames" and len(progress) == 5
    assert progress[-1].startswith("[4/4 pairs, 30/30 frames, 100%")
    assert len(_builds(fakes)) - before == 1  # no preflight build on Dask; one in the worker for 4 pairs
    assert _files(serial.results_dir) == _files(on_dask.results_dir)


def test_siamot_reused_across_sequences_writes_the_boxes_of_a_fresh_object(tmp_path: Path) -> None:
    from evaluation.data import Sequence
    from evaluation.datasets import synthetic_dataset
    from evaluation.settings import Settings

    first, second = [Sequence(s.name, s.frames[:5], s.dataset, s.ground_truth_rect[:5], frame_loader=s.frame_loader)
                     for s in synthetic_dataset()[:2]]
    reused = Tracker("siamot", "mobilenet_v2", settings=Settings(results_path=str(tmp_path / "reused")))
    fresh = Tracker("siamot", "mobilenet_v2", settings=Settings(results_path=str(tmp_path / "fresh")))
    cache = TrackerCache()
    for sequence in (first, second):  # the second sequence on the object that tracked the first
        assert run_sequence(reused, sequence, cache=cache, torch_threads=1).status == "done"
    assert run_sequence(fresh, second, torch_threads=1).status == "done"
    assert cache.builds == 1
    assert reused.result_file(second).read_bytes() == fresh.result_file(second).read_bytes()
    assert reused.state_file(second).read_bytes() == fresh.state_file(second).read_bytes()


# --------------------------------------------------------------------------- Dask workers coming and going

def test_worker_watch_names_a_lost_workers_pairs_once_and_the_wait_without_workers_once() -> None:
    watch = WorkerWatch("tcp://s:1", 60.0, {"k1": "T on a", "k2": "T on b", "k3": "T on c"})
    assert watch.look({"tcp://w1": ["k1"], "tcp://w2": ["k2"]}) == []
    assert watch.look({"tcp://w2": ["k2", "k1"]}) == [
        "dask: worker tcp://w1 left the scheduler while running T on a; Dask runs it again on another worker"]
    assert watch.look({"tcp://w2": ["k2", "k1"]}) == []
    assert watch.look({}) == [
        "dask: worker tcp://w2 left the scheduler while running T on b, T on a; Dask runs them again on another worker",
        "dask: no worker connected to the scheduler tcp://s:1; waiting up to 60 s for one "
        "(start workers with: dask worker tcp://s:1)"]
    assert watch.look({}) == []
    assert watch.look({"tcp://w3": []}) == []
    assert watch.look({})[0].startswith("dask: worker tcp://w3 left the scheduler (it was running none")
    watch.look({"tcp://w4": ["k3"]})
    assert watch.look({}, final=True) == [  # the pair came back from elsewhere before the loss was seen
        "dask: worker tcp://w4 left the scheduler while running T on c; Dask runs it again on another worker"]


class _KillsItsWorkerOnce:
    """A frame loader whose first attempt (no marker file yet) ends its process at frame 2, after
    a pause long enough for the runner to see the worker running it."""

    def __init__(self, marker: str, n_frames: int) -> None:
        self.marker, self.frames = marker, make_sequence("doomed", n_frames=n_frames).frame_loader

    def __call__(self, index: int) -> np.ndarray:
        if index == 2 and not os.path.exists(self.marker):
            open(self.marker, "w").close()
            import time

            time.sleep(2.5)
            os._exit(1)
        return self.frames(index)


def test_a_task_of_a_lost_dask_worker_runs_again_elsewhere_and_the_loss_is_said_once(fakes: Path, tmp_path: Path,
                                                                                  caplog) -> None:
    distributed = pytest.importorskip("dask.distributed")
    doomed = make_sequence("doomed", n_frames=5)
    doomed.frame_loader = _KillsItsWorkerOnce(str(tmp_path / "killed_once"), 5)
    dataset = SequenceList([doomed, make_sequence("fine", n_frames=4)])
    tracker = Tracker("fake", "centroid")
    with caplog.at_level(logging.WARNING, logger="evaluation.running"), \
            distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                     dashboard_address=None) as cluster:
        results = run_dataset([tracker], dataset, scheduler=cluster.scheduler_address, progress=False,
                              no_worker_timeout_s=30.0)
    assert [r.status for r in results] == ["done", "done"]
    lost = [r.getMessage() for r in caplog.records if "left the scheduler" in r.getMessage()]
    assert len(lost) == 1 and "while running fake_centroid on doomed; Dask runs it again" in lost[0]
    np.testing.assert_allclose(tracker.results_for(doomed), doomed.ground_truth_rect)


# --------------------------------------------------------------------------- the doctor's checks before a run

def _folder_sequences(root: Path, n: int = 3, n_frames: int = 4) -> Path:
    for s in range(n):
        folder = root / f"clip{s}"
        (folder / "img").mkdir(parents=True)
        for i in range(n_frames):
            image = np.full((30, 40, 3), 60, np.uint8)
            image[4 + i:14 + i, 4:14] = 255
            cv2.imwrite(str(folder / "img" / f"{i + 1:04d}.png"), image)
        (folder / "groundtruth_rect.txt").write_text("".join(f"5,{5 + i},10,10\n" for i in range(n_frames)))
    return root


def test_the_run_names_each_bad_sequence_in_one_line_and_fails_only_those_that_cannot_run(
        fakes: Path, tmp_path: Path, caplog) -> None:
    root = _folder_sequences(tmp_path / "clips")
    (root / "clip2" / "groundtruth_rect.txt").write_text("5,5,10,10\n5,6,-10,10\n5,7,10,10\n5,8,10,10\n")
    dataset = folder_dataset(root)
    (root / "clip1" / "img" / "0003.png").unlink()  # a frame gone since listing: clip1 cannot be tracked through
    tracker = Tracker("fake", "centroid")
    with caplog.at_level(logging.WARNING, logger="evaluation.running"):
        results = run_dataset([tracker, Tracker("fake", "shifted")], dataset, progress=False)
    assert [(r.sequence, r.status) for r in results] == [
        ("clip0", "done"), ("clip0", "done"), ("clip1", "failed"), ("clip1", "failed"), ("clip2", "done"),
        ("clip2", "done")]
    checks = [r.getMessage() for r in caplog.records if r.getMessage().startswith("dataset check:")]
    assert checks == [
        f"dataset check: clip1: 1 of 4 frames missing (first: {root / 'clip1' / 'img' / '0003.png'}) "
        f"(its pairs fail without running)",
        "dataset check: clip2: 1 box(es) with a negative width or height (first: frame 2) (tracked anyway)"]
    assert results[2].error == f"dataset check: 1 of 4 frames missing (first: {root / 'clip1' / 'img' / '0003.png'})"
    assert not tracker.result_file("clip1").exists()


def test_a_dask_run_without_workers_says_so_at_once_and_stops_after_the_timeout(fakes: Path, caplog) -> None:
    distributed = pytest.importorskip("dask.distributed")
    tracker = Tracker("fake", "centroid")
    with caplog.at_level(logging.WARNING, logger="evaluation.running"), \
            distributed.LocalCluster(n_workers=0, processes=False, dashboard_address=None) as cluster:
        results = run_dataset([tracker], _dataset(2), scheduler=cluster.scheduler_address, progress=False,
                              no_worker_timeout_s=1.0)
    assert [r.status for r in results] == ["failed", "failed"]
    said = [r.getMessage() for r in caplog.records if r.getMessage().startswith("dask: no worker connected")]
    assert said == [f"dask: no worker connected to the scheduler {cluster.scheduler_address}; waiting up to 1 s "
                    f"for one (start workers with: dask worker {cluster.scheduler_address})"]
    assert "so this pair did not finish" in results[0].error and not tracker.result_file("seq0").exists()
