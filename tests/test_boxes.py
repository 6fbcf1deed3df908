"""Box conversions, IoU, init-box validation and box file I/O."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from evaluation.boxes_io import read_boxes_txt, read_values_txt, write_boxes_txt, write_values_txt
from pytracking_siamot.boxes import (
    center_xy, cxcywh_to_xywh, iou_xywh, validate_init_xywh, xywh_to_cxcywh, xywh_to_xyxy, xyxy_to_xywh,
)


def test_conversions_round_trip_and_otb_centre() -> None:
    b = np.array([[10.0, 20.0, 5.0, 7.0], [0.0, 0.0, 1.0, 1.0]])
    assert np.allclose(center_xy(b[0]), [12.0, 23.0])  # x + (w - 1) / 2
    assert np.allclose(cxcywh_to_xywh(xywh_to_cxcywh(b)), b)
    assert np.allclose(xyxy_to_xywh(xywh_to_xyxy(b)), b)
    assert np.allclose(xywh_to_xyxy(b[0]), [10, 20, 15, 27])


def test_iou_hand_values() -> None:
    a = np.array([0.0, 0.0, 10.0, 10.0])
    assert iou_xywh(a, a) == pytest.approx(1.0)
    assert iou_xywh(a, np.array([5.0, 0.0, 10.0, 10.0])) == pytest.approx(50 / 150)
    assert iou_xywh(a, np.array([20.0, 20.0, 5.0, 5.0])) == 0.0
    assert iou_xywh(np.zeros(4), np.zeros(4)) == 0.0


@pytest.mark.parametrize("bad", [[0, 0, 0, 5], [0, 0, 5, -1], [np.nan, 0, 5, 5], [1, 2, 3], "abc"])
def test_validate_init_rejects_bad_boxes(bad: object) -> None:
    with pytest.raises(ValueError):
        validate_init_xywh(bad)


def test_validate_init_outside_image() -> None:
    with pytest.raises(ValueError, match="outside"):
        validate_init_xywh([200, 10, 5, 5], image_shape=(100, 100, 3))
    assert validate_init_xywh([-3, -3, 10, 10], image_shape=(100, 100, 3)).tolist() == [-3, -3, 10, 10]


def test_read_any_delimiter_and_errors(tmp_path: Path) -> None:
    path = tmp_path / "gt.txt"
    path.write_text("1,2,3,4\n5\t6\t7\t8\n9 10  11 12\n13, 14, 15, 16\n\n  \n")  # trailing blank lines end
    assert read_boxes_txt(path).tolist() == [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12], [13, 14, 15, 16]]
    path.write_text("1,2,3,4\n\n5,6,7,8\n")  # rows are frames: a blank line inside would shift the rest
    with pytest.raises(ValueError, match=r"gt.txt:2: blank line between box rows"):
        read_boxes_txt(path)
    path.write_text("1,2,3,4\n1,2,3\n")
    with pytest.raises(ValueError, match=r"gt.txt:2: expected 4 values"):
        read_boxes_txt(path)
    path.write_text("1,2,x,4\n")
    with pytest.raises(ValueError, match=r"gt.txt:1: non-numeric"):
        read_boxes_txt(path)
    with pytest.raises(FileNotFoundError, match="missing.txt"):
        read_boxes_txt(tmp_path / "missing.txt")


def test_write_is_tab_two_decimals_and_atomic(tmp_path: Path) -> None:
    path = tmp_path / "out" / "seq.txt"
    write_boxes_txt(path, np.array([[1.234, 2.0, 3.5, 4.126]]))
    assert path.read_text() == "1.23\t2.00\t3.50\t4.13\n"
    assert [p.name for p in path.parent.iterdir()] == ["seq.txt"]  # no temporary left behind
    write_values_txt(tmp_path / "t.txt", [0.5, 0.25])
    assert read_values_txt(tmp_path / "t.txt").tolist() == [0.5, 0.25]
