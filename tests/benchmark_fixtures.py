"""Tiny copies of each benchmark in its official layout (320x240 frames, a few sequences, the awkward cases)."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

def _frame() -> np.ndarray:
    image = np.full((240, 320, 3), 90, np.uint8)
    image[20:40, 10:40] = 255  # a bright target near the fixtures' first boxes (a centroid tracker follows it)
    return image


_JPEG = cv2.imencode(".jpg", _frame())[1].tobytes()


def jpgs(folder: Path, names) -> list[Path]:
    """Write one tiny JPEG per name (``names``: file names) in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / n for n in names]
    for p in paths:
        p.write_bytes(_JPEG)
    return paths


def boxes(n: int, seed: int = 0, x0: float = 10.0) -> np.ndarray:
    """``(n, 4)`` plausible ``xywh`` boxes (drifting, positive sizes)."""
    rng = np.random.default_rng(seed)
    out = np.empty((n, 4))
    out[:, 0] = x0 + np.cumsum(rng.uniform(-1, 1, n))
    out[:, 1] = 20 + np.cumsum(rng.uniform(-1, 1, n))
    out[:, 2] = 30 + rng.uniform(-3, 3, n)
    out[:, 3] = 20 + rng.uniform(-3, 3, n)
    return np.round(out, 2)


def write_rows(path: Path, rows: np.ndarray, delimiter: str = ",", fmt: str = "%.2f") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savetxt(path, rows, fmt=fmt, delimiter=delimiter)


def make_dtb70(root: Path) -> Path:
    for name, n in (("Gull2", 5), ("Surfing06", 3)):
        jpgs(root / name / "img", [f"{i:05d}.jpg" for i in range(1, n + 1)])
        write_rows(root / name / "groundtruth_rect.txt", boxes(n, seed=n))
    return root


def make_tc128(root: Path) -> Path:
    # Frames 3..6 of an 8-frame video are evaluated.
    jpgs(root / "Ball_ce1" / "img", [f"{i:04d}.jpg" for i in range(1, 9)])
    (root / "Ball_ce1" / "Ball_ce1_frames.txt").write_text("3,6\n")
    write_rows(root / "Ball_ce1" / "Ball_ce1_gt.txt", boxes(4, seed=1))
    jpgs(root / "Basketball" / "img", [f"{i:04d}.jpg" for i in range(1, 5)])
    (root / "Basketball" / "Basketball_frames.txt").write_text("1,4\n")
    write_rows(root / "Basketball" / "Basketball_gt.txt", boxes(4, seed=2))
    return root


def make_uav123_10fps(root: Path) -> Path:
    """car1 split into car1_1 (1-251), car1_2 (251-543), car1_3 (543-877) over one folder; a NaN row."""
    jpgs(root / "data_seq" / "UAV123_10fps" / "car1", [f"{i:06d}.jpg" for i in range(1, 878)])
    for name, (start, end) in {"car1_1": (1, 251), "car1_2": (251, 543), "car1_3": (543, 877)}.items():
        gt = boxes(end - start + 1, seed=start)
        if name == "car1_2":
            gt[5] = np.nan
        write_rows(root / "anno" / "UAV123_10fps" / f"{name}.txt", gt)
    return root


def make_uav123(root: Path) -> Path:
    """UAV123's bird1_1..3 (frames 1-253, 775-1477, 1573-2437 of bird1) and UAV20L's bird1 (1-2437)."""
    jpgs(root / "data_seq" / "UAV123" / "bird1", [f"{i:06d}.jpg" for i in (1, 253, 775, 2437)])
    for name, (start, end) in {"bird1_1": (1, 253), "bird1_2": (775, 1477), "bird1_3": (1573, 2437)}.items():
        write_rows(root / "anno" / "UAV123" / f"{name}.txt", boxes(end - start + 1, seed=start))
    write_rows(root / "anno" / "UAV20L" / "bird1.txt", boxes(2437, seed=9))
    (root / "data_seq" / "UAV123" / "spare").mkdir()  # the GOT-10k toolkit wants > 3 entries in the root
    (root / "README.txt").write_text("UAV123\n")
    (root / "configSeqs.m").write_text("% ranges\n")
    return root


def nfs_rows(n_rows: int, seed: int = 0) -> list[str]:
    b = boxes(n_rows, seed=seed)
    return [f'1 {x:.0f} {y:.0f} {x + w:.0f} {y + h:.0f} {i + 1} {int(i % 16 == 8)} 0 0 "person"'
            for i, (x, y, w, h) in enumerate(b)]


