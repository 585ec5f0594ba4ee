"""Per-frame timing: a fixed set of samples read from an already-open source, after verifying it.

Shared by the pytest-benchmark modules (``benchmarks/test_perframe.py``, timed by
``benchmark.pedantic``) and the command line (timed by :func:`time_rounds`, the same protocol:
an untimed setup before each round, warm-up rounds, one call per round).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from typing import Any

import loaders
from benchmarks import env, verify
from benchmarks.patterns import Sample
from benchmarks.records import Measure, Record
from benchmarks.stores import StoreSpec

NULL = "null"  # the baseline loader: timed, never verified


@dataclasses.dataclass(frozen=True)
class Target:
    """One thing to time: a decode loader, or a frame loader on stores of one spec."""

    loader: str
    kind: str
    spec: StoreSpec | None = None

    @property
    def key(self) -> str:
        return self.loader if self.spec is None else f"{self.loader}@{self.spec.label}"

    def record(self, measure: Measure, profile: str, **fields: Any) -> Record:
        """A record for this target with its identity filled in."""
        spec = self.spec
        return Record(measure=measure, loader=self.loader, kind=self.kind, stack=loaders.current_stack(),
                      profile=profile, extractor=spec.extractor if spec else None,
                      format=spec.format if spec else None, quality=spec.quality if spec else None,
                      library=env.library(self.loader), **fields)


def targets(names: Sequence[str], specs: Sequence[StoreSpec]) -> list[Target]:
    """Decode loaders once each; a frame loader once per spec whose format it reads.

    An unavailable frame loader gets one target with no spec, to carry its "unavailable" record.
    """
    out = []
    for name in names:
        kind = loaders.REGISTRY[name][0]
        if kind != "frames" or loaders.available()[name] is not None:
            out.append(Target(name, kind))
        else:
            readable = env.loader_class(name).formats  # type: ignore[attr-defined]
            out += [Target(name, kind, s) for s in specs if s.format in readable]
    return out


def rewind(src: loaders.Source) -> None:
    """Put a stateful decoder back at the start, so every round begins in the same state."""
    src.get_frames([0])


def read_samples(src: loaders.Source, samples: Sequence[Sample]) -> None:
    for s in samples:
        src.get_frames(s.indices)


def time_rounds(fn: Callable[[], object], rounds: int, warmup: int,
                setup: Callable[[], object] | None = None) -> list[float]:
    """Wall seconds of ``rounds`` calls of ``fn`` after ``warmup`` untimed ones; ``setup`` before each."""
    seconds = []
    for i in range(warmup + rounds):
        if setup is not None:
            setup()
        start = time.perf_counter()
        fn()
        elapsed = time.perf_counter() - start
        if i >= warmup:
            seconds.append(elapsed)
    return seconds


def open_close(target: Target, path: str) -> None:
    with loaders.open(target.loader, path):
        pass


def check(target: Target, src: loaders.Source, samples: Sequence[Sample],
          ref: dict[int, Any]) -> verify.Verdict:
    """The loader's answer for every sample against the reference; the null loader is not checked."""
    if target.loader == NULL:
        return verify.Verdict(False, None)
    verdict = verify.Verdict(True, None)
    for s in samples:
        verdict = verdict.merge(verify.check(src.get_frames(s.indices), s.indices, ref))
        if verdict.wrong is not None:
            return verdict
    return verdict


def frames_in(samples: Sequence[Sample]) -> int:
    return sum(len(s) for s in samples)
