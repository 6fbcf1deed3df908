"""The dataset doctor (``python -m evaluation.datasets check NAME``) on copies with planted faults."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from benchmark_fixtures import make_got10k, make_lasot, make_tc128, make_vot, write_rows
from evaluation.datasets import get_dataset
from evaluation.datasets.__main__ import main
from evaluation.datasets.doctor import check_dataset, preflight_problems
from evaluation.settings import Settings


def test_planted_faults_in_a_partial_lasot_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    root = make_lasot(tmp_path, names=("airplane-1", "airplane-9", "basketball-1", "airplane-2"))
    (root / "airplane" / "airplane-1" / "img" / "00000004.jpg").unlink()
    last = root / "airplane" / "airplane-9" / "img" / "00000007.jpg"
    last.write_bytes(last.read_bytes()[:-40])  # truncated: no end-of-image marker
    gt = root / "basketball" / "basketball-1" / "groundtruth.txt"
    gt.write_text(gt.read_text() + "1,1,5,5\n")  # one row more than the flags and frames
    monkeypatch.setenv("SIAMOT_LASOT_PATH", str(root))
    assert main(["check", "lasot"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"lasot: partial copy, 3 of 280 sequences under {root}; checking those (missing: ")
    assert lines[1] == (f"airplane-1: 1 of 6 frames missing (first: {root}/airplane/airplane-1/img/00000004.jpg)")
    assert lines[2].startswith("airplane-9: 1 unreadable frame(s) (truncated JPEG frame") and str(last) in lines[2]
    assert lines[3] == (f"basketball-1: {root}/basketball/basketball-1/full_occlusion.txt: 8 flags for "
                        f"9 ground-truth rows")
    assert lines[4] == "lasot: 3 sequences checked, 3 with problems"
    assert len(lines) == 5  # airplane-2 (training split) is not a test sequence: not checked, not reported


def test_got10k_labels_and_boxes(tmp_path: Path) -> None:
    root = make_got10k(tmp_path)
    first = root / "val" / "GOT-10k_Val_000001"
    (first / "cover.label").unlink()
    (first / "absence.label").unlink()
    second = root / "val" / "GOT-10k_Val_000002"
    gt = np.loadtxt(second / "groundtruth.txt", delimiter=",")
    gt[4, 2] = -3
    write_rows(second / "groundtruth.txt", gt)
    report = check_dataset("got10k_val", Settings(got10k_path=str(root)))
    assert report.bad == {
        "GOT-10k_Val_000001": [f"no cover.label or absence.label in {first}: absent frames cannot be excluded"],
        "GOT-10k_Val_000002": ["1 box(es) with a negative width or height (first: frame 5)"],
    }
    assert report.missing == [] and report.lines()[-1] == "got10k_val: 2 sequences checked, 2 with problems"


def test_first_box_and_range_file(tmp_path: Path) -> None:
    root = make_tc128(tmp_path / "tc")
    (root / "Ball_ce1" / "Ball_ce1_frames.txt").unlink()
    gt = root / "Basketball" / "Basketball_gt.txt"
    gt.write_text("100,100,0,5\n" + "\n".join(gt.read_text().splitlines()[1:]) + "\n")
    report = check_dataset("tc128", Settings(tc128_path=str(root)))
    assert report.bad["Ball_ce1"] == [f"TC128 sequence Ball_ce1: frame range file missing: "
                                      f"{root}/Ball_ce1/Ball_ce1_frames.txt"]
    assert report.bad["Basketball"][0].startswith("first-frame box [99.0, 99.0, 0.0, 5.0] is not a box")
    vot = make_vot(tmp_path / "vot")
    (vot / "ball" / "groundtruth.txt").write_text("400,300,5,5\n" * 4)  # outside the 320x240 frames
    report = check_dataset("vot", Settings(vot_path=str(vot)))
    assert report.bad == {"ball": ["first-frame box [400.0, 300.0, 5.0, 5.0] lies outside the 320x240 frame"]}


def test_clean_copy_and_missing_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setenv("SIAMOT_VOT_PATH", str(make_vot(tmp_path / "vot")))
    assert main(["check", "vot", "--decode", "all"]) == 0
    assert capsys.readouterr().out == "vot: 2 sequences checked, all fine\n"
    assert main(["check", "got10k_test"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: GOT-10k path is not set: set got10k_path in ")


def test_preflight_names_each_bad_sequence_in_one_line(tmp_path: Path) -> None:
    root = make_lasot(tmp_path)
    (root / "airplane" / "airplane-9" / "img" / "00000002.jpg").unlink()
    sequences = get_dataset("lasot", settings=Settings(lasot_path=str(root)))
    assert preflight_problems(sequences) == [
        f"airplane-9: 1 of 7 frames missing (first: {root}/airplane/airplane-9/img/00000002.jpg)"]


def test_shared_copies_are_fine(shared_dir: Path) -> None:
    settings = Settings(uav123_10fps_path=str(shared_dir / "uav123_10fps"), dtb70_path=str(shared_dir / "dtb70"),
                        vot_path=str(shared_dir / "vot" / "2017"))
    for name, folder in (("uav123_10fps", "uav123_10fps"), ("dtb70", "dtb70"), ("vot", "vot/2017")):
        if not (shared_dir / folder).is_dir():
            pytest.skip(f"{shared_dir / folder} absent")
        report = check_dataset(name, settings, decode="ends")
        assert report.problems and not report.bad, report.lines()
