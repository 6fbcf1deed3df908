"""End to end on tiny copies of every benchmark layout: run_tracker, analyze, and the server packers."""
from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from benchmark_fixtures import make_dtb70, make_got10k, make_lasot, make_nfs, make_tc128, make_trackingnet, make_vot
from evaluation import analyze, pack, run_tracker
from runner_fakes import install_fake_plugin

LAYOUTS = {"dtb70": make_dtb70, "tc128": make_tc128, "nfs": make_nfs, "lasot": make_lasot, "got10k": make_got10k,
           "trackingnet": make_trackingnet, "vot": make_vot}


def test_run_analyze_and_pack_on_every_layout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    for key, make in LAYOUTS.items():
        monkeypatch.setenv(f"SIAMOT_{key.upper()}_PATH", str(make(tmp_path / key)))
    install_fake_plugin(tmp_path / "plugin", monkeypatch)
    scored = ["dtb70", "tc128", "nfs", "lasot", "got10k_val", "vot"]
    assert run_tracker.main(["fake", "centroid", "--dataset", *scored, "got10k_test", "trackingnet",
                             "--no-progress"]) == 0
    capsys.readouterr()
    assert analyze.main(["--trackers", "fake:centroid", "--dataset", *scored, "--no-tikz", "--no-attributes",
                         "--name", "benchmarks"]) == 0
    out = capsys.readouterr().out
    assert "fake_centroid" in out and "GOT-10k protocol" not in out  # mixed benchmarks: OPE only
    for dataset, title, header in (("got10k_val", "GOT-10k protocol", "AO"), ("lasot", "LaSOT protocol", "AUC")):
        assert analyze.main(["--trackers", "fake:centroid", "--dataset", dataset, "--no-tikz", "--no-attributes",
                             "--name", dataset]) == 0
        lines = capsys.readouterr().out.splitlines()
        at = next(i for i, line in enumerate(lines) if line.startswith(title))
        assert lines[at + 1].split()[:2] == ["Tracker", header] and lines[at + 3].startswith("fake_centroid ")
    for benchmark, count in (("got10k", 2 * 2), ("trackingnet", 2)):  # GOT-10k: a boxes and a time file each
        assert pack.main([benchmark, "fake", "centroid"]) == 0
        zipped = Path(capsys.readouterr().out.split()[1])
        with zipfile.ZipFile(zipped) as archive:
            assert len(archive.namelist()) == count
