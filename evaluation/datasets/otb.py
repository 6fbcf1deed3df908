"""OTB2013 (the 51 CVPR 2013 targets) and OTB-100 (``otb``, pytracking's 100 targets).

Layout under the dataset folder (the OTB download): ``<Folder>/img/<frame>.<ext>`` with the
frame number zero-padded to ``nz`` digits, and ``<Folder>/groundtruth_rect[.k].txt`` with one
``x,y,w,h`` box per frame, 1-based (comma, tab or whitespace delimited). Boxes become 0-based
(x-1, y-1) in the ``Sequence``.

Frame ranges follow each benchmark: OTB2013 evaluates David on frames 300-770, Football1
on 1-74, Freeman3 on 1-460, Freeman4 on 1-283 and Tiger1 on all 354 frames; OTB-100
(pytracking's list) keeps those but starts Tiger1 at frame 6 and BlurCar1/3/4 at 247/3/18.
Two targets may share one image folder (Jogging-1/-2, Skating2-1/-2, Human4-2).

OTB2013 ground truth: when ``otb2013_anno_path`` is set, the official annotation
``<otb2013_anno_path>/<name>.txt`` (e.g. ``carDark.txt``, ``jogging-1.txt``) is used first,
since it is the benchmark's own and stays the 2013 version even when the sequence folders
come from an OTB-100 download (where Tiger1's boxes differ); the sequence folder's
``groundtruth_rect[.k].txt`` is the fallback. A target with neither is an error naming both.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from evaluation.data import Sequence, SequenceList
from evaluation.datasets._common import (DatasetNotFoundError, dataset_root, how_to_set, one_based_to_zero_based,
                                         optional_root, read_ground_truth, select_rows)
from evaluation.datasets._benchmark import say_partial
from evaluation.datasets.attributes import OTB100_ATTRIBUTES, OTB2013_ATTRIBUTES
from evaluation.settings import Settings


@dataclass(frozen=True)
class OTBEntry:
    """One OTB target: where its frames and ground truth are.

    Attributes:
        name: target name (unique in its benchmark), e.g. ``Jogging-1``.
        folder: sequence folder under the dataset root (shared by targets of one video).
        start_frame, end_frame: 1-based, inclusive frame numbers evaluated.
        gt_file: ground-truth file inside ``folder``.
        object_class: class label (pytracking's).
        anno_name: OTB2013 official annotation file stem (``carDark``); empty for OTB-100.
        nz: zero padding of frame file names; ext: their extension.
    """

    name: str
    folder: str
    start_frame: int
    end_frame: int
    gt_file: str
    object_class: str
    anno_name: str = ""
    nz: int = 4
    ext: str = "jpg"

    @property
    def num_frames(self) -> int:
        return self.end_frame - self.start_frame + 1

    def frame_paths(self, root: Path) -> list[str]:
        """Image paths of frames ``start_frame..end_frame`` under ``root``."""
        img = root / self.folder / "img"
        return [str(img / f"{i:0{self.nz}d}.{self.ext}") for i in range(self.start_frame, self.end_frame + 1)]


# name          folder        gt_file                anno_name    start   end  object_class
_OTB2013_TABLE = """
Basketball    Basketball    groundtruth_rect.txt   basketball       1   725  person
Bolt          Bolt          groundtruth_rect.txt   bolt             1   350  person
Boy           Boy           groundtruth_rect.txt   boy              1   602  face
Car4          Car4          groundtruth_rect.txt   car4             1   659  car
CarDark       CarDark       groundtruth_rect.txt   carDark          1   393  car
CarScale      CarScale      groundtruth_rect.txt   carScale         1   252  car
Coke          Coke          groundtruth_rect.txt   coke             1   291  other
Couple        Couple        groundtruth_rect.txt   couple           1   140  person
Crossing      Crossing      groundtruth_rect.txt   crossing         1   120  person
David         David         groundtruth_rect.txt   david          300   770  face
David2        David2        groundtruth_rect.txt   david2           1   537  face
David3        David3        groundtruth_rect.txt   david3           1   252  person
Deer          Deer          groundtruth_rect.txt   deer             1    71  mammal
Dog1          Dog1          groundtruth_rect.txt   dog1             1  1350  dog
Doll          Doll          groundtruth_rect.txt   doll             1  3872  other
Dudek         Dudek         groundtruth_rect.txt   dudek            1  1145  face
FaceOcc1      FaceOcc1      groundtruth_rect.txt   faceocc1         1   892  face
FaceOcc2      FaceOcc2      groundtruth_rect.txt   faceocc2         1   812  face
Fish          Fish          groundtruth_rect.txt   fish             1   476  other
FleetFace     FleetFace     groundtruth_rect.txt   fleetface        1   707  face
Football      Football      groundtruth_rect.txt   football         1   362  person head
Football1     Football1     groundtruth_rect.txt   football1        1    74  face
Freeman1      Freeman1      groundtruth_rect.txt   freeman1         1   326  face
Freeman3      Freeman3      groundtruth_rect.txt   freeman3         1   460  face
Freeman4      Freeman4      groundtruth_rect.txt   freeman4         1   283  face
Girl          Girl          groundtruth_rect.txt   girl             1   500  face
Ironman       Ironman       groundtruth_rect.txt   ironman          1   166  person head
Jogging-1     Jogging       groundtruth_rect.1.txt jogging-1        1   307  person
Jogging-2     Jogging       groundtruth_rect.2.txt jogging-2        1   307  person
Jumping       Jumping       groundtruth_rect.txt   jumping          1   313  face
Lemming       Lemming       groundtruth_rect.txt   lemming          1  1336  other
Liquor        Liquor        groundtruth_rect.txt   liquor           1  1741  other
Matrix        Matrix        groundtruth_rect.txt   matrix           1   100  person head
Mhyang        Mhyang        groundtruth_rect.txt   mhyang           1  1490  face
MotorRolling  MotorRolling  groundtruth_rect.txt   motorRolling     1   164  vehicle
MountainBike  MountainBike  groundtruth_rect.txt   mountainBike     1   228  bicycle
Shaking       Shaking       groundtruth_rect.txt   shaking          1   365  face
Singer1       Singer1       groundtruth_rect.txt   singer1          1   351  person
Singer2       Singer2       groundtruth_rect.txt   singer2          1   366  person
Skating1      Skating1      groundtruth_rect.txt   skating1         1   400  person
Skiing        Skiing        groundtruth_rect.txt   skiing           1    81  person
Soccer        Soccer        groundtruth_rect.txt   soccer           1   392  face
Subway        Subway        groundtruth_rect.txt   subway           1   175  person
Suv           Suv           groundtruth_rect.txt   suv              1   945  car
Sylvester     Sylvester     groundtruth_rect.txt   sylvester        1  1345  other
Tiger1        Tiger1        groundtruth_rect.txt   tiger1           1   354  other
Tiger2        Tiger2        groundtruth_rect.txt   tiger2           1   365  other
Trellis       Trellis       groundtruth_rect.txt   trellis          1   569  face
Walking       Walking       groundtruth_rect.txt   walking          1   412  person
Walking2      Walking2      groundtruth_rect.txt   walking2         1   500  person
Woman         Woman         groundtruth_rect.txt   woman            1   597  person
"""

# name          folder        start   end nz ext gt_file             object_class
_OTB100_TABLE = """
Basketball    Basketball       1   725 4 jpg groundtruth_rect.txt   person
Biker         Biker            1   142 4 jpg groundtruth_rect.txt   person head
Bird1         Bird1            1   408 4 jpg groundtruth_rect.txt   bird
Bird2         Bird2            1    99 4 jpg groundtruth_rect.txt   bird
BlurBody      BlurBody         1   334 4 jpg groundtruth_rect.txt   person
BlurCar1      BlurCar1       247   988 4 jpg groundtruth_rect.txt   car
BlurCar2      BlurCar2         1   585 4 jpg groundtruth_rect.txt   car
BlurCar3      BlurCar3         3   359 4 jpg groundtruth_rect.txt   car
BlurCar4      BlurCar4        18   397 4 jpg groundtruth_rect.txt   car
BlurFace      BlurFace         1   493 4 jpg groundtruth_rect.txt   face
BlurOwl       BlurOwl          1   631 4 jpg groundtruth_rect.txt   other
Board         Board            1   698 5 jpg groundtruth_rect.txt   other
Bolt          Bolt             1   350 4 jpg groundtruth_rect.txt   person
Bolt2         Bolt2            1   293 4 jpg groundtruth_rect.txt   person
Box           Box              1  1161 4 jpg groundtruth_rect.txt   other
Boy           Boy              1   602 4 jpg groundtruth_rect.txt   face
Car1          Car1             1  1020 4 jpg groundtruth_rect.txt   car
Car2          Car2             1   913 4 jpg groundtruth_rect.txt   car
Car24         Car24            1  3059 4 jpg groundtruth_rect.txt   car
Car4          Car4             1   659 4 jpg groundtruth_rect.txt   car
CarDark       CarDark          1   393 4 jpg groundtruth_rect.txt   car
CarScale      CarScale         1   252 4 jpg groundtruth_rect.txt   car
ClifBar       ClifBar          1   472 4 jpg groundtruth_rect.txt   other
Coke          Coke             1   291 4 jpg groundtruth_rect.txt   other
Couple        Couple           1   140 4 jpg groundtruth_rect.txt   person
Coupon        Coupon           1   327 4 jpg groundtruth_rect.txt   other
Crossing      Crossing         1   120 4 jpg groundtruth_rect.txt   person
Crowds        Crowds           1   347 4 jpg groundtruth_rect.txt   person
Dancer        Dancer           1   225 4 jpg groundtruth_rect.txt   person
Dancer2       Dancer2          1   150 4 jpg groundtruth_rect.txt   person
David         David          300   770 4 jpg groundtruth_rect.txt   face
David2        David2           1   537 4 jpg groundtruth_rect.txt   face
David3        David3           1   252 4 jpg groundtruth_rect.txt   person
Deer          Deer             1    71 4 jpg groundtruth_rect.txt   mammal
Diving        Diving           1   215 4 jpg groundtruth_rect.txt   person
Dog           Dog              1   127 4 jpg groundtruth_rect.txt   dog
Dog1          Dog1             1  1350 4 jpg groundtruth_rect.txt   dog
Doll          Doll             1  3872 4 jpg groundtruth_rect.txt   other
DragonBaby    DragonBaby       1   113 4 jpg groundtruth_rect.txt   face
Dudek         Dudek            1  1145 4 jpg groundtruth_rect.txt   face
FaceOcc1      FaceOcc1         1   892 4 jpg groundtruth_rect.txt   face
FaceOcc2      FaceOcc2         1   812 4 jpg groundtruth_rect.txt   face
Fish          Fish             1   476 4 jpg groundtruth_rect.txt   other
FleetFace     FleetFace        1   707 4 jpg groundtruth_rect.txt   face
Football      Football         1   362 4 jpg groundtruth_rect.txt   person head
Football1     Football1        1    74 4 jpg groundtruth_rect.txt   face
Freeman1      Freeman1         1   326 4 jpg groundtruth_rect.txt   face
Freeman3      Freeman3         1   460 4 jpg groundtruth_rect.txt   face
Freeman4      Freeman4         1   283 4 jpg groundtruth_rect.txt   face
Girl          Girl             1   500 4 jpg groundtruth_rect.txt   face
Girl2         Girl2            1  1500 4 jpg groundtruth_rect.txt   person
Gym           Gym              1   767 4 jpg groundtruth_rect.txt   person
Human2        Human2           1  1128 4 jpg groundtruth_rect.txt   person
Human3        Human3           1  1698 4 jpg groundtruth_rect.txt   person
Human4_2      Human4           1   667 4 jpg groundtruth_rect.2.txt person
Human5        Human5           1   713 4 jpg groundtruth_rect.txt   person
Human6        Human6           1   792 4 jpg groundtruth_rect.txt   person
Human7        Human7           1   250 4 jpg groundtruth_rect.txt   person
Human8        Human8           1   128 4 jpg groundtruth_rect.txt   person
Human9        Human9           1   305 4 jpg groundtruth_rect.txt   person
Ironman       Ironman          1   166 4 jpg groundtruth_rect.txt   person head
Jogging_1     Jogging          1   307 4 jpg groundtruth_rect.1.txt person
Jogging_2     Jogging          1   307 4 jpg groundtruth_rect.2.txt person
Jump          Jump             1   122 4 jpg groundtruth_rect.txt   person
Jumping       Jumping          1   313 4 jpg groundtruth_rect.txt   face
KiteSurf      KiteSurf         1    84 4 png groundtruth_rect.txt   face
Lemming       Lemming          1  1336 4 jpg groundtruth_rect.txt   other
Liquor        Liquor           1  1741 4 jpg groundtruth_rect.txt   other
Man           Man              1   134 4 jpg groundtruth_rect.txt   face
Matrix        Matrix           1   100 4 jpg groundtruth_rect.txt   person head
Mhyang        Mhyang           1  1490 4 jpg groundtruth_rect.txt   face
MotorRolling  MotorRolling     1   164 4 jpg groundtruth_rect.txt   vehicle
MountainBike  MountainBike     1   228 4 jpg groundtruth_rect.txt   bicycle
Panda         Panda            1  1000 4 jpg groundtruth_rect.txt   mammal
RedTeam       RedTeam          1  1918 4 jpg groundtruth_rect.txt   vehicle
Rubik         Rubik            1  1997 4 jpg groundtruth_rect.txt   other
Shaking       Shaking          1   365 4 jpg groundtruth_rect.txt   face
Singer1       Singer1          1   351 4 jpg groundtruth_rect.txt   person
Singer2       Singer2          1   366 4 jpg groundtruth_rect.txt   person
Skater        Skater           1   160 4 jpg groundtruth_rect.txt   person
Skater2       Skater2          1   435 4 jpg groundtruth_rect.txt   person
Skating1      Skating1         1   400 4 jpg groundtruth_rect.txt   person
Skating2_1    Skating2         1   473 4 jpg groundtruth_rect.1.txt person
Skating2_2    Skating2         1   473 4 jpg groundtruth_rect.2.txt person
Skiing        Skiing           1    81 4 jpg groundtruth_rect.txt   person
Soccer        Soccer           1   392 4 jpg groundtruth_rect.txt   face
Subway        Subway           1   175 4 jpg groundtruth_rect.txt   person
Surfer        Surfer           1   376 4 jpg groundtruth_rect.txt   person head
Suv           Suv              1   945 4 jpg groundtruth_rect.txt   car
Sylvester     Sylvester        1  1345 4 jpg groundtruth_rect.txt   other
Tiger1        Tiger1           6   354 4 jpg groundtruth_rect.txt   other
Tiger2        Tiger2           1   365 4 jpg groundtruth_rect.txt   other
Toy           Toy              1   271 4 jpg groundtruth_rect.txt   other
Trans         Trans            1   124 4 jpg groundtruth_rect.txt   other
Trellis       Trellis          1   569 4 jpg groundtruth_rect.txt   face
Twinnings     Twinnings        1   472 4 jpg groundtruth_rect.txt   other
Vase          Vase             1   271 4 jpg groundtruth_rect.txt   other
Walking       Walking          1   412 4 jpg groundtruth_rect.txt   person
Walking2      Walking2         1   500 4 jpg groundtruth_rect.txt   person
Woman         Woman            1   597 4 jpg groundtruth_rect.txt   person
"""


def _parse_otb2013(table: str) -> tuple[OTBEntry, ...]:
    entries = []
    for line in table.strip().splitlines():
        name, folder, gt_file, anno, start, end, object_class = line.split(maxsplit=6)
        entries.append(OTBEntry(name, folder, int(start), int(end), gt_file, object_class, anno_name=anno))
    return tuple(entries)


def _parse_otb100(table: str) -> tuple[OTBEntry, ...]:
    entries = []
    for line in table.strip().splitlines():
        name, folder, start, end, nz, ext, gt_file, object_class = line.split(maxsplit=7)
        entries.append(OTBEntry(name, folder, int(start), int(end), gt_file, object_class, nz=int(nz), ext=ext))
    return tuple(entries)


#: The 51 OTB2013 targets, in the benchmark's (alphabetical) order.
OTB2013_ENTRIES: tuple[OTBEntry, ...] = _parse_otb2013(_OTB2013_TABLE)

#: The 100 OTB-100 targets with pytracking's names and frame ranges.
OTB100_ENTRIES: tuple[OTBEntry, ...] = _parse_otb100(_OTB100_TABLE)


def _find_anno(anno_root: Path, stem: str) -> Path | None:
    """``<anno_root>/<stem>.txt``, matched case-insensitively (the official names mix cases)."""
    exact = anno_root / f"{stem}.txt"
    if exact.is_file():
        return exact
    wanted = f"{stem}.txt".lower()
    for candidate in anno_root.iterdir():
        if candidate.name.lower() == wanted and candidate.is_file():
            return candidate
    return None


def evaluated_ground_truth(entry: OTBEntry, gt_path: Path) -> np.ndarray:
    """``(N, 4)`` float64 ``[x, y, w, h]`` boxes of ``entry``'s evaluated frames from ``gt_path``,
    **1-based as in the file** (the rows are selected when the file covers the whole video)."""
    return select_rows(read_ground_truth(gt_path), entry.start_frame, entry.end_frame, gt_path)


def otb2013_ground_truth_path(entry: OTBEntry, root: Path, anno_root: Path | None) -> Path | None:
    """The ground-truth file of OTB2013 target ``entry``: the official annotation in ``anno_root``
    when there is one, else ``<root>/<folder>/<gt_file>``; None when neither exists."""
    if anno_root is not None:
        found = _find_anno(anno_root, entry.anno_name)
        if found is not None:
            return found
    path = root / entry.folder / entry.gt_file
    return path if path.is_file() else None


def _extension_on_disk(entry: OTBEntry, root: Path) -> OTBEntry:
    """``entry`` with the frames' extension the copy at ``root`` holds: some copies store a target's
    frames re-encoded (KiteSurf as ``.jpg`` where the benchmark ships ``.png``). Unchanged when the
    listed first frame exists or neither does."""
    first = Path(entry.frame_paths(root)[0])
    if first.is_file():
        return entry
    for ext in ("jpg", "png"):
        if ext != entry.ext and first.with_suffix(f".{ext}").is_file():
            return dataclasses.replace(entry, ext=ext)
    return entry


def _build(entry: OTBEntry, root: Path, gt_path: Path, dataset: str, attributes: tuple[str, ...]) -> Sequence:
    entry = _extension_on_disk(entry, root)
    return Sequence(name=entry.name, frames=entry.frame_paths(root), dataset=dataset,
                    ground_truth_rect=one_based_to_zero_based(evaluated_ground_truth(entry, gt_path)),
                    object_class=entry.object_class, attributes=attributes, start_frame=entry.start_frame)


def otb2013_dataset(settings: Settings) -> SequenceList:
    """The 51 OTB2013 targets from ``otb2013_path`` (ground truth as in the module docstring).

    Raises:
        DatasetNotFoundError: ``otb2013_path`` unset or absent, or a target's ground truth missing.
    """
    root = dataset_root(settings, "otb2013_path", "OTB2013")
    anno_root = optional_root(settings, "otb2013_anno_path", "OTB2013 annotations")
    sequences = SequenceList()
    for entry in OTB2013_ENTRIES:
        gt_path = otb2013_ground_truth_path(entry, root, anno_root)
        if gt_path is None:
            looked = f"{anno_root / (entry.anno_name + '.txt')} nor " if anno_root is not None else ""
            raise DatasetNotFoundError(
                f"OTB2013 target {entry.name}: ground truth not found ({looked}{root / entry.folder / entry.gt_file}): "
                f"{how_to_set('otb2013_anno_path')} (official annotations), or {how_to_set('otb2013_path')}")
        sequences.append(_build(entry, root, gt_path, "otb2013", OTB2013_ATTRIBUTES[entry.name]))
    return sequences


def otb100_dataset(settings: Settings) -> SequenceList:
    """The OTB-100 targets under ``otb_path`` (pytracking's ``otb`` dataset, with attributes).

    A partial copy runs on the targets whose folder is there (said once, naming the first missing).

    Raises:
        DatasetNotFoundError: ``otb_path`` unset or absent, no target folder under it, or a target's
            folder without its ground truth.
    """
    root = dataset_root(settings, "otb_path", "OTB-100")
    sequences = SequenceList()
    for entry in OTB100_ENTRIES:
        if not (root / entry.folder).is_dir():
            continue  # not in this copy
        gt_path = root / entry.folder / entry.gt_file
        if not gt_path.is_file():
            raise DatasetNotFoundError(f"OTB-100 target {entry.name}: ground truth not found at {gt_path}: "
                                       f"{how_to_set('otb_path')}")
        attributes = OTB100_ATTRIBUTES[entry.name.replace("_", "-")]
        sequences.append(_build(entry, root, gt_path, "otb", attributes))
    if not sequences:
        raise DatasetNotFoundError(f"no OTB-100 target folders (e.g. {root / OTB100_ENTRIES[0].folder}) under "
                                   f"{root}: {how_to_set('otb_path')}")
    say_partial("OTB-100", root, sequences.names(), [e.name for e in OTB100_ENTRIES])
    return sequences
