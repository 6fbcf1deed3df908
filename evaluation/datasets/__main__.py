"""Check a local dataset copy (``python -m evaluation.datasets check NAME``); list benchmark sizes
(``python -m evaluation.datasets sizes [--local]``).

Prints one line per sequence with a problem (missing or unreadable frames, ground-truth rows vs
frames, invalid boxes, missing label, range or flag files), a partial copy once, and a one-line
total. Exit status 0 when every sequence checked is fine, 1 otherwise (or when the dataset is not
found, with one line saying where it looked and which setting names it).

Examples::

    python -m evaluation.datasets check lasot
    python -m evaluation.datasets check got10k_val --decode all
    python -m evaluation.datasets check folder:/data/my_sequences
    python -m evaluation.datasets sizes --local

``sizes`` prints each benchmark's sequences and frames (:mod:`evaluation.datasets.sizes`); with
``--local`` also the sequences with frames on disk (and their frames) of each local copy whose path is set.
"""
from __future__ import annotations

import argparse
import sys
from typing import Sequence as TypingSequence

from evaluation.cli_help import PlainHelpFormatter
from evaluation.datasets import DATASET_NAMES
from evaluation.datasets.doctor import check_dataset
from evaluation.settings import SettingsError, load_settings


def main(argv: TypingSequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evaluation.datasets", description=__doc__,
                                     formatter_class=PlainHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check", help="list what is wrong with each sequence of a dataset",
                           description=__doc__, formatter_class=PlainHelpFormatter)
    check.add_argument("name", help=f"dataset: {', '.join(DATASET_NAMES)} or folder:<path>")
    check.add_argument("--decode", choices=("ends", "all", "none"), default="ends",
                       help="frames to decode: the first and last of each sequence (default), all, or none "
                            "(every frame file is always checked to exist)")
    sizes = sub.add_parser("sizes", help="each benchmark's sequences and frames",
                           description=__doc__, formatter_class=PlainHelpFormatter)
    sizes.add_argument("--local", action="store_true",
                       help="also count the sequences and frames of each local copy whose path is set")
    args = parser.parse_args(argv)
    if args.command == "sizes":
        return print_sizes(args.local)
    try:
        report = check_dataset(args.name, load_settings(), decode=args.decode)
    except (OSError, ValueError, SettingsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for line in report.lines():
        print(line)
    return 1 if report.bad else 0


def print_sizes(local: bool) -> int:
    """Print one line per benchmark: sequences, frames and where the count comes from."""
    from evaluation.datasets import available_sequences, get_dataset
    from evaluation.datasets.sizes import benchmark_sizes

    settings = load_settings() if local else None
    for size in benchmark_sizes():
        if size.frames is None:
            frames = "frames not encoded"
        else:
            frames = f"{'about ' if size.approximate else ''}{size.frames} frames ({size.source})"
        line = f"{size.label}: {size.sequences} sequences, {frames}"
        if settings is not None:
            try:
                copy = available_sequences(get_dataset(size.name, settings=settings))
                line += f"; local copy: {len(copy)} sequences with frames on disk, {sum(len(s) for s in copy)} frames"
            except (OSError, ValueError):
                line += "; no local copy"
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
