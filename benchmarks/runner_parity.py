"""Check that serial, process-pool and Dask runs of a real tracker write identical result files.

Runs one tracker configuration on the first frames of a few synthetic sequences in three
modes (serial, ``--threads 2`` pool, and a local two-process Dask cluster) into separate
temporary results folders, then compares the boxes and state files byte for byte (timings
differ by nature and are left out) and prints the wall time of each mode.

    python benchmarks/runner_parity.py --tracker siamot --param mobilenet_v2 --frames 15
"""
from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's packages first, not the installed ones
from evaluation.cli_help import PlainHelpFormatter
from evaluation.data import Sequence, SequenceList
from evaluation.running import run_dataset
from evaluation.settings import Settings
from evaluation.tracker import Tracker


def _first_frames(sequence: Sequence, n_frames: int) -> Sequence:
    return Sequence(sequence.name, sequence.frames[:n_frames], sequence.dataset,
                    sequence.ground_truth_rect[:n_frames], attributes=sequence.attributes,
                    frame_loader=sequence.frame_loader)


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()[:16] for p in sorted(folder.iterdir())
            if not p.name.endswith("_time.txt")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=PlainHelpFormatter)
    parser.add_argument("--tracker", default="siamot", help="tracker name (default: siamot)")
    parser.add_argument("--param", default="mobilenet_v2", help="parameter name (default: mobilenet_v2)")
    parser.add_argument("--sequences", type=int, default=2, help="number of synthetic sequences (default: 2)")
    parser.add_argument("--frames", type=int, default=15, help="frames per sequence (default: 15)")
    parser.add_argument("--modes", nargs="+", default=["serial", "pool", "dask"],
                        choices=["serial", "pool", "dask"], help="modes to compare (default: all three)")
    args = parser.parse_args(argv)

    from evaluation.datasets import get_dataset

    dataset = SequenceList(_first_frames(s, args.frames) for s in get_dataset("synthetic")[:args.sequences])
    digests: dict[str, dict[str, str]] = {}
    with tempfile.TemporaryDirectory(prefix="siamot_parity_") as root:
        for mode in args.modes:
            tracker = Tracker(args.tracker, args.param, settings=Settings(results_path=f"{root}/{mode}"))
            tic = time.perf_counter()
            if mode == "dask":
                from dask.distributed import LocalCluster

                with LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                  dashboard_address=None) as cluster:
                    results = run_dataset([tracker], dataset, scheduler=cluster.scheduler_address, progress=False)
            else:
                results = run_dataset([tracker], dataset, threads=2 if mode == "pool" else 1, progress=False)
            statuses = [r.status for r in results]
            print(f"{mode:7s} {time.perf_counter() - tic:7.1f} s  {statuses}")
            if any(s != "done" for s in statuses):
                print("\n".join(r.error for r in results if r.error), file=sys.stderr)
                return 1
            digests[mode] = _digests(tracker.results_dir)
    reference = args.modes[0]
    same = all(digests[m] == digests[reference] for m in args.modes)
    for mode in args.modes:
        print(mode, digests[mode])
    print(f"identical result files across {', '.join(args.modes)}: {same}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
