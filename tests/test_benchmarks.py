"""Benchmark loaders on tiny copies of each official layout, the GOT-10k toolkit reading the same copies,
the real sequences in ../shared, and each benchmark's protocol metrics."""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from benchmark_fixtures import (POLYGON, ROTATED, make_dtb70, make_got10k, make_lasot, make_nfs, make_tc128,
                                make_trackingnet, make_uav123, make_uav123_10fps, make_vot)
from evaluation.datasets import ANNOTATIONS_ONE_BASED, DATASET_NAMES, DatasetNotFoundError, get_dataset
from evaluation.datasets._benchmark import polygon_to_xywh
from evaluation.datasets.lasot import LASOT_EXT, LASOT_TEST
from evaluation.datasets.uav import UAV_ENTRIES
from evaluation.settings import Settings

got10k_datasets = pytest.importorskip("got10k.datasets")


def _same_frames(ours, theirs) -> None:
    assert [Path(f).resolve() for f in ours.frames] == [Path(f).resolve() for f in theirs]


def test_every_benchmark_is_a_dataset_name_with_its_settings_key() -> None:
    for name in ("tc128", "uav123", "uav20l", "uav123_10fps", "nfs", "lasot", "lasot_ext", "got10k_val",
                 "got10k_test", "trackingnet", "vot", "dtb70"):
        assert name in DATASET_NAMES
    with pytest.raises(DatasetNotFoundError, match="lasot_path.*SIAMOT_LASOT_PATH"):
        get_dataset("lasot", settings=Settings())


def test_tables_hold_the_benchmarks_sequence_counts() -> None:
    assert {v: len(e) for v, e in UAV_ENTRIES.items()} == {"UAV123": 123, "UAV20L": 20, "UAV123_10fps": 123}
    assert len(LASOT_TEST) == 280 and len(LASOT_EXT) == 150
    per_class = {}
    for name in LASOT_TEST:
        per_class[name.rsplit("-", 1)[0]] = per_class.get(name.rsplit("-", 1)[0], 0) + 1
    assert len(per_class) == 70 and set(per_class.values()) == {4}
    assert all(len(e.attributes) <= 12 for e in UAV_ENTRIES["UAV123"])


def test_dtb70_and_tc128(tmp_path: Path) -> None:
    seqs = get_dataset("dtb70", "tc128", settings=Settings(dtb70_path=str(make_dtb70(tmp_path / "d")),
                                                            tc128_path=str(make_tc128(tmp_path / "t"))))
    assert seqs.names() == ["Gull2", "Surfing06", "Ball_ce1", "Basketball"]
    ball = seqs["Ball_ce1"]
    assert [Path(f).name for f in ball.frames] == ["0003.jpg", "0004.jpg", "0005.jpg", "0006.jpg"]
    raw = np.loadtxt(tmp_path / "t" / "Ball_ce1" / "Ball_ce1_gt.txt", delimiter=",")
    np.testing.assert_allclose(ball.ground_truth_rect, raw - [1, 1, 0, 0])  # 1-based -> 0-based
    assert seqs["Basketball"].attributes == ("IV", "OCC", "DEF", "OPR", "BC")  # as OTB's
    for name, ours, theirs in (("dtb70", seqs["Gull2"], got10k_datasets.DTB70(str(tmp_path / "d"))["Gull2"]),
                               ("tc128", ball, got10k_datasets.TColor128(str(tmp_path / "t"), download=False)["Ball_ce1"])):
        _same_frames(ours, theirs[0])
        shift = [1, 1, 0, 0] if ANNOTATIONS_ONE_BASED[name] else [0, 0, 0, 0]  # the files' numbers, as got10k reads them
        np.testing.assert_allclose(ours.ground_truth_rect + shift, theirs[1])


def test_tc128_row_count_against_range_names_the_file(tmp_path: Path) -> None:
    root = make_tc128(tmp_path)
    (root / "Ball_ce1" / "Ball_ce1_frames.txt").write_text("3,7\n")
    with pytest.raises(ValueError, match=r"Ball_ce1_gt.txt: 4 rows, expected 5"):
        get_dataset("tc128", settings=Settings(tc128_path=str(root)))


