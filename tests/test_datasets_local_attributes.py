"""Attribute files of a local benchmark copy (UAV123 / UAV20L ``anno/<version>/att/<seq>.txt``, TC128
``<Seq>/<Seq>_att.txt``), laid out as the downloads ship them, against the package's encoded tables; and
the sequence tables behind ``python -m evaluation.datasets sizes``."""
from __future__ import annotations

import logging
from pathlib import Path

import pytest

from benchmark_fixtures import boxes, jpgs, make_lasot, make_tc128, make_uav123, write_rows
from evaluation.datasets import get_dataset
from evaluation.datasets._benchmark import read_table
from evaluation.datasets.attributes import (LASOT_ATTRIBUTE_NAMES, OTB100_ATTRIBUTES, UAV123_ATTRIBUTE_NAMES,
                                            read_flag_file, read_name_file)
from evaluation.datasets.lasot import LASOT_EXT, LASOT_EXT_ATTRIBUTES, LASOT_TEST
from evaluation.datasets.uav import UAV_ENTRIES
from evaluation.settings import Settings


def _flags(names: tuple[str, ...], columns: tuple[str, ...] = UAV123_ATTRIBUTE_NAMES) -> str:
    return ",".join("1" if c in names else "0" for c in columns) + "\n"


def _table(version: str, name: str) -> tuple[str, ...]:
    return next(e.attributes for e in UAV_ENTRIES[version] if e.name == name)


def test_uav20l_takes_its_flags_from_the_att_folder(tmp_path: Path) -> None:
    root = make_uav123(tmp_path)
    settings = Settings(uav123_path=str(root))
    assert get_dataset("uav20l", settings=settings)["bird1"].attributes == ()  # no att folder: as before
    (root / "anno" / "UAV20L" / "att").mkdir()
    (root / "anno" / "UAV20L" / "att" / "bird1.txt").write_text("1,0,1,1,0,0,0,0,0,0,1,0\n")
    assert get_dataset("uav20l", settings=settings)["bird1"].attributes == ("SV", "LR", "FM", "CM")


