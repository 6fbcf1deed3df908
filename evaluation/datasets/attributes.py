"""The OTB challenge attributes: names, descriptions, and the per-target flags of OTB2013 and OTB-100.

Sources (facts encoded here so the package needs no download):

* OTB2013 (51 targets): the benchmark's own per-target flag files (``cvpr13_att/<name>.txt``,
  11 binary flags in the column order ``CVPR13_ATT_FILE_COLUMNS`` = IV, OPR, SV, OCC, DEF, MB,
  FM, IPR, OV, BC, LR -- *not* the usual listing order). These give exactly the per-attribute
  target counts printed in the OTB2013 paper's plots (IV 25, SV 28, OCC 29, DEF 19, MB 12,
  FM 17, IPR 31, OPR 39, OV 6, BC 21, LR 4). The benchmark website's later text list
  (``cvpr13.txt``) differs on two targets -- it adds BC to Coke and FM, OPR to Crossing --
  which gives FM 18, OPR 40, BC 22; we follow the flag files so per-attribute results
  compare with the published OTB2013 ones.
* OTB-100 (100 targets): the benchmark website's ``tb_100.txt`` list (names use ``-`` where
  pytracking's sequence names use ``_``: ``Jogging-1`` = ``Jogging_1``).
"""
from __future__ import annotations

from pathlib import Path
from types import MappingProxyType
from typing import Mapping

#: The 11 attributes in the usual listing order (also the order of per-attribute tables).
ATTRIBUTE_NAMES: tuple[str, ...] = ("IV", "SV", "OCC", "DEF", "MB", "FM", "IPR", "OPR", "OV", "BC", "LR")

#: Column order of the OTB2013 flag files ``cvpr13_att/<name>.txt``.
CVPR13_ATT_FILE_COLUMNS: tuple[str, ...] = ("IV", "OPR", "SV", "OCC", "DEF", "MB", "FM", "IPR", "OV", "BC", "LR")

#: Full names and the benchmark's criteria, in our words.
ATTRIBUTE_DESCRIPTIONS: Mapping[str, str] = MappingProxyType({
    "IV": "Illumination Variation: the lighting of the target region changes strongly.",
    "SV": "Scale Variation: the box size leaves the range [1/2, 2] times its first-frame size.",
    "OCC": "Occlusion: other objects hide the target partly or completely.",
    "DEF": "Deformation: the target changes shape (non-rigid object).",
    "MB": "Motion Blur: the target appears blurred by its own or the camera's motion.",
    "FM": "Fast Motion: the ground-truth box moves by more than 20 pixels between frames.",
    "IPR": "In-Plane Rotation: the target turns within the image plane.",
    "OPR": "Out-of-Plane Rotation: the target turns out of the image plane.",
    "OV": "Out-of-View: part of the target leaves the image.",
    "BC": "Background Clutter: the surroundings of the target have colours or texture like it.",
    "LR": "Low Resolution: the ground-truth box covers fewer than 400 pixels.",
})

#: Short names for plot titles ("illumination variation").
ATTRIBUTE_TITLES: Mapping[str, str] = MappingProxyType({
    key: text.split(":", 1)[0].lower() for key, text in ATTRIBUTE_DESCRIPTIONS.items()
})


def _parse(table: str) -> Mapping[str, tuple[str, ...]]:
    parsed: dict[str, tuple[str, ...]] = {}
    for line in table.strip().splitlines():
        name, *flags = line.split()
        unknown = set(flags) - set(ATTRIBUTE_NAMES)
        if unknown:  # a typo in the table below; fail at import, not in a plot
            raise ValueError(f"attribute table: unknown attribute(s) {sorted(unknown)} for {name}")
        parsed[name] = tuple(a for a in ATTRIBUTE_NAMES if a in flags)
    return MappingProxyType(parsed)


