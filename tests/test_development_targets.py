"""The development targets of the robustness experiments: every real target on disk, benchmark by benchmark."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from benchmark_fixtures import make_dtb70, make_vot
from evaluation.datasets import OTB2013_ENTRIES, DatasetNotFoundError
from evaluation.experiments import ablation


def _otb2013_with_one_target_on_disk(root: Path, name: str) -> None:
    """Ground truth for every OTB2013 target, frames only for ``name``."""
    for entry in OTB2013_ENTRIES:
        gt = root / entry.folder / entry.gt_file
        gt.parent.mkdir(parents=True, exist_ok=True)
        gt.write_text("1,1,10,20\n" * entry.num_frames)
        if entry.name == name:
            (root / entry.folder / "img").mkdir(parents=True, exist_ok=True)
            for i in range(entry.start_frame, entry.end_frame + 1):
                cv2.imwrite(str(root / entry.folder / "img" / f"{i:0{entry.nz}d}.{entry.ext}"),
                            np.zeros((8, 8, 3), np.uint8))


def test_development_targets_join_each_benchmark_on_disk_and_skip_unset_ones(tmp_path: Path, monkeypatch) -> None:
    _otb2013_with_one_target_on_disk(tmp_path / "otb2013", "Deer")
    monkeypatch.setenv("SIAMOT_OTB2013_PATH", str(tmp_path / "otb2013"))
    monkeypatch.setenv("SIAMOT_DTB70_PATH", str(make_dtb70(tmp_path / "dtb70")))
    monkeypatch.setenv("SIAMOT_VOT_PATH", str(make_vot(tmp_path / "vot")))
    for key in ("OTB_PATH", "UAV123_10FPS_PATH"):  # unset: skipped, not an error
        monkeypatch.setenv(f"SIAMOT_{key}", "")
    targets = ablation.development_targets()
    assert targets.names() == ["Deer", "Gull2", "Surfing06", "book", "ball"]
    trackers, sequences = ablation.robustness("efficientnet_lite0")
    assert sequences.names() == targets.names()
    names = [t.display_name for t in trackers]
    assert names[:2] == ["efficientnet_lite0@default", "efficientnet_lite0@baseline"]
    assert not any(n.endswith("@paper") for n in names)


def test_development_targets_need_otb2013(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SIAMOT_OTB2013_PATH", str(tmp_path / "nothing"))
    with pytest.raises(DatasetNotFoundError, match=r"OTB2013 not found at .*nothing.*SIAMOT_OTB2013_PATH"):
        ablation.development_targets()