def test_uav123_att_files_are_checked_against_the_table(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    root = make_uav123(tmp_path)
    att = root / "anno" / "UAV123" / "att"
    att.mkdir()
    (att / "bird1_1.txt").write_text(_flags(_table("UAV123", "bird1_1")))  # agrees: nothing said
    (att / "bird1_2.txt").write_text(_flags(("SV",)))  # disagrees: one line naming it, the table kept
    with caplog.at_level(logging.WARNING, logger="evaluation.datasets"):
        seqs = get_dataset("uav123", settings=Settings(uav123_path=str(root)))
    assert seqs["bird1_1"].attributes == _table("UAV123", "bird1_1")
    assert seqs["bird1_2"].attributes == _table("UAV123", "bird1_2") != ("SV",)
    lines = [r.getMessage() for r in caplog.records if "/att/" in r.getMessage()]
    assert len(lines) == 1 and str(att / "bird1_2.txt") in lines[0] and "keeping the table's" in lines[0]
    assert "bird1_1" not in caplog.text


def test_a_uav_att_file_that_is_not_12_flags_is_an_error_naming_it(tmp_path: Path) -> None:
    root = make_uav123(tmp_path)
    (root / "anno" / "UAV20L" / "att").mkdir()
    bad = root / "anno" / "UAV20L" / "att" / "bird1.txt"
    bad.write_text("1,0,1\n")
    with pytest.raises(ValueError, match=r"bird1\.txt: expected 12 attribute flags"):
        get_dataset("uav20l", settings=Settings(uav123_path=str(root)))


def test_flag_file_column_orders_match_the_encoded_tables(tmp_path: Path) -> None:
    # Rows of LaSOT's evaluation toolkit (annos/att/airplane-1.txt, airplane-9.txt) give our table's flags.
    for name, row in (("airplane-1", "0,1,0,0,0,1,0,0,1,0,0,0,1,0"), ("airplane-9", "1,1,0,0,0,1,0,0,1,0,0,0,1,1")):
        (tmp_path / f"{name}.txt").write_text(row + "\n")
        assert set(read_flag_file(tmp_path / f"{name}.txt", LASOT_ATTRIBUTE_NAMES)) == set(LASOT_TEST[name])
    # A UAV123 row written in the benchmark's column order reads back to the table's flags.
    (tmp_path / "bike1.txt").write_text(_flags(_table("UAV123", "bike1")))
    assert read_flag_file(tmp_path / "bike1.txt", UAV123_ATTRIBUTE_NAMES) == _table("UAV123", "bike1")


def test_tc128_att_file_takes_precedence_and_a_bad_one_falls_back(tmp_path: Path,
                                                                    caplog: pytest.LogCaptureFixture) -> None:
    root = make_tc128(tmp_path)
    settings = Settings(tc128_path=str(root))
    assert get_dataset("tc128", settings=settings)["Ball_ce1"].attributes == ()  # no _att.txt, not in OTB
    (root / "Ball_ce1" / "Ball_ce1_att.txt").write_text("SV\nOCC\nIV\n")
    (root / "Basketball" / "Basketball_att.txt").write_text("0,1,0,1\n")  # not names: said, OTB's flags kept
    with caplog.at_level(logging.WARNING, logger="evaluation.datasets"):
        seqs = get_dataset("tc128", settings=settings)
    assert seqs["Ball_ce1"].attributes == ("IV", "SV", "OCC")  # listing order
    assert seqs["Basketball"].attributes == OTB100_ATTRIBUTES["Basketball"]
    lines = [r.getMessage() for r in caplog.records if "_att.txt" in r.getMessage()]
    assert len(lines) == 1 and "Basketball_att.txt" in lines[0] and "OTB-100's flags of Basketball" in lines[0]


def test_tc128_spells_otbs_jogging_without_the_dash(tmp_path: Path) -> None:
    root = tmp_path / "tc"
    jpgs(root / "Jogging1" / "img", [f"{i:04d}.jpg" for i in range(1, 4)])
    (root / "Jogging1" / "Jogging1_frames.txt").write_text("1,3\n")
    write_rows(root / "Jogging1" / "Jogging1_gt.txt", boxes(3))
    seq = get_dataset("tc128", settings=Settings(tc128_path=str(root)))["Jogging1"]
    assert seq.attributes == OTB100_ATTRIBUTES["Jogging-1"] != ()


def test_name_file_reader_names_the_file_and_token(tmp_path: Path) -> None:
    path = tmp_path / "X_att.txt"
    path.write_text("iv, Sv\n")
    assert read_name_file(path, ("IV", "SV", "OCC")) == ("IV", "SV")
    path.write_text("IV\nWOBBLE\n")
    with pytest.raises(ValueError, match=r"X_att\.txt: expected attribute names.*WOBBLE"):
        read_name_file(path, ("IV", "SV"))


def test_size_tables_hold_the_benchmarks_sequences() -> None:
    tc128, nfs = read_table("tc128"), read_table("nfs")
    assert len(tc128) == len({r[0] for r in tc128}) == 129
    assert all(1 <= int(start) <= int(end) for _, start, end in tc128)
    assert len(nfs) == len({r[0] for r in nfs}) == 100 and all(int(n) > 0 for _, n in nfs)
    assert {"Gymnastics", "airboard_1"} <= {r[0] for r in nfs}  # the names the NfS fixtures use


def test_lasot_extension_sequences_carry_their_attributes(tmp_path: Path) -> None:
    root = make_lasot(tmp_path, names=("atv-1", "wingsuit-10"))
    seqs = get_dataset("lasot_ext", settings=Settings(lasot_ext_path=str(root)))
    assert seqs["atv-1"].attributes == ("ROT", "VC", "SV")  # LaSOT's order, as tables/lasot_ext.txt has it
    assert seqs["wingsuit-10"].attributes == LASOT_EXT_ATTRIBUTES["wingsuit-10"] != ()
    assert list(LASOT_EXT_ATTRIBUTES) == list(LASOT_EXT)
    assert sum("SV" in a for a in LASOT_EXT_ATTRIBUTES.values()) == 141  # the table read whole: SV on 141 of 150


def test_uav_and_lasot_ext_run_end_to_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture) -> None:
    from evaluation import analyze, run_tracker
    from runner_fakes import install_fake_plugin

    uav = tmp_path / "uav"  # a partial UAV123@10fps copy: uav6, the shortest sequence (frames 1-37)
    jpgs(uav / "data_seq" / "UAV123_10fps" / "uav6", [f"{i:06d}.jpg" for i in range(1, 38)])
    write_rows(uav / "anno" / "UAV123_10fps" / "uav6.txt", boxes(37, seed=6))
    monkeypatch.setenv("SIAMOT_UAV123_10FPS_PATH", str(uav))
    monkeypatch.setenv("SIAMOT_LASOT_EXT_PATH", str(make_lasot(tmp_path / "ext", names=("atv-1", "atv-2"))))
    monkeypatch.setenv("SIAMOT_RESULTS_PATH", str(tmp_path / "results"))
    install_fake_plugin(tmp_path / "plugin", monkeypatch)
    assert run_tracker.main(["fake", "centroid", "--dataset", "uav123_10fps", "lasot_ext", "--no-progress",
                             "--frame-timeout", "0"]) == 0
    for dataset, table in (("uav123_10fps", "fake_centroid"), ("lasot_ext", "LaSOT protocol")):
        assert analyze.main(["--trackers", "fake:centroid", "--dataset", dataset, "--no-tikz", "--no-attributes",
                             "--plots-path", str(tmp_path / "plots"), "--name", dataset]) == 0
        assert table in capsys.readouterr().out
    from evaluation.analysis.evaluate import evaluate
    from evaluation.analysis.tables import attribute_frame
    from evaluation.settings import load_settings
    from evaluation.tracker import Tracker

    settings = load_settings()
    scored, _ = evaluate([Tracker("fake", "centroid", settings=settings, check=False)],
                         get_dataset("lasot_ext", settings=settings))
    assert {"ROT (1)", "VC (2)", "SV (2)", "CM (1)"} <= set(attribute_frame(scored).columns)  # atv-1, atv-2's flags


def test_the_doctor_names_a_malformed_att_file(tmp_path: Path) -> None:
    from evaluation.datasets.doctor import check_dataset

    root = make_uav123(tmp_path)
    (root / "anno" / "UAV20L" / "att").mkdir()
    (root / "anno" / "UAV20L" / "att" / "bird1.txt").write_text("yes\n")
    report = check_dataset("uav20l", Settings(uav123_path=str(root)), decode="none")
    assert list(report.bad) == ["bird1"]
    assert "anno/UAV20L/att/bird1.txt: expected 12 attribute flags" in report.bad["bird1"][0]