def make_nfs(root: Path) -> Path:
    """Official layout: Gymnastics with 240 fps rows (8 per frame, one extra), airboard_1 with 30 fps rows."""
    jpgs(root / "Gymnastics" / "30" / "Gymnastics", [f"{i:05d}.jpg" for i in range(1, 6)])
    (root / "Gymnastics" / "30" / "Gymnastics.txt").write_text("\n".join(nfs_rows(41, 3)) + "\n")
    jpgs(root / "airboard_1" / "30" / "airboard_1", [f"{i:05d}.jpg" for i in range(1, 5)])
    (root / "airboard_1" / "30" / "airboard_1.txt").write_text("\n".join(nfs_rows(4, 4)) + "\n")
    return root


def make_lasot(root: Path, names=("airplane-1", "airplane-9", "basketball-1")) -> Path:
    for k, name in enumerate(names):
        folder = root / name.rsplit("-", 1)[0] / name
        n = 6 + k
        jpgs(folder / "img", [f"{i:08d}.jpg" for i in range(1, n + 1)])
        write_rows(folder / "groundtruth.txt", boxes(n, seed=k), fmt="%d")
        occlusion = [0] * n
        occlusion[2] = 1
        out_of_view = [0] * n
        out_of_view[3 + k % 2] = 1
        (folder / "full_occlusion.txt").write_text(",".join(map(str, occlusion)))
        (folder / "out_of_view.txt").write_text(",".join(map(str, out_of_view)))
        (folder / "nlp.txt").write_text("the target\n")
    return root


def make_got10k(root: Path) -> Path:
    """val: two sequences with absent frames; test: two with first-row-only ground truth."""
    val = root / "val"
    names = ["GOT-10k_Val_000001", "GOT-10k_Val_000002"]
    (val).mkdir(parents=True)
    (val / "list.txt").write_text("\n".join(names) + "\n")
    for k, name in enumerate(names):
        n = 7 + k
        jpgs(val / name, [f"{i:08d}.jpg" for i in range(1, n + 1)])
        gt = boxes(n, seed=10 + k)
        cover = np.full(n, 8)
        cover[3] = 0
        absence = (cover == 0).astype(int)
        gt[3] = [0, 0, 0, 0] if k == 0 else gt[3]
        write_rows(val / name / "groundtruth.txt", gt, fmt="%.4f")
        np.savetxt(val / name / "cover.label", cover, fmt="%d")
        np.savetxt(val / name / "absence.label", absence, fmt="%d")
        np.savetxt(val / name / "cut_by_image.label", np.zeros(n), fmt="%d")
        (val / name / "meta_info.ini").write_text(
            "[METAINFO]\nurl: https://example.org/v\nbegin_time: 0\nend_time: 1\nanno_fps: 10Hz\n"
            "object_class: ant\nmotion_class: crawling\nmajor_class: insect\nroot_class: animal\n"
            "motion_adverb: slowly\nresolution: (64, 48)\n")
    test = root / "test"
    tnames = ["GOT-10k_Test_000001", "GOT-10k_Test_000002"]
    test.mkdir()
    (test / "list.txt").write_text("\n".join(tnames) + "\n")
    for k, name in enumerate(tnames):
        jpgs(test / name, [f"{i:08d}.jpg" for i in range(1, 5 + k)])
        write_rows(test / name / "groundtruth.txt", boxes(1, seed=20 + k), fmt="%.4f")
    return root


def make_trackingnet(root: Path) -> Path:
    """TEST with frames 0..11 (``10.jpg`` sorts before ``2.jpg`` as strings) and first-row annotations."""
    for k, name in enumerate(["-0G5nPD9vRw_0", "zzKq3Yr9xbo_1"]):
        jpgs(root / "TEST" / "frames" / name, [f"{i}.jpg" for i in range(12 - k)])
        write_rows(root / "TEST" / "anno" / f"{name}.txt", boxes(1, seed=30 + k), fmt="%.4f")
    return root


POLYGON = [199.0, 49.0, 287.0, 49.0, 287.0, 113.0, 199.0, 113.0]
ROTATED = [172.3, 62.928, 256.27, 69.593, 251.25, 132.75, 167.29, 126.09]


def make_vot(root: Path, color: bool = True) -> Path:
    """book (polygons) and ball (4-number boxes); frames in ``<seq>/color/`` or directly in ``<seq>/``."""
    (root).mkdir(parents=True, exist_ok=True)
    (root / "list.txt").write_text("book\nball\n")
    for name, rows in (("book", [POLYGON, ROTATED, ROTATED]), ("ball", [[10, 12, 30, 20]] * 4)):
        image_dir = root / name / "color" if color else root / name
        jpgs(image_dir, [f"{i:08d}.jpg" for i in range(1, len(rows) + 1)])
        (root / name / "groundtruth.txt").write_text("\n".join(",".join(f"{v:g}" for v in r) for r in rows) + "\n")
    return root
