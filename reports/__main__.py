"""``python -m reports RUN_DIR [--compare OTHER_RUN] [--step-ms T | --target-fps F] [--gpus G]
[--storage-bandwidth RATE]``: CSV tables and report.html into RUN_DIR; the step options remake the
plan for another training step without measuring again."""

from __future__ import annotations

import argparse
import sys

from benchmarks.analysis import training
from benchmarks.analysis.verdict import UnknownPattern
from reports import build
from reports.results import DatasetError
from reports.tables import NothingToReport


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reports", description=__doc__)
    parser.add_argument("run_dir", nargs="?", default="results/latest",
                        help="a run directory holding records.jsonl (default: results/latest)")
    parser.add_argument("--compare", metavar="OTHER_RUN",
                        help="another run: show the change per row in percent (compare.csv)")
    parser.add_argument("--pattern", metavar="NAME",
                        help="the access pattern you train with: the verdict is for it alone "
                             "(default: the run's --pattern, else the best strategy per pattern)")
    training.add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        written = build(args.run_dir, args.compare, args.pattern, training.given(args))
    except (FileNotFoundError, NothingToReport, DatasetError, UnknownPattern) as exc:
        print(f"reports: {exc}", file=sys.stderr)
        return 2
    for path in written.values():
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
