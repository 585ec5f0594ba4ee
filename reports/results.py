"""What reports know of a run's results, in one place: the records, their statistics, the
crossover pairs and the shared words. The rest of ``reports`` reads results only through here,
so a change inside ``benchmarks`` meets the reports at one module.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from benchmarks.analysis import training
from benchmarks.analysis.crossover import Pair, cumulative, gop_of, pairs, span
from benchmarks.analysis.plan import COLUMNS as _PLAN_COLUMNS
from benchmarks.analysis.plan import DEFAULT_EPOCHS, Strategy, project, sample_model
from benchmarks.analysis.summary import fps as record_fps
from benchmarks.analysis.summary import latest
from benchmarks.analysis.summary import overhead as overhead_rows
from benchmarks.analysis.training import Step, step_of
from benchmarks.dataset import Dataset, DatasetError
from benchmarks.dataset import load as load_dataset
from benchmarks.patterns import DESCRIPTIONS as PATTERN_DESCRIPTIONS
from benchmarks.records import Malformed, Record, fps_stats, measured, valid_seconds
from benchmarks.records import describe as describe_malformed
from benchmarks.records import scan as _scan
from benchmarks.videos import unreadable
from loaders.registry import REGISTRY, STACKS
from loaders.vocabulary import BASELINE, DECODE, FRAMES, TRANSCODED, store_label

__all__ = [
    "BASELINE", "DECODE", "DEFAULT_EPOCHS", "FRAMES", "PLAN_COLUMNS", "STACKS", "TRANSCODED", "Dataset",
    "DatasetError", "Malformed", "Pair", "Record", "Strategy", "cumulative", "describe_malformed",
    "describe_pattern", "fps_stats", "gop_of", "latest", "load_dataset", "loader_note", "measured", "overhead_rows",
    "pairs", "project", "read", "record_fps", "sample_model", "scan", "skipped", "span", "Step", "step_of",
    "store_label", "training", "unreadable", "valid_seconds",
]

log = logging.getLogger("benchmarks.records")  # the warnings of reading records come from one logger

# plan.csv: the plan's columns, then training's (empty without a step).
PLAN_COLUMNS = [*_PLAN_COLUMNS, *training.COLUMNS]

# Records written before the baseline was renamed: read under today's name.
_OLD_BASELINE = "null"


def read(path: str | os.PathLike[str]) -> Iterator[Record]:
    """The records of a run's ``records.jsonl``; lines that are not records are skipped with one
    warning naming them (see :func:`scan` for the list)."""
    found, malformed = scan(path)
    if malformed:
        log.warning("%s", describe_malformed(path, malformed))
    yield from found


def scan(path: str | os.PathLike[str]) -> tuple[list[Record], list[Malformed]]:
    """(the records of a run's ``records.jsonl``, the lines that are not records and why)."""
    found, malformed = _scan(Path(path))
    for record in found:
        if record.loader == _OLD_BASELINE:
            record.loader = BASELINE
    return found, malformed


def describe_pattern(name: str) -> str:
    """What a pattern asks of a loader: ``random-clip-s2`` is described as ``random-clip``."""
    for base, text in PATTERN_DESCRIPTIONS.items():
        if name == base or name.startswith(f"{base}-") or (base == "uniform-k" and name.startswith("uniform-")):
            return text
    return ""


def loader_note(name: str) -> str:
    """What the report says about a loader beyond its name (cv2-seek: the per-frame-seek worst case)."""
    entry = REGISTRY.get(name)
    return entry.note if entry else ""


def skipped(dataset: Dataset | None, records: Iterable[Record]) -> list[dict[str, str]]:
    """Every file and folder the run left out of the dataset, with why ({"path", "reason"}, by path):
    the dataset's list, and the videos the run's probe records skipped."""
    left = {**unreadable(records), **{d["path"]: d["reason"] for d in (dataset.skipped if dataset else [])}}
    return [{"path": path, "reason": why} for path, why in sorted(left.items())]
