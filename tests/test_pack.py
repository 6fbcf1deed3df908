"""Server packers (``python -m evaluation.pack``): the zips GOT-10k's and TrackingNet's servers take, and
GOT-10k's AO/SR computed by the GOT-10k toolkit on the packed files equal to ours."""
from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from benchmark_fixtures import make_got10k, make_trackingnet
from evaluation import pack
from evaluation.analysis.protocols import got10k_frame_ious, got10k_scores
from evaluation.boxes_io import write_boxes_txt, write_values_txt
from evaluation.datasets import get_dataset
from evaluation.datasets.got10k import got10k_resolution
from evaluation.settings import Settings, load_settings


def _write_results(folder: Path, sequences, seed: int, with_times: bool = True) -> None:
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for seq in sequences:
        n = len(seq)
        first = np.nan_to_num(seq.ground_truth_rect[0])
        boxes = first + rng.uniform(-4, 4, (n, 4)) * [1, 1, 0.5, 0.5]
        boxes[0] = first
        boxes[:, 2:] = np.abs(boxes[:, 2:])
        boxes[-1, 0] = -5.0  # partly left of the image: GOT-10k clips boxes to the image first
        write_boxes_txt(folder / f"{seq.name}.txt", boxes)
        if with_times:
            write_values_txt(folder / f"{seq.name}_time.txt", rng.uniform(0.01, 0.02, n))


def _settings(tmp_path: Path, **paths: str) -> Settings:
    from dataclasses import replace
    return replace(load_settings(), **paths)


def test_got10k_zip_layout_with_three_runs(tmp_path: Path) -> None:
    settings = _settings(tmp_path, got10k_path=str(make_got10k(tmp_path / "got10k")))
    sequences = get_dataset("got10k_test", settings=settings)
    results = settings.path("results_path") / "mytracker"
    for run in range(3):
        _write_results(results / f"default_{run:03d}", sequences, seed=run)
    path = pack.pack("got10k", "mytracker", "default", settings)
    assert path == results / "default_got10k.zip"
    with zipfile.ZipFile(path) as archive:
        names = sorted(archive.namelist())
        seq = sequences[1]
        assert names[:4] == [f"{sequences[0].name}/{sequences[0].name}_{k}.txt" for k in ("001", "002", "003", "time")]
        assert len(names) == 8
        rows = archive.read(f"{seq.name}/{seq.name}_002.txt").decode().splitlines()
        times = archive.read(f"{seq.name}/{seq.name}_time.txt").decode().splitlines()
    assert len(rows) == len(seq) and len(times) == len(seq) and len(times[0].split(",")) == 3
    first = [float(v) for v in rows[0].split(",")]
    np.testing.assert_allclose(first, seq.ground_truth_rect[0], atol=5e-3)
    assert all(len(v.split(".")[1]) == 4 for v in rows[1].split(","))  # floats, 4 decimals


def test_trackingnet_zip_and_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    root = make_trackingnet(tmp_path / "tn")
    monkeypatch.setenv("SIAMOT_TRACKINGNET_PATH", str(root))
    settings = load_settings()
    sequences = get_dataset("trackingnet", settings=settings)
    _write_results(settings.path("results_path") / "mytracker" / "default", sequences, seed=4, with_times=False)
    out = tmp_path / "submission.zip"
    assert pack.main(["trackingnet", "mytracker", "default", "--output", str(out)]) == 0
    assert f"wrote {out} (2 files)" in capsys.readouterr().out
    with zipfile.ZipFile(out) as archive:
        assert sorted(archive.namelist()) == sorted(f"{s.name}.txt" for s in sequences)
        text = archive.read(f"{sequences[0].name}.txt").decode()
    assert len(text.splitlines()) == len(sequences[0]) == 12


def test_incomplete_results_write_nothing_and_name_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            capsys) -> None:
    monkeypatch.setenv("SIAMOT_GOT10K_PATH", str(make_got10k(tmp_path / "got10k")))
    settings = load_settings()
    sequences = get_dataset("got10k_test", settings=settings)
    folder = settings.path("results_path") / "mytracker" / "default"
    _write_results(folder, sequences[:1], seed=1)
    assert pack.main(["got10k", "mytracker", "default"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"results missing for sequence {sequences[1].name}: {folder}" in err
    assert not (folder.parent / "default_got10k.zip").exists()
    assert pack.main(["got10k", "other", "default"]) == 1
    assert "no results of other default at" in capsys.readouterr().err


def test_got10k_toolkit_scores_the_packed_files_as_we_do(tmp_path: Path) -> None:
    experiments = pytest.importorskip("got10k.experiments")
    root = make_got10k(tmp_path / "got10k")
    settings = _settings(tmp_path, got10k_path=str(root))
    val = get_dataset("got10k_val", settings=settings)
    folders = [tmp_path / "results" / f"run{k}" for k in range(2)]
    for k, folder in enumerate(folders):
        _write_results(folder, val, seed=7 + k)
    entries = pack.pack_entries("got10k", val, folders)
    unpacked = tmp_path / "toolkit_results" / "GOT-10k" / "mytracker"
    pack.write_zip(tmp_path / "val.zip", entries)
    with zipfile.ZipFile(tmp_path / "val.zip") as archive:
        archive.extractall(unpacked)
    experiment = experiments.ExperimentGOT10k(str(root), subset="val", result_dir=str(tmp_path / "toolkit_results"),
                                              report_dir=str(tmp_path / "reports"))
    experiment.result_dir = str(tmp_path / "toolkit_results" / "GOT-10k")
    performance = experiment.report(["mytracker"])["mytracker"]
    per_sequence = []
    for seq in val:
        runs = [np.loadtxt(folder / f"{seq.name}.txt") for folder in folders]
        ious = np.concatenate([got10k_frame_ious(r, seq.ground_truth_rect, seq.target_visible,
                                                 got10k_resolution(seq)) for r in runs])
        per_sequence.append(ious)
        theirs = performance["seq_wise"][seq.name]
        assert got10k_scores(ious).ao == pytest.approx(theirs["ao"], abs=1e-6)
        assert got10k_scores(ious).sr50 == pytest.approx(theirs["sr"], abs=1e-6)
    ours = got10k_scores(per_sequence)
    assert ours.ao == pytest.approx(performance["overall"]["ao"], abs=1e-6)
    assert ours.sr50 == pytest.approx(performance["overall"]["sr"], abs=1e-6)
    np.testing.assert_allclose(ours.success, performance["overall"]["succ_curve"], atol=1e-6)
    assert ours.n_frames == sum(len(s) - 1 - int((~s.target_visible[1:]).sum()) for s in val) * 2
    assert json.loads((tmp_path / "reports" / "GOT-10k" / "mytracker" / "performance.json").read_text())