# target  attributes (from cvpr13_att flag files)
_OTB2013 = """
Basketball    IV OCC DEF OPR BC
Bolt          OCC DEF IPR OPR
Boy           SV MB FM IPR OPR
Car4          IV SV
CarDark       IV BC
CarScale      SV OCC FM IPR OPR
Coke          IV OCC FM IPR OPR
Couple        SV DEF FM OPR BC
Crossing      SV DEF BC
David         IV SV OCC DEF MB IPR OPR
David2        IPR OPR
David3        OCC DEF OPR BC
Deer          MB FM IPR BC LR
Dog1          SV IPR OPR
Doll          IV SV OCC IPR OPR
Dudek         SV OCC DEF FM IPR OPR OV BC
FaceOcc1      OCC
FaceOcc2      IV OCC IPR OPR
Fish          IV
FleetFace     SV DEF MB FM IPR OPR
Football      OCC IPR OPR BC
Football1     IPR OPR BC
Freeman1      SV IPR OPR
Freeman3      SV IPR OPR
Freeman4      SV OCC IPR OPR
Girl          SV OCC IPR OPR
Ironman       IV SV OCC MB FM IPR OPR OV BC LR
Jogging-1     OCC DEF OPR
Jogging-2     OCC DEF OPR
Jumping       MB FM
Lemming       IV SV OCC FM OPR OV
Liquor        IV SV OCC MB FM OPR OV BC
Matrix        IV SV OCC FM IPR OPR BC
Mhyang        IV DEF OPR BC
MotorRolling  IV SV MB FM IPR BC LR
MountainBike  IPR OPR BC
Shaking       IV SV IPR OPR BC
Singer1       IV SV OCC OPR
Singer2       IV DEF IPR OPR BC
Skating1      IV SV OCC DEF OPR BC
Skiing        IV SV DEF IPR OPR
Soccer        IV SV OCC MB FM IPR OPR BC
Subway        OCC DEF BC
Suv           OCC IPR OV
Sylvester     IV IPR OPR
Tiger1        IV OCC DEF MB FM IPR OPR
Tiger2        IV OCC DEF MB FM IPR OPR OV
Trellis       IV SV IPR OPR BC
Walking       SV OCC DEF
Walking2      SV OCC LR
Woman         IV SV OCC DEF MB FM OPR
"""

