"""Per-frame benchmarks: ``pytest --benchmark-only benchmarks/`` (see benchmarks/conftest.py).

Each case opens its source once, verifies the frames it will time against the reference decode,
then times reading a fixed set of samples: one call per round, the decoder rewound to frame 0
before each (untimed), warm-up rounds first. ``extra_info`` carries the frame count and fps
(pytest-benchmark's ``ops`` counts calls, not frames).
"""

from __future__ import annotations

from typing import Any

import pytest

import loaders
from benchmarks import perframe
from benchmarks.conftest import Bench, require
from benchmarks.patterns import Pattern
from benchmarks.perframe import Target


def _fill(benchmark: Any, target: Target, profile: str, **info: Any) -> None:
    spec = target.spec
    benchmark.extra_info.update(loader=target.loader, kind=target.kind, profile=profile,
                                extractor=spec.extractor if spec else None, format=spec.format if spec else None,
                                quality=spec.quality if spec else None, stack=loaders.current_stack(), **info)


def test_read(benchmark: Any, bench: Bench, read_case: tuple[Target, str, Pattern]) -> None:
    target, profile, pattern = read_case
    require(target)
    benchmark.group = f"read {profile} {pattern.name}"
    video = bench.video(profile)
    samples = bench.samples(video, pattern)
    frames = perframe.frames_in(samples)
    with loaders.open(target.loader, bench.path(target, video)) as src:
        verdict = perframe.check(target, src, samples, bench.reference(video, pattern))
        if verdict.wrong is not None:
            bench.record(target.record("per_frame", profile, pattern=pattern.name, frames=frames, status="wrong",
                                       exact=False, reason=verdict.wrong))
            pytest.fail(f"{target.key} returned wrong frames, not timed: {verdict.wrong}", pytrace=False)
        benchmark.pedantic(perframe.read_samples, args=(src, samples), setup=lambda: perframe.rewind(src),
                           rounds=bench.rounds, warmup_rounds=bench.warmup, iterations=1)
    seconds = list(benchmark.stats.stats.data)
    exact = None if target.loader == perframe.NULL else verdict.exact
    record = target.record("per_frame", profile, pattern=pattern.name, frames=frames, seconds=seconds,
                           exact=exact, options={"pattern": pattern.params(), "samples": len(samples)}).with_fps()
    _fill(benchmark, target, profile, pattern=pattern.name, frames=frames, exact=exact, fps_median=record.fps_median,
          fps_p25=record.fps_p25, fps_p75=record.fps_p75)
    bench.record(record)


def test_open(benchmark: Any, bench: Bench, open_case: tuple[Target, str]) -> None:
    target, profile = open_case
    require(target)
    benchmark.group = f"open {profile}"
    path = bench.path(target, bench.video(profile))
    benchmark.pedantic(perframe.open_close, args=(target, path), rounds=bench.rounds, warmup_rounds=bench.warmup,
                       iterations=1)
    _fill(benchmark, target, profile)
    bench.record(target.record("open", profile, seconds=list(benchmark.stats.stats.data)))
