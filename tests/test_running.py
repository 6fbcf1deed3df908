"""run_sequence / run_dataset: result files, resume, failure isolation, process pool and Dask."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from evaluation.boxes_io import read_values_txt
from evaluation.data import SequenceList
from evaluation.running import failures, run_dataset, run_sequence, summary_line
from evaluation.tracker import Tracker
from runner_fakes import install_fake_plugin, make_sequence


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return install_fake_plugin(tmp_path / "plugins", monkeypatch)


def _dataset(n: int = 3, n_frames: int = 8) -> SequenceList:
    return SequenceList(make_sequence(f"seq{i}", n_frames=n_frames, seed=i) for i in range(n))


def _files(folder: Path) -> dict[str, bytes]:
    """Result files except timings (which differ run to run)."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and not p.name.endswith("_time.txt")}


class Recorder:
    """An observer that records what it sees and can stop the sequence at a frame."""

    def __init__(self, stop_at: int | None = None) -> None:
        self.stop_at, self.calls = stop_at, []

    def start(self, sequence, tracker_display_name: str) -> None:
        self.calls.append(("start", sequence.name, tracker_display_name))

    def frame(self, index: int, image_rgb: np.ndarray, output: dict, gt_xywh) -> bool:
        self.calls.append(("frame", index, tuple(output["target_bbox"]), gt_xywh is not None))
        return index != self.stop_at

    def finish(self) -> None:
        self.calls.append(("finish",))


def test_run_sequence_writes_boxes_times_and_state(fake: Path) -> None:
    tracker = Tracker("fake", "centroid")
    sequence = make_sequence(n_frames=8)
    result = run_sequence(tracker, sequence)
    assert result.status == "done" and result.frames == 8
    text = tracker.result_file(sequence).read_text()
    assert text.splitlines()[0] == "10.00\t12.00\t16.00\t16.00"  # frame 0 = the initial box
    np.testing.assert_allclose(tracker.results_for(sequence), sequence.ground_truth_rect)
    times = read_values_txt(tracker.time_file(sequence))
    assert times.shape == (8,) and np.all(times >= 0)
    state = tracker.state_for(sequence)
    assert list(state) == ["frame", "peak", "psr", "jcpp", "loss", "trained", "template_updated"]
    np.testing.assert_array_equal(state["frame"], np.arange(8))
    assert state["peak"][0] == 1.0 and np.isnan(state["psr"][0])  # only what initialize reported
    np.testing.assert_array_equal(state["trained"][1:], [0, 1, 0, 1, 0, 1, 0])
    assert np.all(np.isnan(state["loss"][1:]))
    assert not list(tracker.results_dir.glob(".*.tmp"))  # atomic writes leave no temporaries


def test_resume_skips_complete_results_and_reruns_incomplete(fake: Path) -> None:
    tracker = Tracker("fake", "centroid")
    sequence = make_sequence(n_frames=5)
    assert run_sequence(tracker, sequence).status == "done"
    stamp = tracker.result_file(sequence).stat().st_mtime_ns
    assert run_sequence(tracker, sequence).status == "skipped"
    assert tracker.result_file(sequence).stat().st_mtime_ns == stamp
    assert run_sequence(tracker, sequence, overwrite=True).status == "done"
    tracker.result_file(sequence).write_text("1\t2\t3\t4\n")  # truncated by hand: not complete
    assert run_sequence(tracker, sequence).status == "done"
    assert len(tracker.results_for(sequence)) == 5


def test_run_records_name_the_code_and_results_from_other_code_are_reused_with_a_warning(fake: Path,
                                                                                       caplog) -> None:
    import json
    import logging

    from evaluation import results
    from evaluation.machine import cpu_name, cpu_threads

    tracker = Tracker("fake", "centroid")
    dataset = _dataset(3)
    run_dataset([tracker], dataset, progress=False)
    current = results.code_version()
    assert current == "unknown" or current.startswith("git:")
    for sequence in dataset:
        path = tracker.run_record_file(sequence)
        record = json.loads(path.read_text())
        assert record["code"] == current
        assert record["machine"] == {"cpu": cpu_name(), "cpu_threads": cpu_threads()}
        other = {"cpu": "another CPU", "cpu_threads": 64}  # made by other code on another machine
        path.write_text(json.dumps({**record, "code": "git:0123456789ab", "machine": other}))
    with caplog.at_level(logging.WARNING, logger="evaluation.running"):
        again = run_dataset([tracker], dataset, progress=False)
    assert {r.status for r in again} == {"skipped"}  # the code is not compared: results are reused ...
    warnings = [r.getMessage() for r in caplog.records if "other code" in r.getMessage()]
    assert len(warnings) == 1 and "git:0123456789ab" in warnings[0] and "--overwrite" in warnings[0]  # ... once said
    assert {r.status for r in run_dataset([tracker], dataset, progress=False, overwrite=True)} == {"done"}
    assert json.loads(tracker.run_record_file(dataset[0]).read_text())["code"] == current