def test_uav_sub_sequences_share_a_folder(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    root = make_uav123_10fps(tmp_path)
    with caplog.at_level(logging.WARNING, logger="evaluation.datasets"):
        seqs = get_dataset("uav123_10fps", settings=Settings(uav123_10fps_path=str(root)))
    assert seqs.names() == ["car1_1", "car1_2", "car1_3"]
    assert [r.message for r in caplog.records].count(caplog.records[0].message) == 1
    assert "3 of 123 sequences" in caplog.text
    car1_2 = seqs["car1_2"]
    assert Path(car1_2.frames[0]).name == "000251.jpg" and Path(car1_2.frames[-1]).name == "000543.jpg"
    assert car1_2.frames[0] == seqs["car1_1"].frames[-1]  # the official ranges overlap by one frame
    assert np.isnan(car1_2.ground_truth_rect[5]).all()
    assert seqs["car1_1"].attributes == ("SV", "CM", "SOB")


def test_uav123_and_uav20l_read_as_the_got10k_toolkit(tmp_path: Path) -> None:
    root = make_uav123(tmp_path)
    settings = Settings(uav123_path=str(root))
    for version, name in (("UAV123", "uav123"), ("UAV20L", "uav20l")):
        ours = get_dataset(name, settings=settings)
        theirs = got10k_datasets.UAV123(str(root), version=version)
        assert ours.names() == sorted(theirs.seq_names)
        for seq in ours:
            frames, anno = theirs[seq.name]
            _same_frames(seq, frames)
            np.testing.assert_allclose(seq.ground_truth_rect + [1, 1, 0, 0], anno)
    bird1_2 = get_dataset("uav123", settings=settings)["bird1_2"]
    assert (Path(bird1_2.frames[0]).name, len(bird1_2)) == ("000775.jpg", 703)


def test_nfs_240fps_rows_are_subsampled_as_the_got10k_toolkit(tmp_path: Path) -> None:
    root = make_nfs(tmp_path)
    seqs = get_dataset("nfs", settings=Settings(nfs_path=str(root)))
    theirs = got10k_datasets.NfS(str(root), fps=30)
    assert seqs.names() == ["Gymnastics", "airboard_1"]
    for seq in seqs:
        frames, anno = theirs[seq.name]
        _same_frames(seq, frames)
        np.testing.assert_allclose(seq.ground_truth_rect, anno)
    gym = seqs["Gymnastics"]
    assert len(gym) == 5  # 41 rows at 240 fps: rows 0, 8, ..., 32
    assert gym.target_visible.tolist() == [True, False, True, False, True]  # 'lost' flags rows 8 and 24


def test_nfs_reorganised_layout(tmp_path: Path) -> None:
    from benchmark_fixtures import boxes, jpgs, write_rows
    jpgs(tmp_path / "sequences" / "Skiing_red", [f"{i:05d}.jpg" for i in range(1, 4)])
    write_rows(tmp_path / "anno" / "nfs_Skiing_red.txt", boxes(3), delimiter="\t")
    seq = get_dataset("nfs", settings=Settings(nfs_path=str(tmp_path)))["Skiing_red"]
    assert len(seq) == 3 and Path(seq.frames[2]).name == "00003.jpg"


def test_lasot_visibility_attributes_and_partial_copy(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    root = make_lasot(tmp_path)
    with caplog.at_level(logging.WARNING, logger="evaluation.datasets"):
        seqs = get_dataset("lasot", settings=Settings(lasot_path=str(root)))
    assert seqs.names() == ["airplane-1", "airplane-9", "basketball-1"]
    assert "3 of 280 sequences" in caplog.text
    a1 = seqs["airplane-1"]
    assert a1.target_visible.tolist() == [True, True, False, False, True, True]
    assert a1.attributes == LASOT_TEST["airplane-1"] and a1.object_class == "airplane"
    # The toolkit's LaSOT constructor fails in this version (a generator passed to basename): set the
    # fields it would set, then read through its own __getitem__ and meta reader.
    theirs = object.__new__(got10k_datasets.LaSOT)
    theirs.return_meta = True
    theirs.seq_names = seqs.names()
    theirs.seq_dirs = [str(root / n.rsplit("-", 1)[0] / n / "img") for n in theirs.seq_names]
    theirs.anno_files = [str(Path(d).parent / "groundtruth.txt") for d in theirs.seq_dirs]
    for seq in seqs:
        frames, anno, meta = theirs[seq.name]
        _same_frames(seq, frames)
        np.testing.assert_allclose(seq.ground_truth_rect + [1, 1, 0, 0], anno)
        assert seq.target_visible.tolist() == ((meta["full_occlusion"] + meta["out_of_view"]) == 0).tolist()


def test_got10k_val_and_test(tmp_path: Path) -> None:
    root = make_got10k(tmp_path)
    settings = Settings(got10k_path=str(root))
    val = get_dataset("got10k_val", settings=settings)
    theirs = got10k_datasets.GOT10k(str(root), subset="val", return_meta=True)
    for seq in val:
        frames, anno, meta = theirs[seq.name]
        _same_frames(seq, frames)
        np.testing.assert_allclose(seq.ground_truth_rect, anno)
        assert seq.target_visible.tolist() == (meta["cover"] > 0).tolist()
    assert val[0].object_class == "ant"
    test = get_dataset("got10k_test", settings=settings)
    first = np.loadtxt(root / "test" / "GOT-10k_Test_000002" / "groundtruth.txt", delimiter=",")
    np.testing.assert_allclose(test[1].ground_truth_rect[0], first)
    assert len(test[1]) == 5 and np.isnan(test[1].ground_truth_rect[1:]).all()
    theirs_test = got10k_datasets.GOT10k(str(root), subset="test")
    _same_frames(test[1], theirs_test["GOT-10k_Test_000002"][0])


def test_trackingnet_frames_sort_by_number(tmp_path: Path) -> None:
    root = make_trackingnet(tmp_path)
    seqs = get_dataset("trackingnet", settings=Settings(trackingnet_path=str(root)))
    seq = seqs["-0G5nPD9vRw_0"]
    assert [Path(f).name for f in seq.frames] == [f"{i}.jpg" for i in range(12)]  # not 0, 1, 10, 11, 2, ...
    assert np.isnan(seq.ground_truth_rect[1:]).all() and np.isfinite(seq.ground_truth_rect[0]).all()


def test_trackingnet_frame_not_a_number_is_named(tmp_path: Path) -> None:
    root = make_trackingnet(tmp_path)
    (root / "TEST" / "frames" / "zzKq3Yr9xbo_1" / "cover.jpg").write_bytes(b"")
    with pytest.raises(ValueError, match=r"cover.jpg: frame name is not a number"):
        get_dataset("trackingnet", settings=Settings(trackingnet_path=str(root)))


@pytest.mark.parametrize("color", [True, False])
def test_vot_layouts_and_polygons(tmp_path: Path, color: bool) -> None:
    root = make_vot(tmp_path / "vot", color=color)
    seqs = get_dataset("vot", settings=Settings(vot_path=str(root)))
    assert seqs.names() == ["book", "ball"]
    book = seqs["book"]
    # Area rule on an axis-aligned polygon: the min-max box plus one pixel, same centre.
    np.testing.assert_allclose(book.ground_truth_rect[0], [198.5, 48.5, 89.0, 65.0])
    np.testing.assert_allclose(seqs["ball"].ground_truth_rect[0], [10, 12, 30, 20])
    np.testing.assert_allclose(polygon_to_xywh(np.array([ROTATED]), "bounds")[0],
                               [167.29, 62.928, 256.27 - 167.29, 132.75 - 62.928])
    if not color:  # the GOT-10k toolkit reads the VOT2013-2016 layout (frames directly in <seq>/)
        theirs = got10k_datasets.VOT(str(root), version=2016, download=False)
        frames, anno = theirs["book"]
        _same_frames(book, frames)
        np.testing.assert_allclose(book.ground_truth_rect, anno)
    assert polygon_to_xywh(np.array([POLYGON]), "bounds")[0].tolist() == [199, 49, 88, 64]


# --------------------------------------------------------------------------- the real sequences in ../shared

def test_shared_uav123_10fps_dtb70_and_vot(shared_dir: Path) -> None:
    settings = Settings(uav123_10fps_path=str(shared_dir / "uav123_10fps"), dtb70_path=str(shared_dir / "dtb70"),
                        vot_path=str(shared_dir / "vot" / "2017"))
    for name, path in (("uav123_10fps", "uav123_10fps"), ("dtb70", "dtb70"), ("vot", "vot/2017")):
        if not (shared_dir / path).is_dir():
            pytest.skip(f"{shared_dir / path} absent")
    building5 = get_dataset("uav123_10fps", settings=settings)["building5"]
    assert len(building5) == 161 and Path(building5.frames[-1]).is_file()
    np.testing.assert_allclose(building5.ground_truth_rect[0, 2:], [22, 62])
    dtb = get_dataset("dtb70", settings=settings)
    assert [(s.name, len(s)) for s in dtb] == [("Gull2", 237), ("Surfing06", 106)]
    assert [s.attributes for s in dtb] == [("ARV", "DEF", "IPR", "SOA"), ("OCC", "FCM", "IPR")]  # its README
    assert all(Path(s.frames[-1]).is_file() for s in dtb)
    book = get_dataset("vot", settings=settings)["book"]
    assert len(book) == 175 and Path(book.frames[-1]).is_file()
    theirs = got10k_datasets.DTB70(str(shared_dir / "dtb70"))
    for seq in dtb:
        frames, anno = theirs[seq.name]
        _same_frames(seq, frames)
        np.testing.assert_allclose(seq.ground_truth_rect + [1, 1, 0, 0], anno)


# --------------------------------------------------------------------------- protocol metrics

def test_ope_success_and_precision_equal_the_got10k_toolkits() -> None:
    experiments = pytest.importorskip("got10k.experiments")
    from benchmark_fixtures import boxes
    from evaluation.analysis.metrics import evaluate_sequence, summarize
    toolkit = object.__new__(experiments.ExperimentOTB)
    toolkit.nbins_iou, toolkit.nbins_ce = 21, 51
    ours, succ, prec = [], [], []
    for seed in range(3):
        gt = boxes(60, seed=seed)
        pred = gt + np.random.default_rng(seed + 50).normal(0, 6, gt.shape) * [1, 1, 0.3, 0.3]
        pred[:, 2:] = np.abs(pred[:, 2:]) + 1
        ours.append(evaluate_sequence(pred, gt))
        theirs_pred = pred.copy()
        theirs_pred[0] = gt[0]
        s, p = toolkit._calc_curves(*toolkit._calc_metrics(theirs_pred, gt))
        succ.append(s)
        prec.append(p)
        np.testing.assert_allclose(ours[-1].success, s, atol=1e-6)
        np.testing.assert_allclose(ours[-1].precision, p, atol=1e-6)
    scores = summarize(ours)
    assert scores.auc == pytest.approx(np.mean(np.mean(succ, axis=0)), abs=1e-6)
    assert scores.precision == pytest.approx(np.mean(prec, axis=0)[20], abs=1e-6)


def test_lasot_protocol_counts_hidden_frames_as_failures() -> None:
    from evaluation.analysis.protocols import lasot_sequence_metrics
    gt = np.array([[10, 10, 20, 20]] * 6, dtype=float)
    visible = np.array([True, True, False, True, True, True])
    pred = gt.copy()
    pred[4] = [0, 0, 0, 0]  # zero size: the previous prediction is used
    pred[5] = [200, 200, 20, 20]  # lost
    m = lasot_sequence_metrics(pred, gt, visible)
    assert m.n_frames == 6
    assert m.success[0] == pytest.approx(4 / 6)  # frames 0, 1, 3, 4 overlap; 2 hidden; 5 lost
    assert m.precision[20] == pytest.approx(4 / 6)
    assert m.norm_precision[20] == pytest.approx(4 / 6)
    gt_bad = gt.copy()
    gt_bad[1] = [10, 10, 0, 20]  # visible but no usable box: fails IoU and precision, passes norm. precision
    m = lasot_sequence_metrics(gt_bad, gt_bad, None)
    assert m.success[0] == pytest.approx(5 / 6) and m.precision[20] == pytest.approx(5 / 6)
    assert m.norm_precision[20] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="r.txt: 5 predictions for 6"):
        lasot_sequence_metrics(gt[:5], gt, visible, source="r.txt")


def test_got10k_protocol_excludes_the_first_and_absent_frames() -> None:
    from evaluation.analysis.protocols import got10k_frame_ious, got10k_scores
    gt = np.array([[10, 10, 20, 20]] * 5, dtype=float)
    pred = gt.copy()
    pred[2] = [20, 10, 20, 20]  # IoU 1/3
    pred[3] = [500, 500, 5, 5]  # absent frame: not counted
    ious = got10k_frame_ious(pred, gt, np.array([True, True, True, False, True]))
    np.testing.assert_allclose(ious, [1, 1 / 3, 1])
    scores = got10k_scores([ious, np.array([0.6])])
    assert scores.ao == pytest.approx((2 + 1 / 3 + 0.6) / 4)
    assert (scores.sr50, scores.sr75, scores.n_frames) == (0.75, 0.5, 4)
    # Clipped to a 30 px wide image (the toolkit's bound): pred [20,0,10,10], gt [10,0,20,10]: IoU 1/2, not 1/3.
    clipped = got10k_frame_ious(np.array([[0, 0, 5, 5], [20, 0, 20, 10]]), np.array([[0, 0, 5, 5], [10, 0, 20, 10]]),
                                bound_wh=(30, 100))
    np.testing.assert_allclose(clipped, [0.5])
    np.testing.assert_allclose(got10k_frame_ious(np.array([[0, 0, 5, 5], [20, 0, 20, 10]]),
                                                 np.array([[0, 0, 5, 5], [10, 0, 20, 10]])), [1 / 3])


def test_protocol_tables_for_got10k_and_lasot(tmp_path: Path) -> None:
    from benchmark_fixtures import boxes as some_boxes
    from evaluation.analysis.protocols import (format_protocol_table, got10k_frame_ious, got10k_scores,
                                               protocol_for, protocol_table)
    from evaluation.boxes_io import write_boxes_txt
    from evaluation.datasets.got10k import got10k_resolution
    from evaluation.tracker import Tracker
    settings = Settings(got10k_path=str(make_got10k(tmp_path / "g")), lasot_path=str(make_lasot(tmp_path / "l")),
                        results_path=str(tmp_path / "results"))
    val, lasot = get_dataset("got10k_val", settings=settings), get_dataset("lasot", settings=settings)
    assert (protocol_for(val), protocol_for(lasot), protocol_for(val + lasot)) == ("got10k", "lasot", None)
    runs = [Tracker("fake", "centroid", run_id=k, settings=settings, check=False) for k in range(2)]
    for k, run in enumerate(runs):
        run.results_dir.mkdir(parents=True)
        for seq in val + lasot:
            pred = seq.ground_truth_rect + some_boxes(len(seq), seed=k) * [0.1, 0.1, 0, 0]
            write_boxes_txt(run.result_file(seq), np.nan_to_num(pred, nan=1.0))
    headers, rows = protocol_table("got10k", {"fake": runs}, val)
    expected = got10k_scores([np.concatenate([got10k_frame_ious(np.loadtxt(r.result_file(s)), s.ground_truth_rect,
                                                                s.target_visible, got10k_resolution(s))
                                              for r in runs]) for s in val])
    assert headers[:4] == ["Tracker", "AO", "SR0.50", "SR0.75"]
    assert rows[0][1:] == pytest.approx([expected.ao, expected.sr50, expected.sr75, 2])
    headers, rows = protocol_table("lasot", {"fake": runs}, lasot)
    assert headers[1:4] == ["AUC", "Precision", "Norm. precision"] and 0 < rows[0][1] < 1
    text = format_protocol_table("lasot", headers, rows)
    assert text.splitlines()[0].startswith("LaSOT protocol") and text.splitlines()[3].startswith("fake ")


def _relay(frames: list[str], folder: Path, pattern: str, start: int = 1) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i, frame in enumerate(frames, start=start):
        (folder / pattern.format(i)).symlink_to(frame)


def test_shared_otb_sequence_relaid_in_every_layout_gives_the_same_boxes_and_scores(otb2013_dir: Path,
                                                                                      tmp_path: Path) -> None:
    from evaluation.analysis.metrics import evaluate_sequence
    deer = get_dataset("otb2013", settings=Settings(otb2013_path=str(otb2013_dir), otb2013_anno_path=str(
        otb2013_dir / "annotations" / "cvpr13_anno")))["Deer"]
    if not Path(deer.frames[0]).is_file():
        pytest.skip("OTB2013 Deer frames absent")
    one_based = deer.ground_truth_rect + [1, 1, 0, 0]
    zero_based = deer.ground_truth_rect
    n = len(deer)
    roots = {key: tmp_path / key for key in ("dtb70", "tc128", "lasot", "got10k", "vot", "nfs", "trackingnet")}
    _relay(deer.frames, roots["dtb70"] / "Deer" / "img", "{:05d}.jpg")
    np.savetxt(roots["dtb70"] / "Deer" / "groundtruth_rect.txt", one_based, fmt="%g", delimiter=",")
    _relay(deer.frames, roots["tc128"] / "Deer" / "img", "{:04d}.jpg")
    np.savetxt(roots["tc128"] / "Deer" / "Deer_gt.txt", one_based, fmt="%g", delimiter=",")
    (roots["tc128"] / "Deer" / "Deer_frames.txt").write_text(f"1,{n}\n")
    lasot = roots["lasot"] / "airplane" / "airplane-1"
    _relay(deer.frames, lasot / "img", "{:08d}.jpg")
    np.savetxt(lasot / "groundtruth.txt", one_based, fmt="%g", delimiter=",")
    for flags in ("full_occlusion.txt", "out_of_view.txt"):
        (lasot / flags).write_text(",".join("0" * n))
    val = roots["got10k"] / "val"
    _relay(deer.frames, val / "GOT-10k_Val_000001", "{:08d}.jpg")
    (val / "list.txt").write_text("GOT-10k_Val_000001\n")
    np.savetxt(val / "GOT-10k_Val_000001" / "groundtruth.txt", zero_based, fmt="%g", delimiter=",")
    np.savetxt(val / "GOT-10k_Val_000001" / "cover.label", np.full(n, 8), fmt="%d")
    _relay(deer.frames, roots["vot"] / "Deer" / "color", "{:08d}.jpg")
    (roots["vot"] / "list.txt").write_text("Deer\n")
    np.savetxt(roots["vot"] / "Deer" / "groundtruth.txt", zero_based, fmt="%g", delimiter=",")
    _relay(deer.frames, roots["nfs"] / "sequences" / "Deer", "{:05d}.jpg")
    (roots["nfs"] / "anno").mkdir()
    np.savetxt(roots["nfs"] / "anno" / "nfs_Deer.txt", zero_based, fmt="%g", delimiter="\t")
    _relay(deer.frames, roots["trackingnet"] / "TEST" / "frames" / "Deer", "{}.jpg", start=0)
    (roots["trackingnet"] / "TEST" / "anno").mkdir(parents=True)
    np.savetxt(roots["trackingnet"] / "TEST" / "anno" / "Deer.txt", zero_based[:1], fmt="%g", delimiter=",")
    settings = Settings(**{f"{key}_path": str(root) for key, root in roots.items()})

    prediction = zero_based + np.random.default_rng(0).normal(0, 8, zero_based.shape) * [1, 1, 0.2, 0.2]
    reference = evaluate_sequence(prediction, zero_based)
    for name in ("dtb70", "tc128", "lasot", "got10k_val", "vot", "nfs"):
        seq = get_dataset(name, settings=settings)[0]
        assert [Path(f).resolve() for f in seq.frames] == [Path(f).resolve() for f in deer.frames], name
        np.testing.assert_allclose(seq.ground_truth_rect, zero_based, err_msg=name)
        assert evaluate_sequence(prediction, seq.ground_truth_rect).auc == reference.auc
    tn = get_dataset("trackingnet", settings=settings)["Deer"]
    assert [Path(f).resolve() for f in tn.frames] == [Path(f).resolve() for f in deer.frames]  # 10.jpg after 9.jpg
    np.testing.assert_allclose(tn.ground_truth_rect[0], zero_based[0])


def test_every_benchmark_states_its_annotations_pixel_convention() -> None:
    assert set(ANNOTATIONS_ONE_BASED) == set(DATASET_NAMES) - {"synthetic"}