# target  attributes (from tb_100.txt)
_OTB100 = """
Basketball    IV OCC DEF OPR BC
Biker         SV OCC MB FM OPR OV LR
Bird1         DEF FM OV
Bird2         OCC DEF FM IPR OPR
BlurBody      SV DEF MB FM IPR
BlurCar1      MB FM
BlurCar2      SV MB FM
BlurCar3      MB FM
BlurCar4      MB FM
BlurFace      MB FM IPR
BlurOwl       SV MB FM IPR
Board         SV MB FM OPR OV BC
Bolt          OCC DEF IPR OPR
Bolt2         DEF BC
Box           IV SV OCC MB IPR OPR OV BC LR
Boy           SV MB FM IPR OPR
Car1          IV SV MB FM BC LR
Car2          IV SV MB FM BC
Car24         IV SV BC
Car4          IV SV
CarDark       IV BC
CarScale      SV OCC FM IPR OPR
ClifBar       SV OCC MB FM IPR OV BC
Coke          IV OCC FM IPR OPR BC
Couple        SV DEF FM OPR BC
Coupon        OCC BC
Crossing      SV DEF FM OPR BC
Crowds        IV DEF BC
Dancer        SV DEF IPR OPR
Dancer2       DEF
David         IV SV OCC DEF MB IPR OPR
David2        IPR OPR
David3        OCC DEF OPR BC
Deer          MB FM IPR BC LR
Diving        SV DEF IPR
Dog           SV DEF OPR
Dog1          SV IPR OPR
Doll          IV SV OCC IPR OPR
DragonBaby    SV OCC MB FM IPR OPR OV
Dudek         SV OCC DEF FM IPR OPR OV BC
FaceOcc1      OCC
FaceOcc2      IV OCC IPR OPR
Fish          IV
FleetFace     SV DEF MB FM IPR OPR
Football      OCC IPR OPR BC
Football1     IPR OPR BC
Freeman1      SV IPR OPR
Freeman3      SV IPR OPR
Freeman4      SV OCC IPR OPR
Girl          SV OCC IPR OPR
Girl2         SV OCC DEF MB OPR
Gym           SV DEF IPR OPR
Human2        IV SV MB OPR
Human3        SV OCC DEF OPR BC
Human4-2      IV SV OCC DEF
Human5        SV OCC DEF
Human6        SV OCC DEF FM OPR OV
Human7        IV SV OCC DEF MB FM
Human8        IV SV DEF
Human9        IV SV DEF MB FM
Ironman       IV SV OCC MB FM IPR OPR OV BC LR
Jogging-1     OCC DEF OPR
Jogging-2     OCC DEF OPR
Jump          SV OCC DEF MB FM IPR OPR
Jumping       MB FM
KiteSurf      IV OCC IPR OPR
Lemming       IV SV OCC FM OPR OV
Liquor        IV SV OCC MB FM OPR OV BC
Man           IV
Matrix        IV SV OCC FM IPR OPR BC
Mhyang        IV DEF OPR BC
MotorRolling  IV SV MB FM IPR BC LR
MountainBike  IPR OPR BC
Panda         SV OCC DEF IPR OPR OV LR
RedTeam       SV OCC IPR OPR LR
Rubik         SV OCC IPR OPR
Shaking       IV SV IPR OPR BC
Singer1       IV SV OCC OPR
Singer2       IV DEF IPR OPR BC
Skater        SV DEF IPR OPR
Skater2       SV DEF FM IPR OPR
Skating1      IV SV OCC DEF OPR BC
Skating2-1    SV OCC DEF FM OPR
Skating2-2    SV OCC DEF FM OPR
Skiing        IV SV DEF IPR OPR
Soccer        IV SV OCC MB FM IPR OPR BC
Subway        OCC DEF BC
Surfer        SV FM IPR OPR LR
Suv           OCC IPR OV
Sylvester     IV IPR OPR
Tiger1        IV OCC DEF MB FM IPR OPR
Tiger2        IV OCC DEF MB FM IPR OPR OV
Toy           SV FM IPR OPR
Trans         IV SV OCC DEF
Trellis       IV SV IPR OPR BC
Twinnings     SV OPR
Vase          SV FM IPR
Walking       SV OCC DEF
Walking2      SV OCC LR
Woman         IV SV OCC DEF MB FM OPR
"""

#: OTB2013 target name -> attributes (51 targets).
OTB2013_ATTRIBUTES: Mapping[str, tuple[str, ...]] = _parse(_OTB2013)

#: OTB-100 target name (``-`` spelling) -> attributes (100 targets).
OTB100_ATTRIBUTES: Mapping[str, tuple[str, ...]] = _parse(_OTB100)


def attributes_from_flags(flags: list[int] | tuple[int, ...],
                          columns: tuple[str, ...] = CVPR13_ATT_FILE_COLUMNS) -> tuple[str, ...]:
    """Attribute names of a 0/1 flag row (default: the ``cvpr13_att`` column order), in listing order."""
    if len(flags) != len(columns):
        raise ValueError(f"expected {len(columns)} attribute flags, got {len(flags)}")
    on = {name for name, flag in zip(columns, flags) if int(flag)}
    return tuple(a for a in ATTRIBUTE_NAMES if a in on)


# --------------------------------------------------------------------------- other benchmarks' attributes

#: UAV123's 12 attributes in the benchmark's order (UAV123@10fps shares the per-sequence flags): the
#: column order of its flag files ``anno/UAV123/att/<seq>.txt`` and ``anno/UAV20L/att/<seq>.txt`` (the
#: attribute table of the download's DatasetAnnotation.pdf and its toolkit's perfPlot.m attName list).
UAV123_ATTRIBUTE_NAMES: tuple[str, ...] = ("SV", "ARC", "LR", "FM", "FOC", "POC", "OV", "BC", "IV", "VC", "CM", "SOB")

