"""How big each benchmark's evaluation set is: sequences and frames (``tables/sizes.txt``), for planning runs.

Frame counts come from this package's own sequence tables where it has them (exact: OTB2013, OTB-100,
TC128, UAV123, UAV20L, UAV123@10fps, NfS), else from a published figure with its kind: ``count``
(counted on the benchmark's files by a public source the table names: LaSOT, LaSOT-ext, GOT-10k,
TrackingNet, VOT, DTB70) or ``paper`` (a paper's stated total); ``None`` where nothing is encoded.
``python -m evaluation.datasets sizes --local`` counts a local copy instead.
"""
from __future__ import annotations

from dataclasses import dataclass

from evaluation.datasets._benchmark import read_table

#: Names in tables, in the order of the README's datasets table.
BENCHMARK_LABELS: dict[str, str] = {
    "otb2013": "OTB2013", "otb": "OTB-100", "tc128": "TC128", "uav123": "UAV123", "uav20l": "UAV20L",
    "uav123_10fps": "UAV123@10fps", "nfs": "NfS (30 fps)", "lasot": "LaSOT", "lasot_ext": "LaSOT-ext",
    "got10k_val": "GOT-10k val", "got10k_test": "GOT-10k test", "trackingnet": "TrackingNet test",
    "vot": "VOT2017/2018",
    "dtb70": "DTB70",
}


@dataclass(frozen=True)
class BenchmarkSize:
    """One benchmark's evaluation set: ``frames`` is ``None`` when not encoded; ``approximate`` when the
    source rounds it; ``source``: ``table`` (summed from the package's sequence table), ``count`` (counted
    on the benchmark's files by the public source ``tables/sizes.txt`` names), ``paper`` or ``none``."""

    name: str
    label: str
    sequences: int
    frames: int | None
    approximate: bool
    source: str


def _table_frames(name: str) -> int:
    if name in ("otb2013", "otb"):
        from evaluation.datasets.otb import OTB100_ENTRIES, OTB2013_ENTRIES

        entries = OTB2013_ENTRIES if name == "otb2013" else OTB100_ENTRIES
        return sum(e.end_frame - e.start_frame + 1 for e in entries)
    if name == "tc128":
        return sum(int(end) - int(start) + 1 for _, start, end in read_table("tc128"))
    if name == "nfs":
        return sum(int(frames) for _, frames in read_table("nfs"))
    version = {"uav123": "UAV123", "uav20l": "UAV20L", "uav123_10fps": "UAV123_10fps"}[name]
    return sum(int(end) - int(start) + 1 for v, _, _, start, end, *_ in read_table("uav123") if v == version)


def benchmark_sizes() -> list[BenchmarkSize]:
    """Every benchmark of ``tables/sizes.txt`` in its order.

    Raises:
        ValueError: a row of the table that is not ``key sequences frames [paper|count]`` (naming the row).
    """
    sizes = []
    for row in read_table("sizes"):
        if len(row) not in (3, 4) or row[0] not in BENCHMARK_LABELS or not row[1].isdigit():
            raise ValueError(f"tables/sizes.txt: bad row {' '.join(row)!r} (expected: key sequences frames [source])")
        name, sequences, frames_text = row[0], int(row[1]), row[2]
        kind = row[3] if len(row) == 4 else "paper"
        if kind not in ("paper", "count"):
            raise ValueError(f"tables/sizes.txt: {name}: source {kind!r} is not 'paper' or 'count'")
        if len(row) == 4 and frames_text in ("table", "-"):
            raise ValueError(f"tables/sizes.txt: {name}: a source ({kind}) only follows a number of frames")
        if frames_text == "table":
            frames, approximate, source = _table_frames(name), False, "table"
        elif frames_text == "-":
            frames, approximate, source = None, False, "none"
        else:
            approximate = frames_text.startswith("~")
            if not frames_text.lstrip("~").isdigit():
                raise ValueError(f"tables/sizes.txt: {name}: frames {frames_text!r} is not a number, 'table' or '-'")
            frames, source = int(frames_text.lstrip("~")), kind
        sizes.append(BenchmarkSize(name, BENCHMARK_LABELS[name], sequences, frames, approximate, source))
    return sizes
