"""Per-frame benchmarks: ``pytest --benchmark-only benchmarks/`` (see benchmarks/conftest.py).

Each case is one of :func:`benchmarks.core.cases`, measured by the core as the command line
measures it (verified against the reference decode first, the decoder rewound before each round,
a warm-up round, then rounds up to the minimum time), with pytest-benchmark as the timer.
``extra_info`` carries the frame count and fps (pytest-benchmark's ``ops`` counts calls, not frames).
"""

from __future__ import annotations

from typing import Any

import pytest

import loaders
from benchmarks.conftest import Bench, require
from benchmarks.core import Case
from benchmarks.records import Record


def _measure(benchmark: Any, bench: Bench, case: Case) -> Record:
    require(case)
    benchmark.group = " ".join(x for x in (case.measure, case.profile, case.pattern.name if case.pattern else "") if x)
    record = bench.work.measure(case, timer=bench.timer(benchmark))
    bench.record(case, record)
    benchmark.extra_info.update(
        loader=record.loader, kind=record.kind, profile=record.profile, pattern=record.pattern,
        extractor=record.extractor, format=record.format, quality=record.quality, stack=loaders.current_stack(),
        frames=record.frames, exact=record.exact, rounds=len(record.seconds), cell=case.cell,
        fps_median=record.fps_median, fps_p25=record.fps_p25, fps_p75=record.fps_p75)
    return record


def test_read(benchmark: Any, bench: Bench, read_case: Case) -> None:
    record = _measure(benchmark, bench, read_case)
    if record.status == "wrong":
        pytest.fail(f"{read_case.target.key} returned wrong frames, not timed: {record.reason}", pytrace=False)


def test_open(benchmark: Any, bench: Bench, open_case: Case) -> None:
    _measure(benchmark, bench, open_case)