def test_run_records_keep_what_the_tracker_chose_on_this_machine(fake: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    import runner_fakes

    monkeypatch.setattr(runner_fakes.FakeTracker, "run_details", lambda self: {"precision": "int8"}, raising=False)
    tracker = Tracker("fake", "centroid")
    run_dataset([tracker], _dataset(1), progress=False)
    record = json.loads(tracker.run_record_file(_dataset(1)[0]).read_text())
    assert record["machine"]["tracker"] == {"precision": "int8"}


def test_failing_sequence_is_isolated_and_nothing_partial_is_saved(fake: Path, caplog) -> None:
    tracker = Tracker("fake", "centroid")
    dataset = SequenceList([make_sequence("good1"), make_sequence("bad", fail_at=3), make_sequence("good2")])
    results = run_dataset([tracker], dataset, progress=False)
    assert [r.status for r in results] == ["done", "failed", "done"]
    [failed] = failures(results)
    assert failed.sequence == "bad" and "synthetic frame 3 cannot be read" in failed.error
    assert "Traceback" in failed.error and "bad failed" in caplog.text
    assert not tracker.result_file("bad").exists() and not tracker.time_file("bad").exists()
    assert tracker.result_file("good2").exists()
    assert summary_line(results) == "3 (tracker, sequence) pairs: 2 done, 0 skipped, 0 stopped, 1 failed"


def test_interrupted_write_keeps_previous_file(fake: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tracker = Tracker("fake", "centroid")
    sequence = make_sequence(n_frames=4)
    tracker.results_dir.mkdir(parents=True)
    tracker.result_file(sequence).write_text("old\n")

    def broken_replace(src, dst):
        raise KeyboardInterrupt  # Ctrl-C exactly while renaming

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(KeyboardInterrupt):
        run_sequence(tracker, sequence)
    assert tracker.result_file(sequence).read_text() == "old\n"
    assert not list(tracker.results_dir.glob(".*.tmp"))


def test_observers_see_every_frame_and_can_stop(fake: Path) -> None:
    tracker = Tracker("fake", "centroid", display_name="Fake")
    sequence = make_sequence(n_frames=6)
    watcher = Recorder()
    assert run_sequence(tracker, sequence, debug=1, observers=[watcher]).status == "done"
    assert watcher.calls[0] == ("start", "square", "Fake") and watcher.calls[-1] == ("finish",)
    assert [c[1] for c in watcher.calls[1:-1]] == list(range(6))
    plain = Tracker("fake", "centroid", run_id=1)
    run_sequence(plain, sequence)
    assert tracker.result_file(sequence).read_bytes() == plain.result_file(sequence).read_bytes()

    stopper = Tracker("fake", "centroid", run_id=2)
    result = run_sequence(stopper, sequence, observers=[Recorder(stop_at=2)])
    assert result.status == "stopped" and result.frames == 3
    assert not stopper.result_file(sequence).exists()


def test_bad_tracker_output_is_a_clear_failure(fake: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import runner_fakes

    monkeypatch.setattr(runner_fakes.FakeTracker, "track", lambda self, image, info=None: {"target_bbox": [1, 2]})
    [result] = run_dataset([Tracker("fake", "centroid")], [make_sequence()], progress=False)
    assert result.status == "failed" and "frame 1: target_bbox must be 4 finite numbers" in result.error


def test_results_only_trackers_are_not_run(fake: Path) -> None:
    class Published:
        display_name, name = "Paper", "paper"

        def results_for(self, sequence):
            raise AssertionError("not for the runner")

    results = run_dataset([Published(), Tracker("fake", "centroid")], _dataset(2), progress=False)
    assert [r.tracker for r in results] == ["fake_centroid", "fake_centroid"]


def test_process_pool_matches_serial(fake: Path) -> None:
    dataset = _dataset(3)
    serial = [Tracker("fake", "centroid", run_id=0), Tracker("fake", "shifted", run_id=0)]
    pooled = [Tracker("fake", "centroid", run_id=1), Tracker("fake", "shifted", run_id=1)]
    run_dataset(serial, dataset, progress=False)
    results = run_dataset(pooled, dataset, threads=2, progress=False)
    assert [r.status for r in results] == ["done"] * 6
    for a, b in zip(serial, pooled):
        assert _files(a.results_dir) == _files(b.results_dir) and len(_files(a.results_dir)) == 9  # boxes, state, run record
    again = run_dataset(pooled, dataset, threads=2, progress=False)
    assert {r.status for r in again} == {"skipped"}


@pytest.mark.parametrize("processes", [False, True])
def test_dask_cluster_matches_serial(fake: Path, processes: bool) -> None:
    distributed = pytest.importorskip("dask.distributed")
    dataset = _dataset(2, n_frames=6)
    serial = Tracker("fake", "shifted", run_id=0)
    on_dask = Tracker("fake", "shifted", run_id=1)
    run_dataset([serial], dataset, progress=False)
    with distributed.LocalCluster(n_workers=2 if processes else 1, processes=processes, threads_per_worker=1,
                                  dashboard_address=None) as cluster:
        results = run_dataset([on_dask], dataset, scheduler=cluster.scheduler_address, progress=False)
    assert [r.status for r in results] == ["done", "done"]
    assert _files(serial.results_dir) == _files(on_dask.results_dir)


def test_failures_come_back_from_workers(fake: Path) -> None:
    dataset = SequenceList([make_sequence("ok"), make_sequence("broken", fail_at=1)])
    results = run_dataset([Tracker("fake", "centroid")], dataset, threads=2, progress=False)
    assert [r.status for r in results] == ["done", "failed"]
    assert "OSError: synthetic frame 1" in results[1].error


def test_a_task_that_cannot_reach_a_worker_fails_alone(fake: Path) -> None:
    square = make_sequence("local_only")
    unpicklable = make_sequence("local_only")
    unpicklable.frame_loader = lambda index: square.image(index)  # lambdas do not pickle
    dataset = SequenceList([make_sequence("ok"), unpicklable])
    results = run_dataset([Tracker("fake", "centroid")], dataset, threads=2, progress=False)
    assert [r.status for r in results] == ["done", "failed"]
    assert results[1].error.startswith("worker error:")


def test_torch_threads_set_while_tracking_and_restored(fake: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    import runner_fakes

    seen = []
    original = runner_fakes.FakeTracker.track

    def spy(self, image, info=None):
        seen.append(torch.get_num_threads())
        return original(self, image, info)

    monkeypatch.setattr(runner_fakes.FakeTracker, "track", spy)
    before = torch.get_num_threads()
    run_dataset([Tracker("fake", "centroid")], [make_sequence(n_frames=3)], progress=False)
    assert seen == [1, 1] and torch.get_num_threads() == before


def test_a_parameter_added_after_the_record_is_compared_only_off_its_default(fake: Path) -> None:
    import json

    sequence = _dataset(1)[0]
    for parameter_name, kept in (("centroid", True), ("shifted", False)):  # offset 0.0 (its default) / 2.5
        tracker = Tracker("fake", parameter_name)
        run_dataset([tracker], [sequence], progress=False)
        path = tracker.run_record_file(sequence)
        record = json.loads(path.read_text())
        del record["parameters"]["offset"]  # written before the parameter existed
        path.write_text(json.dumps(record))
        again = Tracker("fake", parameter_name)
        if kept:
            assert again.stale_reason(sequence) is None
        else:
            assert again.stale_reason(sequence) == "parameters.offset changed (recorded null, now 2.5)"
    centroid = Tracker("fake", "centroid")
    record = json.loads(centroid.run_record_file(sequence).read_text())
    record["parameters"]["retired"] = 1  # a parameter that no longer exists: recomputed
    centroid.run_record_file(sequence).write_text(json.dumps(record))
    assert centroid.stale_reason(sequence) == "parameters.retired changed (recorded 1, now null)"