#: LaSOT's 14 attributes in the benchmark's order (the column order of its evaluation toolkit's
#: ``annos/att/<seq>.txt`` flag files and of its ``att_name`` list).
LASOT_ATTRIBUTE_NAMES: tuple[str, ...] = ("IV", "POC", "DEF", "MB", "CM", "ROT", "BC", "VC", "SV", "FOC", "FM",
                                          "OV", "LR", "ARC")

#: DTB70's 10 named attributes in its toolkit's order.
DTB70_ATTRIBUTE_NAMES: tuple[str, ...] = ("SV", "ARV", "OCC", "DEF", "FCM", "IPR", "OPR", "OV", "BC", "SOA")

#: Full names of the attributes other benchmarks define beyond OTB's (UAV123, LaSOT, DTB70; TC128 uses OTB's).
BENCHMARK_ATTRIBUTE_DESCRIPTIONS: Mapping[str, str] = MappingProxyType({
    "ARC": "Aspect Ratio Change: the box's aspect ratio changes by more than a factor of 2 (UAV123, LaSOT).",
    "FOC": "Full Occlusion: the target is fully occluded (UAV123, LaSOT).",
    "POC": "Partial Occlusion: the target is partly occluded (UAV123, LaSOT).",
    "VC": "Viewpoint Change: the viewpoint affects the target's appearance strongly (UAV123, LaSOT).",
    "CM": "Camera Motion: abrupt motion of the camera (UAV123, LaSOT).",
    "SOB": "Similar Object: objects of similar shape or type near the target (UAV123).",
    "ROT": "Rotation: the target rotates in the image (LaSOT).",
    "ARV": "Aspect Ratio Variation: the box's aspect ratio changes strongly (DTB70).",
    "FCM": "Fast Camera Motion: the drone's camera moves abruptly (DTB70).",
    "SOA": "Similar Objects Around: objects that look like the target are near it (DTB70).",
})


def check_benchmark_attributes(table: Mapping[str, tuple[str, ...]], names: tuple[str, ...], label: str) -> None:
    """Raise ``ValueError`` when ``table`` flags an attribute outside ``names`` (a typo in a table file)."""
    for sequence, flags in table.items():
        unknown = set(flags) - set(names)
        if unknown:
            raise ValueError(f"{label} attribute table: unknown attribute(s) {sorted(unknown)} for {sequence}")


# --------------------------------------------------------------------------- a local copy's attribute files

def read_flag_file(path: Path, columns: tuple[str, ...]) -> tuple[str, ...]:
    """The attributes flagged in a benchmark's per-sequence flag file: one row of ``len(columns)`` 0/1
    flags, comma- or space-separated, in the benchmark's column order ``columns``; names in that order.

    Raises:
        ValueError: the file does not hold exactly that many 0/1 flags (the file and what it holds named).
    """
    text = Path(path).read_text(encoding="utf-8", errors="replace")
    tokens = [t for t in text.replace(",", " ").split() if t]
    if len(tokens) != len(columns) or any(t not in ("0", "1") for t in tokens):
        raise ValueError(f"{path}: expected {len(columns)} attribute flags (0 or 1, in the order "
                         f"{' '.join(columns)}), got {' '.join(tokens)[:80]!r}")
    return tuple(name for name, flag in zip(columns, tokens) if flag == "1")


def read_name_file(path: Path, names: tuple[str, ...]) -> tuple[str, ...]:
    """The attributes listed by name in a per-sequence attribute file (one or more per line, separated
    by commas or spaces, any case), in the order of ``names``.

    Raises:
        ValueError: a token is not one of ``names`` or the file lists none (the file and token named).
    """
    text = Path(path).read_text(encoding="utf-8", errors="replace")
    tokens = [t.upper() for t in text.replace(",", " ").split() if t]
    unknown = [t for t in tokens if t not in names]
    if unknown or not tokens:
        raise ValueError(f"{path}: expected attribute names out of {' '.join(names)}, got "
                         f"{' '.join(unknown)[:80] if unknown else 'nothing'!r}")
    return tuple(name for name in names if name in tokens)
